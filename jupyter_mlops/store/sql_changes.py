"""The store's change marks: one cheap read that tells the Jupyter server whether anything a
view shows has changed since the last look (:mod:`jupyter_mlops.views.changes`).

Every probe is an index probe or a read of a small table, so a look costs the same over 100
runs or 100,000 (``benchmarks/bench_changes.py``), and it needs no schema change:

- runs: the newest run by ``started`` (index ``runs_started``) and the runs still running
  (index ``runs_status``): a run starting changes the first, a run ending (finished, failed,
  interrupted) leaves the second;
- models: the count and latest time of ``model_events`` (a bless, a rollback, a registration)
  and of ``model_versions`` (a stage change moves ``updated``);
- monitors: the latest ``monitor_events`` id (an evaluation, a breach, an action);
- pipelines: the ``pipelines`` table (a promotion or an edited spec).

What it does not see: an edit to a finished run (a tag added later) and a run deleted; the
panel's refresh button covers those.
"""

from __future__ import annotations

from typing import Any

from .sql_common import SQLTables

# Each kind's probes; their rows together are the kind's mark.
_PROBES: dict[str, tuple[str, ...]] = {
    "runs": (
        "SELECT id, kind, started FROM runs ORDER BY started DESC LIMIT 1",
        "SELECT id, kind FROM runs WHERE status = 'running' ORDER BY id",
    ),
    "models": (
        "SELECT count(*), max(time) FROM model_events",
        "SELECT count(*), max(updated) FROM model_versions",
    ),
    "monitors": ("SELECT max(id) FROM monitor_events",),
    "pipelines": ("SELECT count(*), max(updated) FROM pipelines",),
}


class ChangeMarks(SQLTables):
    def change_marks(self) -> dict[str, Any]:
        """A value per kind of record (runs, models, monitors, pipelines) that differs from the
        last one whenever that kind changed; compared, never interpreted. One read snapshot."""
        marks: dict[str, Any] = {}
        with self._read() as conn:
            for kind, probes in _PROBES.items():
                marks[kind] = tuple(
                    tuple(tuple(row) for row in conn.execute(sql).fetchall()) for sql in probes
                )
        return marks
