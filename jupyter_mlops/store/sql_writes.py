"""Writing runs to the SQL store: created at once, updated in one transaction per update or
batch (the background writer's unit, with its journal mark), kept alive by heartbeats, and
marked interrupted when their process is gone."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from . import rows
from .base import RunStart, RunUpdate
from .dialect import Connection
from .liveness import hostname, is_alive
from .sql_common import SQLTables, _json

log = logging.getLogger(__name__)

STALE_HEARTBEAT_SECONDS = 600.0
_INTERRUPTED = (
    "The process recording this run ended before the run's end was recorded (killed or crashed,"
    " or the store was unreachable until it exited)"
)


class RunWrites(SQLTables):
    """The run-writing half of :class:`~.sql.SQLStore`."""

    def create_run(self, start: RunStart) -> None:
        self._write(lambda conn: self._insert_run(conn, start))

    def update_run(self, run_id: str, update: RunUpdate) -> None:
        if not update.is_empty():
            self._write(lambda conn: self._apply_update(conn, run_id, update))

    def write_batch(
        self,
        writes: Sequence[RunStart | tuple[str, RunUpdate]],
        on_busy: Callable[[], None] | None = None,
        journal_mark: tuple[str, int] | None = None,
    ) -> None:
        def apply(conn: Connection) -> None:
            for w in writes:
                if isinstance(w, RunStart):
                    self._insert_run(conn, w)
                elif not w[1].is_empty():
                    self._apply_update(conn, *w)
            if journal_mark is not None:
                conn.execute(self._sql.journal_mark, journal_mark)

        self._write(apply, on_busy)

    def journal_mark(self, journal: str) -> int | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT position FROM journal_marks WHERE journal = ?", (journal,)
            ).fetchone()
        return int(row[0]) if row else None

    def forget_journal_mark(self, journal: str) -> None:
        self._write(
            lambda conn: conn.execute("DELETE FROM journal_marks WHERE journal = ?", (journal,))
        )

    def heartbeat(self, run_ids: list[str], now: float) -> None:
        if run_ids:
            self._write(
                lambda conn: conn.executemany(
                    "UPDATE runs SET heartbeat = ? WHERE id = ? AND status = 'running'",
                    [(now, rid) for rid in run_ids],
                )
            )

    def mark_interrupted_runs(self) -> list[str]:
        with self._read() as conn:
            found = conn.execute(
                "SELECT id, host, pid, pid_start, heartbeat, started FROM runs"
                " WHERE status = 'running'"
            ).fetchall()
        now, host = time.time(), hostname()
        dead = []
        for rid, run_host, pid, pid_start, beat, started in found:
            if run_host == host and pid is not None:
                alive = is_alive(pid, pid_start)
            else:  # another machine: only a stale heartbeat tells
                alive = now - (beat or started) < STALE_HEARTBEAT_SECONDS
            if not alive:
                dead.append(rid)
        if dead:
            self._write(
                lambda conn: conn.executemany(
                    "UPDATE runs SET status = 'interrupted', error = ?,"
                    " ended = COALESCE(heartbeat, started), duration = COALESCE(heartbeat, "
                    "started) - started WHERE id = ? AND status = 'running'",
                    [(_INTERRUPTED, rid) for rid in dead],
                )
            )
            log.info("marked %d run(s) interrupted: %s", len(dead), ", ".join(dead))
        return dead

    def _insert_run(self, conn: Connection, start: RunStart) -> None:
        conn.execute(self._sql.experiment, (start.experiment, start.started))
        conn.execute(
            "INSERT INTO runs (id, experiment, name, parent_id, kind, status, started, seed,"
            " notebook, execution_count, host, pid, pid_start, heartbeat)"
            " VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                start.id,
                start.experiment,
                start.name,
                start.parent_id,
                start.kind.value,
                start.started,
                start.seed,
                start.notebook,
                start.execution_count,
                start.host,
                start.pid,
                start.pid_start,
                start.started,
            ),
        )

    def _apply_update(self, conn: Connection, rid: str, u: RunUpdate) -> None:
        sql = self._sql
        if u.params:
            conn.executemany(sql.param, [(rid, k, _json(v)) for k, v in u.params.items()])
        if u.metrics:
            # NaN is written as NULL, as SQLite would anyway, so every backend stores the same.
            metrics = [
                (rid, k, step, None if math.isnan(v) else v, t) for k, v, step, t in u.metrics
            ]
            conn.executemany(
                "INSERT INTO metrics (run_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)",
                metrics,
            )
            conn.executemany(sql.latest, metrics)
        if u.tags:
            conn.executemany(sql.tag, [(rid, k, str(v)) for k, v in u.tags.items()])
        if u.data:
            conn.executemany(sql.data, [rows.data_row(rid, d, _json) for d in u.data])
        if u.artifacts:
            conn.executemany(
                sql.artifact,
                [(rid, a.name, a.kind, a.sha256, a.size, a.uri) for a in u.artifacts],
            )
        if u.code:
            conn.executemany(sql.code, list(u.code.items()))
        if u.environment:
            e = u.environment
            conn.execute(sql.environment, (e.id, e.python, e.platform, _json(e.packages)))
        _update_run_row(conn, rid, u)


def _update_run_row(conn: Connection, rid: str, u: RunUpdate) -> None:
    sets: dict[str, Any] = {}
    if u.code_sha is not None:
        sets["code_sha"] = u.code_sha
    if u.history is not None:
        # Hex digests, already JSON: the session's whole history goes with every tracked cell,
        # so cleaning each entry (to_jsonable) cost ~1 us per cell of the session, every cell.
        sets["history"] = json.dumps(u.history)
    if u.environment is not None:
        sets["environment_id"] = u.environment.id
    if u.git is not None:
        sets.update(
            git_commit=u.git.commit,
            git_branch=u.git.branch,
            git_dirty=None if u.git.dirty is None else int(u.git.dirty),
            git_diff_hash=u.git.diff_hash,
        )
    if u.peak_memory is not None:
        sets["peak_memory"] = u.peak_memory
    if u.stdout_tail is not None:
        sets["stdout_tail"] = u.stdout_tail
    if u.status is not None:
        sets.update(status=u.status.value, ended=u.ended, duration=u.duration, error=u.error)
    if u.warnings:
        row = conn.execute("SELECT warnings FROM runs WHERE id = ?", (rid,)).fetchone()
        old = json.loads(row[0]) if row and row[0] else []
        sets["warnings"] = _json(old + [w for w in u.warnings if w not in old])
    if sets:
        cols = ", ".join(f"{k} = ?" for k in sets)
        conn.execute(f"UPDATE runs SET {cols} WHERE id = ?", [*sets.values(), rid])
