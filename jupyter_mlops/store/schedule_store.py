"""The schedule role of a store: firing state, the scheduler's log, leases and the
notification outbox."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from ..entities import Notification, NotificationStatus, ScheduleEvent
from .handle import StoreHandle


class ScheduleStore(StoreHandle):
    """What the scheduler and the notification sender keep in the store."""

    # -- the embedded scheduler ---------------------------------------------------------------
    @abc.abstractmethod
    def schedule_state(self) -> dict[str, float]: ...

    @abc.abstractmethod
    def set_schedule_state(self, pipeline: str, last_fire: float) -> None: ...

    @abc.abstractmethod
    def log_schedule(
        self,
        pipeline: str,
        scheduled_for: float,
        outcome: str,
        run_id: str | None = None,
        message: str | None = None,
    ) -> None: ...

    @abc.abstractmethod
    def schedule_log(self, pipeline: str | None = None, limit: int = 50) -> list[ScheduleEvent]:
        """The newest ``limit`` events (of ``pipeline``), newest first."""

    # -- leases (one holder at a time, across processes and, on a server database, hosts) ------
    @abc.abstractmethod
    def acquire_lease(self, name: str, holder: str, ttl: float, now: float) -> bool:
        """Atomically take lease ``name`` if free, expired or already ``holder``'s."""

    @abc.abstractmethod
    def renew_lease(self, name: str, holder: str, ttl: float, now: float) -> bool:
        """Extend ``holder``'s lease; False if it was lost."""

    @abc.abstractmethod
    def release_lease(self, name: str, holder: str) -> None: ...

    @abc.abstractmethod
    def lease_holder(self, name: str, now: float) -> str | None: ...

    # -- the notification outbox (see sql_notify.py for how rows are claimed) ------------------
    @abc.abstractmethod
    def queue_notifications(self, items: Sequence[Notification]) -> None: ...

    @abc.abstractmethod
    def claim_notification(
        self,
        holder: str,
        now: float,
        until: float,
        skip_targets: Sequence[str] = (),
        only: Sequence[str] | None = None,
    ) -> Notification | None:
        """Atomically claim the longest-due pending notification (of ``only``, if given) for
        ``holder`` until ``until``; None when nothing is due."""

    @abc.abstractmethod
    def mark_notification_delivered(self, notification_id: str, now: float) -> None: ...

    @abc.abstractmethod
    def mark_notification_failed(
        self, notification_id: str, holder: str, error: str, next_attempt: float, give_up: bool
    ) -> None: ...

    @abc.abstractmethod
    def notifications(
        self,
        status: NotificationStatus | None = None,
        created_since: float | None = None,
        limit: int | None = None,
    ) -> list[Notification]:
        """Newest first."""

    @abc.abstractmethod
    def retry_notifications(self, ids: Sequence[str] | None, now: float) -> int:
        """Make undelivered notifications (all when ``ids`` is None) due at ``now``."""

    @abc.abstractmethod
    def next_notification_due(self) -> float | None: ...
