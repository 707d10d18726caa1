"""The embedded scheduler's tables (its state and its log), as a mixin of ``SQLStore`` over
the same dialect and transactions."""

from __future__ import annotations

import time
from typing import Any

from ..entities import ScheduleEvent
from . import rows
from .dialect import Connection
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

    # -- leases ----------------------------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, ttl: float, now: float) -> bool:
        """Take lease ``name`` for ``holder`` until ``now + ttl`` if it is free, expired or
        already ``holder``'s; True when ``holder`` has it. One write transaction: the
        conditional upsert and the read-back see the same row (on a server database the
        upsert locks it), so two takers can never both get it."""
        row = (name, holder, now, now + ttl)

        def take(c: Connection) -> bool:
            c.execute(self._sql.take_lease, row)
            got = c.execute("SELECT holder FROM leases WHERE name = ?", (name,)).fetchone()
            return bool(got and got[0] == holder)

        return self._write(take)

    def renew_lease(self, name: str, holder: str, ttl: float, now: float) -> bool:
        """Extend ``holder``'s lease to ``now + ttl``; False if it lost it (expired and taken)."""

        def renew(c: Connection) -> bool:
            c.execute(
                "UPDATE leases SET expires = ? WHERE name = ? AND holder = ?",
                (now + ttl, name, holder),
            )
            got = c.execute("SELECT holder FROM leases WHERE name = ?", (name,)).fetchone()
            return bool(got and got[0] == holder)

        return self._write(renew)

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up at once (a no-op if ``holder`` no longer has it)."""
        self._write(
            lambda c: c.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
        )

    def lease_holder(self, name: str, now: float) -> str | None:
        """Who holds lease ``name`` at ``now``, or None if nobody (or it expired)."""
        with self._read() as c:
            got = c.execute(
                "SELECT holder FROM leases WHERE name = ? AND expires > ?", (name, now)
            ).fetchone()
        return got[0] if got else None
