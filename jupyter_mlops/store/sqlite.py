"""The embedded store: ``<dir>/mlops.db`` (SQLite in WAL mode) and ``<dir>/artifacts/``.

Writers take the write lock up front (``BEGIN IMMEDIATE``) and retry on ``database is locked``
with backoff, so eight processes recording at once queue up instead of failing. One connection
per thread: the heartbeat thread and the caller never share a cursor.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..entities import Environment
from ..exceptions import (
    ExperimentNotFoundError,
    SchemaVersionError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)
from . import schema
from .artifacts import ArtifactStore
from .base import RunStart, RunStore, RunUpdate
from .liveness import hostname, is_alive
from .query import GATE_OUTCOMES, Query, compile_query, unknown_key_error
from .registry_sql import RegistrySQL
from .rows import build_run, frame_from_rows
from .schedule_sql import ScheduleSQL
from .writer import existing_writer

if TYPE_CHECKING:
    import pandas as pd

    from ..entities import Run

log = logging.getLogger(__name__)
T = TypeVar("T")

DB_NAME = "mlops.db"
LOCK_RETRY_SECONDS = 120.0
BUSY_TIMEOUT_MS = 30000
BUSY_POLL_MS = 10
STALE_HEARTBEAT_SECONDS = 600.0


# The model versions each run registered, with their stages. A version belongs to the run that
# logged it and to that run's parent: a pipeline run registers the model its notebook's cell
# logged. Aggregated once per query (model_versions is small), never per row.
_RUN_MODELS = (
    "SELECT o.rid AS run_id, group_concat(o.ref, ', ') AS model,"
    " group_concat(o.stage, ', ') AS stage FROM ("
    "SELECT v.run_id AS rid, v.name || '@' || v.version AS ref, v.stage, v.name, v.version"
    " FROM model_versions v"
    " UNION SELECT x.parent_id, v.name || '@' || v.version, v.stage, v.name, v.version"
    " FROM model_versions v JOIN runs x ON x.id = v.run_id WHERE x.parent_id IS NOT NULL"
    " ORDER BY 4, 5) o GROUP BY o.rid"
)


def _json(value: Any) -> str:
    return json.dumps(value, default=str, allow_nan=True)


class SQLiteStore(RegistrySQL, ScheduleSQL, RunStore):
    def __init__(self, directory: str | os.PathLike[str], *, create: bool = True) -> None:
        self.directory = Path(directory)
        self.db_path = self.directory / DB_NAME
        self.location = str(self.db_path)
        if not create and not self.db_path.is_file():
            raise StoreNotFoundError(str(self.directory), os.getcwd())
        self.artifacts = ArtifactStore(self.directory / "artifacts")
        self._local = threading.local()
        self._closed = False
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreUnavailableError(
                f"Cannot create the store directory {self.directory}: {e.strerror or e}; "
                "set JUPYTER_MLOPS_STORE to a writable directory"
            ) from e
        if self._schema_version() != schema.SCHEMA_VERSION:
            self._write(self._migrate)

    def _schema_version(self) -> int | None:
        """The store's schema version, read without the write lock, so that opening a store
        another process is writing to does not wait for it; None when it cannot be read."""
        try:
            with self._read() as conn:
                if not conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_info'"
                ).fetchone():
                    return None
                row = conn.execute("SELECT version FROM schema_info").fetchone()
        except StoreError:  # a new or damaged file: the write path decides and reports
            return None
        return row[0] if row else None

    # -- connections and transactions -------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"The store {self.db_path} was closed; open it again")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.db_path, timeout=30, isolation_level=None, check_same_thread=False
                )
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                # NORMAL in WAL mode is durable against application crashes (kill -9); only an
                # OS crash can lose the last commits, which keeps a commit well under a millisecond.
                conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as e:
                raise self._unavailable(e) from e
            self._local.conn = conn
            self._local.busy_ms = BUSY_TIMEOUT_MS
        return conn

    def _set_busy_timeout(self, conn: sqlite3.Connection, ms: int) -> None:
        if self._local.busy_ms != ms:
            conn.execute(f"PRAGMA busy_timeout = {ms}")
            self._local.busy_ms = ms

    def _unavailable(self, e: Exception) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"Cannot write the run store {self.db_path}: {e}; check that the directory is "
            "writable and the disk has space, or set JUPYTER_MLOPS_STORE to another directory"
        )

    def _write(
        self, fn: Callable[[sqlite3.Connection], T], on_busy: Callable[[], None] | None = None
    ) -> T:
        """Run ``fn`` in one write transaction, retrying while another process holds the lock.

        With ``on_busy`` (the background writer), SQLite gives up on a held lock after a few
        milliseconds and ``on_busy`` is called before each retry, so the writer's waiters learn
        at once that the store is contended instead of after the 30 s busy timeout."""
        deadline = time.monotonic() + LOCK_RETRY_SECONDS
        delay, max_delay = 0.005, (0.1 if on_busy else 0.5)
        while True:
            conn = self._conn()
            self._set_busy_timeout(conn, BUSY_POLL_MS if on_busy else BUSY_TIMEOUT_MS)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(conn)
                    conn.execute("COMMIT")
                    return result
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as e:
                msg = str(e).lower()
                if ("locked" in msg or "busy" in msg) and time.monotonic() < deadline:
                    if on_busy is not None:
                        on_busy()
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, max_delay)
                    continue
                raise self._unavailable(e) from e
            except sqlite3.DatabaseError as e:
                raise self._unavailable(e) from e

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: the queries inside see one snapshot (WAL), so a run committed
        by another process between two of them cannot appear half-listed."""
        conn = self._conn()
        if conn.in_transaction:  # nested: the outer read already holds the snapshot
            yield conn
            return
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            raise StoreError(f"Cannot read the run store {self.db_path}: {e}") from e

    def _migrate(self, conn: sqlite3.Connection) -> None:
        row = None
        has_info = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_info'"
        ).fetchone()
        if has_info:
            row = conn.execute("SELECT version FROM schema_info").fetchone()
        version = row[0] if row else 0
        if version > schema.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"The store {self.db_path} has schema version {version}, newer than this "
                f"jupyter-mlops understands ({schema.SCHEMA_VERSION}); upgrade jupyter-mlops"
            )
        if version == 0:  # a new store: the baseline tables, then every migration
            for stmt in schema.render(schema.SQLITE_TYPES):
                conn.execute(stmt)
            conn.execute("DELETE FROM schema_info")
            conn.execute("INSERT INTO schema_info (version) VALUES (?)", (schema.BASELINE_VERSION,))
            version = schema.BASELINE_VERSION
        while version < schema.SCHEMA_VERSION:
            for stmt in schema.MIGRATIONS[version]:
                conn.execute(stmt.format(**schema.SQLITE_TYPES))
            version += 1
            conn.execute("UPDATE schema_info SET version = ?", (version,))

    # -- writing -------------------------------------------------------------------------------
    def create_run(self, start: RunStart) -> None:
        self._write(lambda conn: _insert_run(conn, start))

    def update_run(self, run_id: str, update: RunUpdate) -> None:
        if not update.is_empty():
            self._write(lambda conn: _apply_update(conn, run_id, update))

    def write_batch(
        self,
        writes: Sequence[RunStart | tuple[str, RunUpdate]],
        on_busy: Callable[[], None] | None = None,
    ) -> None:
        def apply(conn: sqlite3.Connection) -> None:
            for w in writes:
                if isinstance(w, RunStart):
                    _insert_run(conn, w)
                elif not w[1].is_empty():
                    _apply_update(conn, *w)

        self._write(apply, on_busy)

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
            rows = conn.execute(
                "SELECT id, host, pid, pid_start, heartbeat, started FROM runs"
                " WHERE status = 'running'"
            ).fetchall()
        now, host = time.time(), hostname()
        dead = []
        for rid, run_host, pid, pid_start, beat, started in rows:
            if run_host == host and pid is not None:
                alive = is_alive(pid, pid_start)
            else:  # another machine: only a stale heartbeat tells
                alive = now - (beat or started) < STALE_HEARTBEAT_SECONDS
            if not alive:
                dead.append(rid)
        if dead:
            msg = "The process recording this run ended before the run finished (killed or crashed)"

            def mark(conn: sqlite3.Connection) -> None:
                conn.executemany(
                    "UPDATE runs SET status = 'interrupted', error = ?,"
                    " ended = COALESCE(heartbeat, started), duration = COALESCE(heartbeat, "
                    "started) - started WHERE id = ? AND status = 'running'",
                    [(msg, rid) for rid in dead],
                )

            self._write(mark)
            log.info("marked %d run(s) interrupted: %s", len(dead), ", ".join(dead))
        return dead

    # -- reading -------------------------------------------------------------------------------
    def _resolve_id(self, conn: sqlite3.Connection, run_id: str) -> str:
        from ..exceptions import AmbiguousRunIdError, RunNotFoundError

        run_id = run_id.strip()
        if not run_id or any(c not in "0123456789abcdef" for c in run_id.lower()):
            raise RunNotFoundError(run_id, str(self.db_path))
        row = conn.execute("SELECT id FROM runs WHERE id = ?", (run_id.lower(),)).fetchone()
        if row:
            return row[0]
        matches = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM runs WHERE id >= ? AND id < ? LIMIT 6",
                (run_id.lower(), run_id.lower() + "g"),
            )
        ]
        if not matches:
            raise RunNotFoundError(run_id, str(self.db_path))
        if len(matches) > 1:
            raise AmbiguousRunIdError(run_id, matches)
        return matches[0]

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            rid = self._resolve_id(conn, run_id)
            return self._load_run(conn, rid)

    def _load_run(self, conn: sqlite3.Connection, rid: str) -> Run:
        conn.row_factory = sqlite3.Row
        try:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (rid,)).fetchone()
            children = {
                name: conn.execute(f"SELECT * FROM {name} WHERE run_id = ?", (rid,)).fetchall()
                for name in ("params", "latest_metrics", "tags", "data", "artifacts")
            }
            code = None
            if row["code_sha"]:
                c = conn.execute("SELECT text FROM code WHERE sha = ?", (row["code_sha"],))
                found = c.fetchone()
                code = found[0] if found else None
        finally:
            conn.row_factory = None
        return build_run(row, children, code)

    def previous_run(self, experiment: str, before: float, exclude: str) -> Run | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT id FROM runs WHERE experiment = ? AND started <= ? AND id != ?"
                " ORDER BY started DESC LIMIT 1",
                (experiment, before, exclude),
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
        q = compile_query(where, order_by)
        conds, args = [q.where], list(q.args)
        if text:
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conds.append(
                "(r.name LIKE ? ESCAPE '\\' OR r.experiment LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1"
                " FROM tags t WHERE t.run_id = r.id AND (t.key LIKE ? ESCAPE '\\'"
                " OR t.value LIKE ? ESCAPE '\\')))"
            )
            args += [like] * 4
        if experiment is not None:
            conds.append("r.experiment = ?")
            args.append(experiment)
        if parent_id is not None:
            conds.append("r.parent_id = ?")
            args.append(parent_id)
        sql = (
            f"SELECT r.id FROM runs r {' '.join(q.joins)} WHERE {' AND '.join(conds)}"
            f" ORDER BY {q.order}, r.id"
        )
        with self._read() as conn:
            self._check_order_keys(conn, q.order_keys)
            if limit is not None and _single_metric_order(q):
                return self._top_by_metric(conn, q, conds, args, int(limit))
            if limit is not None:
                sql += " LIMIT ?"
                args.append(int(limit))
            return [r[0] for r in conn.execute(sql, args)]

    def _top_by_metric(
        self, conn: sqlite3.Connection, q: Query, conds: list[str], args: list[Any], limit: int
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
                "SELECT r.id FROM latest_metrics o CROSS JOIN runs r ON r.id = o.run_id"
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

    def _check_order_keys(self, conn: sqlite3.Connection, keys: list[tuple[str, str]]) -> None:
        for ns, key in keys:
            table = "latest_metrics" if ns == "metrics" else ns
            if conn.execute(f"SELECT 1 FROM {table} WHERE key = ? LIMIT 1", (key,)).fetchone():
                continue
            known = [r[0] for r in conn.execute(f"SELECT DISTINCT key FROM {table} ORDER BY key")]
            raise unknown_key_error(ns, key, known, str(self.db_path))

    def runs_frame(
        self,
        *,
        experiment: str | None = None,
        where: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        if where is None and order_by is None and limit is None:
            frame = self._all_runs_frame(experiment)
        else:
            ids = self.search_run_ids(
                experiment=experiment, where=where, order_by=order_by, limit=limit
            )
            with self._read() as conn:
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS sel (pos INTEGER, id TEXT)")
                conn.execute("DELETE FROM sel")
                conn.executemany("INSERT INTO sel VALUES (?, ?)", list(enumerate(ids)))
                frame = self._frame(
                    conn, "JOIN sel s ON s.id = r.id", "s.pos", [], "r.id IN (SELECT id FROM sel)"
                )
        if frame.empty and experiment is not None:
            # Only an empty answer needs the check: a known experiment with no match is fine.
            known = self.experiments()
            if experiment not in known:
                raise ExperimentNotFoundError(experiment, known, str(self.db_path))
        return frame

    def _all_runs_frame(self, experiment: str | None) -> pd.DataFrame:
        with self._read() as conn:
            if experiment is None:
                return self._frame(conn, "", "r.started DESC, r.id", [], "1=1")
            return self._frame(conn, "", "r.started DESC, r.id", [experiment], "r.experiment = ?")

    def _frame(
        self, conn: sqlite3.Connection, join: str, order: str, args: list[Any], cond: str
    ) -> pd.DataFrame:
        runs = conn.execute(
            "SELECT r.id, r.experiment, r.name, r.status, r.kind, r.parent_id, r.started,"
            f" r.duration, r.seed, g.outcome, mv.model, mv.stage FROM runs r {join}"
            f" LEFT JOIN ({GATE_OUTCOMES}) g ON g.run_id = r.id"
            f" LEFT JOIN ({_RUN_MODELS}) mv ON mv.run_id = r.id"
            f" WHERE {cond} ORDER BY {order}",
            args,
        ).fetchall()
        if cond == "1=1":  # every run: no join needed
            params = conn.execute("SELECT run_id, key, value FROM params").fetchall()
            metrics = conn.execute("SELECT run_id, key, value FROM latest_metrics").fetchall()
            return frame_from_rows(runs, params, metrics)
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
        return frame_from_rows(runs, params, metrics)

    def metric_history(self, run_id: str, key: str | None = None) -> pd.DataFrame:
        import pandas as pd

        with self._read() as conn:
            rid = self._resolve_id(conn, run_id)
            sql = "SELECT key, step, value, time FROM metrics WHERE run_id = ?"
            args: list[Any] = [rid]
            if key is not None:
                sql += " AND key = ?"
                args.append(key)
            rows = conn.execute(sql + " ORDER BY key, step, time", args).fetchall()
        frame = pd.DataFrame(rows, columns=["key", "step", "value", "time"])
        frame["value"] = frame["value"].astype("float64")
        return frame

    def get_code(self, shas: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        with self._read() as conn:
            for i in range(0, len(shas), 500):
                chunk = shas[i : i + 500]
                marks = ",".join("?" * len(chunk))
                out.update(
                    conn.execute(
                        f"SELECT sha, text FROM code WHERE sha IN ({marks})", chunk
                    ).fetchall()
                )
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

    def close(self) -> None:
        """Write what is still queued for this store (bounded wait), then close this thread's
        connection; other threads' connections close with their threads (closing a connection
        another thread may be using can crash the sqlite3 module)."""
        writer = existing_writer(self)
        if writer is not None:
            writer.wait(timeout=writer.exit_timeout)
        self._closed = True
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            self._local.conn = None


def _insert_run(conn: sqlite3.Connection, start: RunStart) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO experiments (name, created) VALUES (?, ?)",
        (start.experiment, start.started),
    )
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


def _single_metric_order(q: Query) -> bool:
    """True when ``q`` orders by exactly one metric and nothing else."""
    if len(q.order_keys) != 1 or q.order_keys[0][0] != "metrics":
        return False
    a = q.alias("metrics", q.order_keys[0][1])
    return q.order in (f"({a}.value IS NULL), {a}.value {d}" for d in ("ASC", "DESC"))


def _metric_value(v: float) -> float | None:
    # SQLite stores NaN as NULL anyway; being explicit keeps both backends identical.
    return None if math.isnan(v) else v


def _apply_update(conn: sqlite3.Connection, rid: str, u: RunUpdate) -> None:
    if u.params:
        conn.executemany(
            "INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?, ?, ?)",
            [(rid, k, _json(v)) for k, v in u.params.items()],
        )
    if u.metrics:
        rows = [(rid, k, step, _metric_value(v), t) for k, v, step, t in u.metrics]
        conn.executemany(
            "INSERT INTO metrics (run_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)", rows
        )
        # Latest = highest step, then newest time; the WHERE keeps an older step from winning.
        conn.executemany(
            "INSERT INTO latest_metrics (run_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (run_id, key) DO UPDATE SET step = excluded.step,"
            " value = excluded.value, time = excluded.time"
            " WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step"
            " AND excluded.time >= latest_metrics.time)",
            rows,
        )
    if u.tags:
        conn.executemany(
            "INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)",
            [(rid, k, str(v)) for k, v in u.tags.items()],
        )
    if u.data:
        conn.executemany(
            "INSERT OR REPLACE INTO data (run_id, role, name, kind, hash, shape, schema, parts,"
            " nbytes, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    rid,
                    d.role.value,
                    d.name,
                    d.fingerprint.kind,
                    d.fingerprint.hash,
                    _json(list(d.fingerprint.shape) if d.fingerprint.shape is not None else None),
                    _json(d.fingerprint.schema),
                    _json(d.fingerprint.parts),
                    d.fingerprint.nbytes,
                    d.fingerprint.path,
                )
                for d in u.data
            ],
        )
    if u.artifacts:
        conn.executemany(
            "INSERT OR REPLACE INTO artifacts (run_id, name, kind, sha256, size, uri)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(rid, a.name, a.kind, a.sha256, a.size, a.uri) for a in u.artifacts],
        )
    if u.code:
        conn.executemany(
            "INSERT OR IGNORE INTO code (sha, text) VALUES (?, ?)", list(u.code.items())
        )
    if u.environment:
        e = u.environment
        conn.execute(
            "INSERT OR IGNORE INTO environments (id, python, platform, packages)"
            " VALUES (?, ?, ?, ?)",
            (e.id, e.python, e.platform, _json(e.packages)),
        )
    _update_run_row(conn, rid, u)


def _update_run_row(conn: sqlite3.Connection, rid: str, u: RunUpdate) -> None:
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
