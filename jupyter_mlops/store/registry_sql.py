"""SQL for pipelines, gate results and the model registry (mixed into the SQL stores).

Stage changes happen in one write transaction each, so "bless the new version and archive the
old blessed one" is atomic: there is never zero or two blessed versions of a model.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from ..entities import DataRef, ModelEvent, ModelStage, ModelVersion
from ..exceptions import ModelNotFoundError, ValidationError

T = TypeVar("T")
_MV_COLUMNS = (
    "name, version, run_id, artifact_uri, artifact_sha, size, stage, created, updated,"
    " metrics, data, pipeline"
)


def _model(row: tuple[Any, ...]) -> ModelVersion:
    return ModelVersion(
        name=row[0],
        version=row[1],
        run_id=row[2],
        artifact_uri=row[3],
        artifact_sha=row[4],
        size=row[5],
        stage=ModelStage(row[6]),
        created=row[7],
        updated=row[8],
        metrics=json.loads(row[9]) if row[9] else {},
        data=tuple(DataRef.from_dict(d) for d in json.loads(row[10] or "[]")),
        pipeline=row[11],
    )


class RegistrySQL:
    """Pipelines, gate results and model versions over ``_write``/``_read`` of a SQL store."""

    _write: Callable[[Callable[[sqlite3.Connection], T]], T]
    _read: Callable[[], AbstractContextManager[sqlite3.Connection]]

    # -- pipelines -----------------------------------------------------------------------------
    def save_pipeline(
        self,
        name: str,
        spec: dict[str, Any],
        notebook: str,
        notebook_hash: str,
        schedule: str | None,
    ) -> None:
        self._write(
            lambda c: c.execute(
                "INSERT INTO pipelines (name, spec, notebook, notebook_hash, schedule, updated)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec,"
                " notebook = excluded.notebook, notebook_hash = excluded.notebook_hash,"
                " schedule = excluded.schedule, updated = excluded.updated",
                (name, json.dumps(spec), notebook, notebook_hash, schedule, time.time()),
            )
        )

    def list_pipelines(self) -> list[dict[str, Any]]:
        with self._read() as c:
            rows = c.execute(
                "SELECT name, spec, notebook, notebook_hash, schedule, updated"
                " FROM pipelines ORDER BY name"
            ).fetchall()
        return [
            {
                "name": r[0],
                "spec": json.loads(r[1]),
                "notebook": r[2],
                "notebook_hash": r[3],
                "schedule": r[4],
                "updated": r[5],
            }
            for r in rows
        ]

    # -- gate results --------------------------------------------------------------------------
    def save_gate_results(self, run_id: str, results: list[dict[str, Any]]) -> None:
        def write(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM gate_results WHERE run_id = ?", (run_id,))
            c.executemany(
                "INSERT INTO gate_results (run_id, position, gate, kind, status, result)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        i,
                        r.get("name") or r.get("gate") or f"gate-{i}",
                        r.get("kind", ""),
                        r.get("status", ""),
                        json.dumps(r, default=str),
                    )
                    for i, r in enumerate(results)
                ],
            )

        self._write(write)

    def gate_results(self, run_id: str) -> list[dict[str, Any]]:
        with self._read() as c:
            rows = c.execute(
                "SELECT result FROM gate_results WHERE run_id = ? ORDER BY position", (run_id,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    # -- models --------------------------------------------------------------------------------
    def register_model(
        self,
        name: str,
        run_id: str,
        artifact_uri: str,
        artifact_sha: str,
        size: int,
        metrics: dict[str, float],
        data: list[DataRef],
        pipeline: str | None,
        actor: str | None = None,
    ) -> ModelVersion:
        now = time.time()

        def write(c: sqlite3.Connection) -> int:
            row = c.execute(
                "SELECT MAX(version) FROM model_versions WHERE name = ?", (name,)
            ).fetchone()
            version = (row[0] or 0) + 1
            c.execute(
                f"INSERT INTO model_versions ({_MV_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " ?, ?, ?)",
                (
                    name,
                    version,
                    run_id,
                    artifact_uri,
                    artifact_sha,
                    size,
                    ModelStage.CANDIDATE.value,
                    now,
                    now,
                    json.dumps(metrics),
                    json.dumps([d.to_dict() for d in data]),
                    pipeline,
                ),
            )
            _event(c, name, version, "register", actor, None, now)
            return version

        return self.get_model(name, self._write(write))

    def get_model(self, name: str, version: int | None = None) -> ModelVersion:
        """A version, or the blessed one when ``version`` is None."""
        with self._read() as c:
            if version is None:
                row = c.execute(
                    f"SELECT {_MV_COLUMNS} FROM model_versions WHERE name = ? AND"
                    " stage = 'blessed'",
                    (name,),
                ).fetchone()
            else:
                row = c.execute(
                    f"SELECT {_MV_COLUMNS} FROM model_versions WHERE name = ? AND version = ?",
                    (name, version),
                ).fetchone()
        if row is None:
            raise ModelNotFoundError(self._missing(name, version))
        return _model(row)

    def _missing(self, name: str, version: int | None) -> str:
        known = [m.name for m in self.list_models() if m.version == 1]
        if name not in known:
            listing = ", ".join(known) if known else "none yet"
            return (
                f"No model named {name!r} (registered models: {listing}); see "
                "`jupyter-mlops models list`"
            )
        if version is None:
            return (
                f"Model {name!r} has no blessed version; bless one with "
                f"`jupyter-mlops models bless {name}@VERSION`"
            )
        return f"Model {name!r} has no version {version}; see `jupyter-mlops models show {name}`"

    def list_models(self, name: str | None = None) -> list[ModelVersion]:
        sql = f"SELECT {_MV_COLUMNS} FROM model_versions"
        args: list[Any] = []
        if name is not None:
            sql += " WHERE name = ?"
            args.append(name)
        with self._read() as c:
            rows = c.execute(sql + " ORDER BY name, version", args).fetchall()
        return [_model(r) for r in rows]

    def model_events(self, name: str) -> list[ModelEvent]:
        with self._read() as c:
            rows = c.execute(
                "SELECT name, version, action, actor, reason, time FROM model_events"
                " WHERE name = ? ORDER BY time, rowid",
                (name,),
            ).fetchall()
        return [ModelEvent(*r) for r in rows]

    def bless_model(
        self,
        name: str,
        version: int,
        actor: str | None = None,
        reason: str | None = None,
        action: str = "bless",
    ) -> ModelVersion:
        """Bless ``name@version`` and archive the previously blessed version, atomically."""
        self.get_model(name, version)  # a clear error for an unknown version

        def write(c: sqlite3.Connection) -> None:
            now = time.time()
            for (old,) in c.execute(
                "SELECT version FROM model_versions WHERE name = ? AND"
                " stage = 'blessed' AND version != ?",
                (name, version),
            ).fetchall():
                c.execute(
                    "UPDATE model_versions SET stage = 'archived', updated = ? WHERE"
                    " name = ? AND version = ?",
                    (now, name, old),
                )
                _event(c, name, old, "archive", actor, reason, now)
            c.execute(
                "UPDATE model_versions SET stage = 'blessed', updated = ? WHERE name = ?"
                " AND version = ?",
                (now, name, version),
            )
            _event(c, name, version, action, actor, reason, now)

        self._write(write)
        return self.get_model(name, version)

    def rollback_model(
        self, name: str, to: int | None = None, actor: str | None = None, reason: str | None = None
    ) -> tuple[ModelVersion, ModelVersion]:
        """Re-bless the version blessed before the current one (or ``to``); returns (old, new)."""
        current = self.get_model(name)
        if to is None:
            earlier = [v for v in _blessing_stack(self.model_events(name)) if v != current.version]
            if not earlier:
                raise ValidationError(
                    f"{current.ref} is the only version of {name!r} left to bless; there is "
                    f"nothing to roll back to (use `models bless {name}@V` to pick one)"
                )
            to = earlier[-1]
        if to == current.version:
            raise ValidationError(f"{current.ref} is already the blessed version")
        new = self.bless_model(name, to, actor, reason, action="rollback")
        return self.get_model(name, current.version), new


def _blessing_stack(events: list[ModelEvent]) -> list[int]:
    """Versions in the order they were blessed, with rolled-back ones popped: a rollback after
    a rollback goes one step further back instead of returning to the bad version."""
    stack: list[int] = []
    for e in events:
        if e.action == "bless":
            stack.append(e.version)
        elif e.action == "rollback":
            while stack and stack[-1] != e.version:
                stack.pop()
    return stack


def _event(
    c: sqlite3.Connection,
    name: str,
    version: int,
    action: str,
    actor: str | None,
    reason: str | None,
    now: float,
) -> None:
    c.execute(
        "INSERT INTO model_events (name, version, action, actor, reason, time)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (name, version, action, actor, reason, now),
    )


__all__ = ["RegistrySQL"]
