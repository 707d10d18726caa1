"""SQL for the embedded scheduler: when each pipeline last fired, and what happened each time."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any


class ScheduleSQL:
    _write: Callable[[Callable[[sqlite3.Connection], Any]], Any]
    _read: Callable[[], AbstractContextManager[sqlite3.Connection]]

    def schedule_state(self) -> dict[str, float]:
        """Pipeline -> the last firing time it was scheduled for (epoch seconds)."""
        with self._read() as c:
            return dict(c.execute("SELECT pipeline, last_fire FROM schedule_state").fetchall())

    def set_schedule_state(self, pipeline: str, last_fire: float) -> None:
        self._write(
            lambda c: c.execute(
                "INSERT INTO schedule_state (pipeline, last_fire, updated) VALUES (?, ?, ?)"
                " ON CONFLICT (pipeline) DO UPDATE SET last_fire = excluded.last_fire,"
                " updated = excluded.updated",
                (pipeline, last_fire, time.time()),
            )
        )

    def log_schedule(
        self,
        pipeline: str,
        scheduled_for: float,
        outcome: str,
        run_id: str | None = None,
        message: str | None = None,
    ) -> None:
        self._write(
            lambda c: c.execute(
                "INSERT INTO schedule_log (pipeline, scheduled_for, outcome, run_id, message, time)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (pipeline, scheduled_for, outcome, run_id, message, time.time()),
            )
        )

    def schedule_log(self, pipeline: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        sql = "SELECT pipeline, scheduled_for, outcome, run_id, message, time FROM schedule_log"
        args: list[Any] = []
        if pipeline is not None:
            sql += " WHERE pipeline = ?"
            args.append(pipeline)
        with self._read() as c:
            rows = c.execute(sql + " ORDER BY time DESC, rowid DESC LIMIT ?", [*args, limit])
            keys = ("pipeline", "scheduled_for", "outcome", "run_id", "message", "time")
            return [dict(zip(keys, r, strict=True)) for r in rows.fetchall()]
