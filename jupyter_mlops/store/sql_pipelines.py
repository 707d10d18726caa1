"""Promoted pipelines and the gate results of their runs, as a mixin of ``SQLStore`` over the
same dialect and transactions."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from ..codec import from_jsonable
from ..entities import GateResult, PipelineRecord
from . import rows
from .dialect import Connection
from .sql_common import SQLTables, _json


class PipelineTables(SQLTables):
    """Pipelines and gate results."""

    def save_pipeline(
        self,
        name: str,
        spec: dict[str, Any],
        notebook: str,
        notebook_hash: str,
        schedule: str | None,
    ) -> None:
        row = (name, _json(spec), notebook, notebook_hash, schedule, time.time())
        self._write(lambda c: c.execute(self._sql.pipeline, row))

    def list_pipelines(self) -> list[PipelineRecord]:
        with self._read() as c:
            found = c.execute(
                "SELECT name, spec, notebook, notebook_hash, schedule, updated"
                " FROM pipelines ORDER BY name"
            ).fetchall()
        return [rows.pipeline_record(r) for r in found]

    def save_gate_results(self, run_id: str, results: Sequence[GateResult]) -> None:
        found = [
            (run_id, i, r.gate, r.kind, r.status.value, _json(r)) for i, r in enumerate(results)
        ]

        def write(c: Connection) -> None:
            c.execute("DELETE FROM gate_results WHERE run_id = ?", (run_id,))
            c.executemany(
                "INSERT INTO gate_results (run_id, position, gate, kind, status, result)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                found,
            )

        self._write(write)

    def gate_results(self, run_id: str) -> list[GateResult]:
        with self._read() as c:
            found = c.execute(
                "SELECT result FROM gate_results WHERE run_id = ? ORDER BY position", (run_id,)
            ).fetchall()
        return [from_jsonable(json.loads(r[0]), GateResult) for r in found]
