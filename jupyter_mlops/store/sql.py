"""The SQL store every backend shares: migrations and reading one run here; the rest in
mixins over the transactions of ``sql_common.py``: writing runs in ``sql_writes.py``, searching
them in ``sql_search.py``, pipelines and gate results in ``sql_pipelines.py``, the model
registry in ``sql_registry.py``, the scheduler's tables in ``sql_schedule.py``, the outbox in
``sql_notify.py`` and monitoring in ``sql_monitor.py``.

Statements are written once, in SQL that SQLite and PostgreSQL both accept; what they spell
differently comes from the backend's :class:`~.dialect.Dialect`. A backend subclass supplies
connections and transactions (``_write`` and ``_read``) and nothing else. Filters compile in
``query.py``; rows decode in ``rows.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..codec import epoch
from ..entities import Environment, Run
from ..exceptions import AmbiguousRunIdError, RunNotFoundError, SchemaVersionError, StoreError
from . import rows, schema
from .base import RunStore
from .dialect import Connection, Dialect
from .sql_changes import ChangeMarks
from .sql_common import Statements
from .sql_monitor import MonitorTables
from .sql_notify import NotifyTables
from .sql_pipelines import PipelineTables
from .sql_registry import RegistryTables
from .sql_rollouts import RolloutTables
from .sql_schedule import ScheduleTables
from .sql_search import RunSearch
from .sql_signatures import SignatureTables
from .sql_writes import STALE_HEARTBEAT_SECONDS, RunWrites

if TYPE_CHECKING:
    import pandas as pd


class SQLStore(
    RunWrites,
    RunSearch,
    PipelineTables,
    RegistryTables,
    RolloutTables,
    ScheduleTables,
    MonitorTables,
    NotifyTables,
    SignatureTables,
    ChangeMarks,
    RunStore,
):
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


__all__ = ["STALE_HEARTBEAT_SECONDS", "SQLStore"]
