"""The SQL store every backend shares: run writes and queries and migrations here; pipelines,
gate results and the model registry in ``sql_registry.py``, the scheduler's tables in
``sql_schedule.py``, both mixins over the transactions of ``sql_common.py``.

Statements are written once, in SQL that SQLite and PostgreSQL both accept; what they spell
differently comes from the backend's :class:`~.dialect.Dialect`. A backend subclass supplies
connections and transactions (``_write`` and ``_read``) and nothing else. Filters compile in
``query.py``; rows decode in ``rows.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..codec import epoch
from ..entities import (
    Environment,
    Run,
    RunsPage,
)
from ..exceptions import (
    AmbiguousRunIdError,
    ExperimentNotFoundError,
    RunNotFoundError,
    SchemaVersionError,
    StoreError,
    ValidationError,
)
from . import rows, schema
from .base import RunStart, RunStore, RunUpdate
from .dialect import Connection, Dialect
from .liveness import hostname, is_alive
from .query import (
    GATE_OUTCOMES,
    Query,
    compile_query,
    decode_cursor,
    encode_cursor,
    unknown_key_error,
)
from .sql_common import Statements, _json
from .sql_monitor import MonitorTables
from .sql_notify import NotifyTables
from .sql_registry import RegistryTables
from .sql_schedule import ScheduleTables

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

STALE_HEARTBEAT_SECONDS = 600.0
_INTERRUPTED = (
    "The process recording this run ended before the run's end was recorded (killed or crashed,"
    " or the store was unreachable until it exited)"
)


class SQLStore(RegistryTables, ScheduleTables, MonitorTables, NotifyTables, RunStore):
    """A :class:`RunStore` over SQL; subclasses provide ``_write``, ``_read`` and ``close``."""

    dialect: Dialect

    def __init__(self, location: str, workdir: Path, dialect: Dialect) -> None:
        self.location = location
        self.workdir = workdir
        self.dialect = dialect
        self._sql = Statements(dialect)

    # -- schema ----------------------------------------------------------------------------------
    def _schema_version(self) -> int | None:
        """The store's schema version, read without the write lock, so that opening a store
        another process is writing to does not wait for it; None when it cannot be read."""
        try:
            with self._read() as conn:
                if not conn.execute(self.dialect.table_exists(), ("schema_info",)).fetchone():
                    return None
                row = conn.execute("SELECT version FROM schema_info").fetchone()
        except StoreError:  # a new or damaged database: the write path decides and reports
            return None
        return row[0] if row else None

    def _migrate(self, conn: Connection) -> None:
        lock = self.dialect.migration_lock()
        if lock:
            conn.execute(lock)
        row = None
        if conn.execute(self.dialect.table_exists(), ("schema_info",)).fetchone():
            row = conn.execute("SELECT version FROM schema_info").fetchone()
        version = row[0] if row else 0
        if version > schema.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"The store {self.location} has schema version {version}, newer than this "
                f"jupyter-mlops understands ({schema.SCHEMA_VERSION}); upgrade jupyter-mlops"
            )
        types = self.dialect.types
        if version == 0:  # a new store: the baseline tables, then every migration
            for stmt in schema.render(types):
                conn.execute(stmt)
            conn.execute("DELETE FROM schema_info")
            conn.execute("INSERT INTO schema_info (version) VALUES (?)", (schema.BASELINE_VERSION,))
            version = schema.BASELINE_VERSION
        while version < schema.SCHEMA_VERSION:
            for stmt in schema.render_migration(version, types):
                conn.execute(stmt)
            version += 1
            conn.execute("UPDATE schema_info SET version = ?", (version,))

    # -- writing runs ----------------------------------------------------------------------------
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

    # -- reading runs ----------------------------------------------------------------------------
    def _resolve_id(self, conn: Connection, run_id: str) -> str:
        run_id = run_id.strip()
        if not run_id or any(c not in "0123456789abcdef" for c in run_id.lower()):
            raise RunNotFoundError(run_id, self.location)
        row = conn.execute("SELECT id FROM runs WHERE id = ?", (run_id.lower(),)).fetchone()
        if row:
            return str(row[0])
        matches = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
                (run_id.lower(), run_id.lower() + "g"),
            )
        ]
        if not matches:
            raise RunNotFoundError(run_id, self.location)
        if len(matches) > 1:
            raise AmbiguousRunIdError(run_id, matches)
        return str(matches[0])

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            return self._load_run(conn, self._resolve_id(conn, run_id))

    def _load_run(self, conn: Connection, rid: str) -> Run:
        row = rows.records(conn.execute("SELECT * FROM runs WHERE id = ?", (rid,)))[0]
        children = {
            name: rows.records(conn.execute(f"SELECT * FROM {name} WHERE run_id = ?", (rid,)))
            for name in ("params", "latest_metrics", "tags", "data", "artifacts")
        }
        code = None
        if row["code_sha"]:
            found = conn.execute("SELECT text FROM code WHERE sha = ?", (row["code_sha"],))
            text = found.fetchone()
            code = text[0] if text else None
        return rows.build_run(row, children, code)

    def previous_run(
        self, experiment: str, before: float | dt.datetime, exclude: str
    ) -> Run | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT id FROM runs WHERE experiment = ? AND started <= ? AND id != ?"
                # a reproduction's runs re-record old cells: never anyone's previous run
                " AND id NOT IN (SELECT run_id FROM tags WHERE key = 'reproduces')"
                " ORDER BY started DESC LIMIT 1",
                (experiment, epoch(before), exclude),
            ).fetchone()
            return self._load_run(conn, row[0]) if row else None

    def search_run_ids(
        self,
        *,
        experiment: str | None = None,
        where: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int | None = None,
        parent_id: str | None = None,
        text: str | None = None,
    ) -> list[str]:
        q = compile_query(where, order_by, self.dialect)
        with self._read() as conn:
            return self._select_ids(conn, q, experiment, parent_id, limit, text=text)

    def _select_ids(
        self,
        conn: Connection,
        q: Query,
        experiment: str | None,
        parent_id: str | None,
        limit: int | None,
        after: tuple[str, list[Any]] | None = None,
        offset: int = 0,
        text: str | None = None,
    ) -> list[str]:
        """Ids of the runs ``q`` selects, in its order; ``after`` is a keyset condition and
        ``text`` a case-insensitive substring of the name, experiment, a tag key or value."""
        conds, args = [q.where], list(q.args)
        if text:
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            match = f"{self.dialect.ilike} ? ESCAPE '\\'"
            conds.append(
                f"(r.name {match} OR r.experiment {match} OR EXISTS (SELECT 1 FROM tags t"
                f" WHERE t.run_id = r.id AND (t.key {match} OR t.value {match})))"
            )
            args += [like] * 4
        for cond, value in (("r.experiment = ?", experiment), ("r.parent_id = ?", parent_id)):
            if value is not None:
                conds.append(cond)
                args.append(value)
        if after is not None:
            conds.append(after[0])
            args.extend(after[1])
        self._check_order_keys(conn, q.order_keys)
        if limit is not None and not offset and _single_metric_order(q):
            return self._top_by_metric(conn, q, conds, args, int(limit))
        sql = (
            f"SELECT r.id FROM runs r {' '.join(q.joins)} WHERE {' AND '.join(conds)}"
            f" ORDER BY {q.order}, r.id"
        )
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [int(limit), offset]
        return [r[0] for r in conn.execute(sql, args)]

    def _top_by_metric(
        self, conn: Connection, q: Query, conds: list[str], args: list[Any], limit: int
    ) -> list[str]:
        """Top-N by one metric, walking the (key, value) index instead of sorting every run:
        the first page of 100,000 runs sorted by a metric takes milliseconds, not 300 ms. Runs
        without the metric come last, as in the general query."""
        key = q.order_keys[0][1]
        a = q.alias("metrics", key)
        direction = q.order.rsplit(" ", 1)[-1]
        joins, rest = " ".join(q.joins), args[len(q.join_args) :]
        top = [
            r[0]
            for r in conn.execute(
                f"SELECT r.id FROM latest_metrics o {self.dialect.ordered_join} runs r"
                " ON r.id = o.run_id"
                f" {joins} WHERE o.key = ? AND o.value IS NOT NULL AND {' AND '.join(conds)}"
                f" ORDER BY o.value {direction}, r.id LIMIT ?",
                [*q.join_args, key, *rest, limit],
            )
        ]
        if len(top) < limit:
            top += [
                r[0]
                for r in conn.execute(
                    f"SELECT r.id FROM runs r {joins} WHERE {' AND '.join(conds)}"
                    f" AND {a}.value IS NULL ORDER BY r.id LIMIT ?",
                    [*args, limit - len(top)],
                )
            ]
        return top

    def _check_order_keys(self, conn: Connection, keys: list[tuple[str, str]]) -> None:
        for ns, key in keys:
            table = "latest_metrics" if ns == "metrics" else ns
            if conn.execute(f"SELECT 1 FROM {table} WHERE key = ? LIMIT 1", (key,)).fetchone():
                continue
            known = [r[0] for r in conn.execute(f"SELECT DISTINCT key FROM {table} ORDER BY key")]
            raise unknown_key_error(ns, key, known, self.location)

    def runs_frame(
        self,
        *,
        experiment: str | None = None,
        where: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        with self._read() as conn:
            if where is None and order_by is None and limit is None:
                cond, args = (
                    ("1=1", []) if experiment is None else ("r.experiment = ?", [experiment])
                )
                found = self._listing(conn, "", "r.started DESC, r.id", args, cond)
            else:
                q = compile_query(where, order_by, self.dialect)
                found = self._selected(conn, self._select_ids(conn, q, experiment, None, limit))
        if not found[0]:
            self._check_experiment(experiment)
        return rows.frame_from_rows(*found)

    def runs_page(
        self,
        *,
        experiment: str | None = None,
        where: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunsPage:
        """Runs as ``runs_frame`` filters and orders them, ``limit`` at a time. The default
        order (newest first) pages by keyset, so a page deep in 100,000 runs costs what the
        first does; an explicit ``order_by`` pages by offset."""
        if limit < 1:
            raise ValidationError(f"A page needs a limit of at least 1, got {limit}")
        q = compile_query(where, order_by, self.dialect)
        tag = hashlib.sha1(repr((experiment, where, order_by)).encode()).hexdigest()[:8]
        position = decode_cursor(cursor, tag) if cursor else {}
        keyset = order_by is None
        after = None
        if keyset and "k" in position:
            started, rid = position["k"]
            after = ("(r.started < ? OR (r.started = ? AND r.id > ?))", [started, started, rid])
        offset = 0 if keyset else int(position.get("o", 0))
        with self._read() as conn:
            ids = self._select_ids(conn, q, experiment, None, limit + 1, after, offset)
            found = self._selected(conn, ids[:limit])
        if not found[0] and cursor is None:
            self._check_experiment(experiment)
        page = tuple(rows.run_rows(*found))
        nxt = None
        if len(ids) > limit:
            last = found[0][len(page) - 1]  # the stored epoch seconds, not the datetime (µs)
            nxt = encode_cursor(
                {"q": tag, "k": [last[6], last[0]]} if keyset else {"q": tag, "o": offset + limit}
            )
        return RunsPage(page, nxt)

    def _check_experiment(self, experiment: str | None) -> None:
        # Only an empty answer needs the check: a known experiment with no match is fine.
        if experiment is not None:
            known = self.experiments()
            if experiment not in known:
                raise ExperimentNotFoundError(experiment, known, self.location)

    def _selected(self, conn: Connection, ids: list[str]) -> tuple[list[Any], ...]:
        """The listing of these runs, in this order (through a temporary table of positions,
        or, where the driver binds lists, one list parameter: a server's read-only snapshot may
        not create tables, even temporary ones)."""
        in_ids = self.dialect.in_list("r.id")
        if in_ids is not None:
            by_run = self.dialect.in_list("run_id")
            found = self._listing(conn, "", "r.id", [ids], in_ids, by_run)
            position = {rid: i for i, rid in enumerate(ids)}
            return (sorted(found[0], key=lambda row: position[row[0]]), *found[1:])
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS sel (pos INTEGER, id TEXT)")
        conn.execute("DELETE FROM sel")
        conn.executemany("INSERT INTO sel VALUES (?, ?)", list(enumerate(ids)))
        return self._listing(
            conn, "JOIN sel s ON s.id = r.id", "s.pos", [], "r.id IN (SELECT id FROM sel)"
        )

    def _listing(
        self,
        conn: Connection,
        join: str,
        order: str,
        args: list[Any],
        cond: str,
        child_cond: str | None = None,
    ) -> tuple[list[Any], ...]:
        """(runs, params, latest metrics) rows of the runs matching ``cond``, in one snapshot;
        ``child_cond`` selects the same runs' params and metrics by ``run_id`` alone."""
        found = conn.execute(
            f"SELECT {rows.LISTED_SQL} FROM runs r {join}"
            f" LEFT JOIN ({GATE_OUTCOMES}) g ON g.run_id = r.id"
            f" LEFT JOIN ({self._sql.run_models}) mv ON mv.run_id = r.id"
            f" WHERE {cond} ORDER BY {order}",
            args,
        ).fetchall()
        if cond == "1=1":  # every run: no join needed
            params = conn.execute("SELECT run_id, key, value FROM params").fetchall()
            metrics = conn.execute("SELECT run_id, key, value FROM latest_metrics").fetchall()
            return found, params, metrics
        if child_cond is not None:
            params = conn.execute(
                f"SELECT run_id, key, value FROM params WHERE {child_cond}", args
            ).fetchall()
            metrics = conn.execute(
                f"SELECT run_id, key, value FROM latest_metrics WHERE {child_cond}", args
            ).fetchall()
            return found, params, metrics
        rid_cond = cond.replace("r.", "x.")
        params = conn.execute(
            f"SELECT p.run_id, p.key, p.value FROM params p JOIN runs x ON x.id = p.run_id"
            f" WHERE {rid_cond}",
            args,
        ).fetchall()
        metrics = conn.execute(
            f"SELECT m.run_id, m.key, m.value FROM latest_metrics m JOIN runs x ON"
            f" x.id = m.run_id WHERE {rid_cond}",
            args,
        ).fetchall()
        return found, params, metrics

    def metric_history(self, run_id: str, key: str | None = None) -> pd.DataFrame:
        import pandas as pd

        with self._read() as conn:
            rid = self._resolve_id(conn, run_id)
            sql = "SELECT key, step, value, time FROM metrics WHERE run_id = ?"
            args: list[Any] = [rid]
            if key is not None:
                sql += " AND key = ?"
                args.append(key)
            found = conn.execute(sql + " ORDER BY key, step, time", args).fetchall()
        frame = pd.DataFrame(found, columns=["key", "step", "value", "time"])
        frame["value"] = frame["value"].astype("float64")
        return frame

    def get_code(self, shas: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        with self._read() as conn:
            for i in range(0, len(shas), 500):
                chunk = shas[i : i + 500]
                marks = ",".join("?" * len(chunk))
                found = conn.execute(f"SELECT sha, text FROM code WHERE sha IN ({marks})", chunk)
                out.update((sha, text) for sha, text in found.fetchall())
        return out

    def get_environment(self, env_id: str) -> Environment | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT id, python, platform, packages FROM environments WHERE id = ?", (env_id,)
            ).fetchone()
        return Environment(row[0], row[1], row[2], json.loads(row[3])) if row else None

    def experiments(self) -> list[str]:
        with self._read() as conn:
            return [r[0] for r in conn.execute("SELECT name FROM experiments ORDER BY name")]


def _update_run_row(conn: Connection, rid: str, u: RunUpdate) -> None:
    sets: dict[str, Any] = {}
    if u.code_sha is not None:
        sets["code_sha"] = u.code_sha
    if u.history is not None:
        sets["history"] = _json(u.history)
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


__all__ = ["SQLStore"]


def _single_metric_order(q: Query) -> bool:
    """True when ``q`` orders by exactly one metric and nothing else."""
    if len(q.order_keys) != 1 or q.order_keys[0][0] != "metrics":
        return False
    a = q.alias("metrics", q.order_keys[0][1])
    return q.order in (f"({a}.value IS NULL), {a}.value {d}" for d in ("ASC", "DESC"))
