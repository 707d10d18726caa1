"""The embedded scheduler's tables (its state and its log), as a mixin of ``SQLStore`` over
the same dialect and transactions."""

from __future__ import annotations

import time
from typing import Any

from ..entities import ScheduleEvent
from . import rows
from .sql_common import SQLTables


class ScheduleTables(SQLTables):
    """The last firing per pipeline, and what the scheduler did about each firing."""

    # -- the embedded scheduler ------------------------------------------------------------------
    def schedule_state(self) -> dict[str, float]:
        """Pipeline -> the last firing time it was scheduled for (epoch seconds)."""
        with self._read() as c:
            found = c.execute("SELECT pipeline, last_fire FROM schedule_state").fetchall()
        return {pipeline: last for pipeline, last in found}

    def set_schedule_state(self, pipeline: str, last_fire: float) -> None:
        row = (pipeline, last_fire, time.time())
        self._write(lambda c: c.execute(self._sql.schedule_state, row))

    def log_schedule(
        self,
        pipeline: str,
        scheduled_for: float,
        outcome: str,
        run_id: str | None = None,
        message: str | None = None,
    ) -> None:
        row = (pipeline, scheduled_for, outcome, run_id, message, time.time())
        self._write(
            lambda c: c.execute(
                "INSERT INTO schedule_log (pipeline, scheduled_for, outcome, run_id, message, time)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
        )

    def schedule_log(self, pipeline: str | None = None, limit: int = 50) -> list[ScheduleEvent]:
        sql = "SELECT pipeline, scheduled_for, outcome, run_id, message, time FROM schedule_log"
        args: list[Any] = []
        if pipeline is not None:
            sql += " WHERE pipeline = ?"
            args.append(pipeline)
        with self._read() as c:
            found = c.execute(sql + " ORDER BY time DESC, id DESC LIMIT ?", [*args, limit])
            return [rows.schedule_event(r) for r in found.fetchall()]
