"""The notification outbox's table, as a mixin of ``SQLStore`` over the same dialect and
transactions.

A row is due when it is ``pending`` and its ``next_attempt`` has come. A sender *claims* a due
row in one write transaction by moving ``next_attempt`` to the claim's expiry and naming itself
in ``claimed_by``: another sender sees the row as not due until then, so two senders (processes,
or hosts on a server database) do not send it at once; a sender that dies mid-delivery leaves
the row to come due again at the expiry, so it is sent again rather than lost (at least once).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..codec import epoch, to_microsecond, utc
from ..entities import Notification, NotificationStatus
from .dialect import Connection
from .sql_common import SQLTables, _json

_COLUMNS = (
    "id, created, event, channel, target, payload, attempts, next_attempt, status, last_error,"
    " delivered, claimed_by"
)
_PENDING = NotificationStatus.PENDING.value


def _notification(row: Sequence[Any]) -> Notification:
    return Notification(
        id=row[0],
        created=utc(row[1]),
        event=row[2],
        channel=row[3],
        target=row[4],
        payload=json.loads(row[5]),
        attempts=row[6],
        next_attempt=utc(row[7]) if row[8] == _PENDING else None,
        status=NotificationStatus(row[8]),
        last_error=row[9],
        delivered=utc(row[10]),
        claimed_by=row[11],
    )


class NotifyTables(SQLTables):
    """Notifications waiting to be delivered, and those delivered or given up on.

    Their times are written and compared to the microsecond (``to_microsecond``), as the
    :class:`Notification` records hold them: a time read back is the time stored."""

    def queue_notifications(self, items: Sequence[Notification]) -> None:
        found = [
            (n.id, epoch(n.created), n.event, n.channel, n.target, _json(n.payload), n.attempts,
             epoch(n.next_attempt), n.status.value, n.last_error, epoch(n.delivered),
             n.claimed_by)
            for n in items
        ]  # fmt: skip
        if found:
            sql = f"INSERT INTO notifications ({_COLUMNS}) VALUES ({', '.join('?' * 12)})"
            self._write(lambda c: c.executemany(sql, found))

    def claim_notification(
        self,
        holder: str,
        now: float,
        until: float,
        skip_targets: Sequence[str] = (),
        only: Sequence[str] | None = None,
    ) -> Notification | None:
        """Claim the longest-due pending notification (not to ``skip_targets``; one of
        ``only`` if given) for ``holder`` until ``until``, counting the attempt; None when
        nothing is due."""
        marks = ", ".join("?" * len(skip_targets))
        skip = f" AND target NOT IN ({marks})" if skip_targets else ""
        if only is not None:
            skip += f" AND id IN ({', '.join('?' * len(only))})" if only else " AND 1 = 0"
        find = self.dialect.for_update(
            "SELECT id FROM notifications WHERE status = ? AND next_attempt <= ?"
            f"{skip} ORDER BY next_attempt, created LIMIT 1"
        )
        args = (_PENDING, to_microsecond(now), *skip_targets, *(only or ()))

        def claim(c: Connection) -> Notification | None:
            got = c.execute(find, args).fetchone()
            if got is None:
                return None
            c.execute(
                "UPDATE notifications SET next_attempt = ?, claimed_by = ?,"
                " attempts = attempts + 1 WHERE id = ?",
                (to_microsecond(until), holder, got[0]),
            )
            row = c.execute(f"SELECT {_COLUMNS} FROM notifications WHERE id = ?", got).fetchone()
            return _notification(row)

        return self._write(claim)

    def mark_notification_delivered(self, notification_id: str, now: float) -> None:
        done = NotificationStatus.DELIVERED.value
        self._write(
            lambda c: c.execute(
                "UPDATE notifications SET status = ?, delivered = ?, claimed_by = NULL,"
                " last_error = NULL WHERE id = ? AND status != ?",
                (done, to_microsecond(now), notification_id, done),
            )
        )

    def mark_notification_failed(
        self, notification_id: str, holder: str, error: str, next_attempt: float, give_up: bool
    ) -> None:
        """Record a failed attempt: due again at ``next_attempt``, or ``failed`` for good when
        ``give_up``. A no-op when ``holder`` no longer has the claim (it expired and another
        sender took the row, whose outcome counts)."""
        status = NotificationStatus.FAILED.value if give_up else _PENDING
        self._write(
            lambda c: c.execute(
                "UPDATE notifications SET status = ?, next_attempt = ?, last_error = ?,"
                " claimed_by = NULL WHERE id = ? AND status = ? AND claimed_by = ?",
                (
                    status,
                    to_microsecond(next_attempt),
                    error[:2000],
                    notification_id,
                    _PENDING,
                    holder,
                ),
            )
        )

    def notifications(
        self,
        status: NotificationStatus | None = None,
        created_since: float | None = None,
        limit: int | None = None,
    ) -> list[Notification]:
        """Notifications (with ``status``, created at or after ``created_since``), newest
        first."""
        where: list[str] = []
        args: list[Any] = []
        if status is not None:
            where.append("status = ?")
            args.append(status.value)
        if created_since is not None:
            where.append("created >= ?")
            args.append(to_microsecond(created_since))
        sql = f"SELECT {_COLUMNS} FROM notifications"
        sql += (" WHERE " + " AND ".join(where)) if where else ""
        sql += " ORDER BY created DESC, id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._read() as c:
            return [_notification(r) for r in c.execute(sql, args).fetchall()]

    def retry_notifications(self, ids: Sequence[str] | None, now: float) -> int:
        """Make the undelivered notifications ``ids`` (None: all of them) due at ``now``, failed
        ones included; returns how many."""
        delivered = NotificationStatus.DELIVERED.value

        def retry(c: Connection) -> int:
            found = c.execute("SELECT id FROM notifications WHERE status != ?", (delivered,))
            undelivered = [r[0] for r in found.fetchall()]
            chosen = undelivered if ids is None else [i for i in undelivered if i in set(ids)]
            if chosen:
                c.executemany(
                    "UPDATE notifications SET status = ?, next_attempt = ?, claimed_by = NULL"
                    " WHERE id = ?",
                    [(_PENDING, to_microsecond(now), i) for i in chosen],
                )
            return len(chosen)

        return self._write(retry)

    def next_notification_due(self) -> float | None:
        """When the next pending notification comes due (None: none is pending)."""
        with self._read() as c:
            got = c.execute(
                "SELECT MIN(next_attempt) FROM notifications WHERE status = ?", (_PENDING,)
            ).fetchone()
        return got[0] if got else None
