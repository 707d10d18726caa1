"""Deliver the notification outbox: every notification at least once, none lost.

:meth:`Sender.deliver_due` is one pass: it claims due rows one at a time (see
:mod:`jupyter_mlops.store.sql_notify`), sends each and marks it delivered, or records the error
and makes it due again after a backoff doubling from ``BACKOFF_S`` up to ``BACKOFF_CAP_S``. A
notification still undelivered ``MAX_AGE_S`` after it was written is marked ``failed`` (``notify
retry`` revives it). Who runs passes: the scheduler's loop and the Jupyter server's loop (both
via :func:`serve` or between firings), and a CLI command that queued notifications, which waits
for them at most ``notify_wait`` seconds (:func:`wait_for`).

Each delivery carries the notification's id as its idempotency key (the ``Idempotency-Key`` and
``X-Jupyter-MLOps-Notification-Id`` headers, ``notification_id`` in the JSON body,
``JUPYTER_MLOPS_NOTIFICATION_ID`` for a command): a sender killed after sending but before
marking leaves the row to be sent again, and a receiver drops the duplicate by its key.

The clock is injected (``clock``: the time rows are due by); the pass's budget and the
per-attempt time-outs are real elapsed time, which is what a user waits for.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..codec import dumps
from ..entities import Notification, NotificationStatus
from ..exceptions import ValidationError
from ..store.liveness import hostname
from ..store.schedule_store import ScheduleStore

log = logging.getLogger(__name__)
HTTP_TIMEOUT_S = 5.0  # per attempt: a webhook that hangs costs this much, once per pass
COMMAND_TIMEOUT_S = 60.0
BACKOFF_S = 30.0
BACKOFF_CAP_S = 3600.0
MAX_AGE_S = 7 * 86400.0
# A claim outlives the longest attempt, so a live sender never sees its row taken over.
CLAIM_S = COMMAND_TIMEOUT_S + 60.0
_MIN_TIMEOUT_S = 0.05


def backoff(attempts: int) -> float:
    """Seconds until the next try after ``attempts`` failed ones."""
    return min(BACKOFF_CAP_S, BACKOFF_S * 2 ** max(0, attempts - 1))


@dataclass
class PassReport:
    """What one pass did: ids delivered, and ids that failed (with the error)."""

    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class Sender:
    """Delivers due notifications of ``store``; several senders may share a store."""

    def __init__(
        self,
        store: ScheduleStore,
        *,
        clock: Callable[[], float] = time.time,
        timer: Callable[[], float] = time.monotonic,
        holder: str | None = None,
        http_timeout: float = HTTP_TIMEOUT_S,
        command_timeout: float = COMMAND_TIMEOUT_S,
    ) -> None:
        self.store = store
        self.clock = clock
        self.timer = timer
        self.holder = holder or f"{hostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.http_timeout = http_timeout
        self.command_timeout = command_timeout

    def deliver_due(self, budget: float | None = None, only: list[str] | None = None) -> PassReport:
        """Send every notification due now (of ``only``, if given), within ``budget`` seconds
        if given (a time-out is cut to what is left of it). A target that fails is not tried
        again in this pass: its other rows wait for the next one, so a dead webhook costs one
        time-out per pass."""
        report = PassReport()
        started = self.timer()
        failed_targets: list[str] = []
        while True:
            left = None if budget is None else budget - (self.timer() - started)
            if left is not None and left <= 0:
                break
            now = self.clock()
            n = self.store.claim_notification(self.holder, now, now + CLAIM_S, failed_targets, only)
            if n is None:
                break
            try:
                self._send(n, left)
            except Exception as e:  # any failure is recorded on the row, never raised
                error = describe_error(e)
                report.failed[n.id] = error
                failed_targets.append(n.target)
                self._failed(n, error, now)
            else:
                self.store.mark_notification_delivered(n.id, self.clock())
                report.delivered.append(n.id)
                log.info("notification %s delivered to %s %s", n.id[:8], n.channel, n.target)
        return report

    def _send(self, n: Notification, left: float | None) -> None:
        data = {**n.payload, "notification_id": n.id}
        if n.channel == "webhook":
            post_json(n.target, data, n.id, _cut(self.http_timeout, left))
        else:
            run_command(n.target, data, n.id, _cut(self.command_timeout, left))

    def _failed(self, n: Notification, error: str, now: float) -> None:
        give_up = now - n.created.timestamp() >= MAX_AGE_S
        retry_at = self.clock() + backoff(n.attempts)
        self.store.mark_notification_failed(n.id, self.holder, error, retry_at, give_up)
        if give_up:
            log.error(
                "notification %s to %s %s failed for good after %d attempts: %s; "
                "jupyter-mlops notify retry %s sends it again",
                n.id[:8], n.channel, n.target, n.attempts, error, n.id[:8],
            )  # fmt: skip
        else:
            log.warning(
                "notification %s to %s %s failed (attempt %d): %s; next try in %.0fs",
                n.id[:8], n.channel, n.target, n.attempts, error, backoff(n.attempts),
            )  # fmt: skip

    def next_wait(self, report: PassReport, poll: float) -> float:
        """How long a loop may sleep after ``report``'s pass: until the next row is due, at
        most ``poll``. Rows of a target that just failed are still due, but that target is
        not tried again before its own backoff."""
        due = self.store.next_notification_due()
        wait = poll if due is None else min(poll, max(0.0, due - self.clock()))
        return max(wait, min(poll, BACKOFF_S) if report.failed else 0.1)

    def serve(self, stop: threading.Event, poll: float = 30.0) -> None:
        """Deliver until ``stop`` is set, waking when the next row is due (at most every
        ``poll`` seconds, to see rows other processes queued)."""
        while not stop.is_set():
            try:
                wait = self.next_wait(self.deliver_due(), poll)
            except Exception:  # a store that is briefly unreachable must not end the loop
                log.exception("notification outbox: delivery pass failed")
                wait = poll
            stop.wait(wait)


def _cut(timeout: float, left: float | None) -> float:
    return timeout if left is None else max(_MIN_TIMEOUT_S, min(timeout, left))


def describe_error(e: BaseException) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        e = e.reason if isinstance(e.reason, BaseException) else e
    if isinstance(e, (TimeoutError, subprocess.TimeoutExpired)):
        return "timed out"
    if isinstance(e, OSError) and e.strerror:  # "Connection refused", not "[Errno 111] ..."
        return e.strerror
    return str(e) or type(e).__name__


def post_json(url: str, data: Mapping[str, Any], key: str, timeout: float) -> None:
    body = dumps(data).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        "X-Jupyter-MLOps-Notification-Id": key,
    }
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def run_command(command: str, data: Mapping[str, Any], key: str, timeout: float) -> None:
    env = dict(os.environ)
    for name in ("event", "pipeline", "run_id", "status", "attempt", "link", "error"):
        env[f"JUPYTER_MLOPS_{name.upper()}"] = str(data.get(name) or "")
    env["JUPYTER_MLOPS_GATES"] = dumps(data.get("gates") or [])
    env["JUPYTER_MLOPS_PAYLOAD"] = dumps(data)
    env["JUPYTER_MLOPS_NOTIFICATION_ID"] = key
    done = subprocess.run(  # shell=True: the user's own configured command line
        command, shell=True, env=env, timeout=timeout, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise OSError(f"exit code {done.returncode}: {done.stderr.strip()[-200:]}")


@dataclass(frozen=True)
class WaitResult:
    """What a CLI command's wait left: its notifications not delivered yet."""

    pending: list[Notification]

    def message(self) -> str | None:
        """One line for the CLI's stderr or the log, or None when all were delivered."""
        if not self.pending:
            return None
        n = len(self.pending)
        errors = sorted({p.last_error for p in self.pending if p.last_error})
        why = f" ({'; '.join(errors)[:200]})" if errors else ""
        return (
            f"{n} notification{'s' if n > 1 else ''} not delivered yet{why}; "
            "they are retried in the background by the scheduler, the Jupyter server or the "
            "next command: see jupyter-mlops notify list"
        )


def wait_for(
    store: ScheduleStore,
    since: float,
    wait: float,
    *,
    sender: Sender | None = None,
) -> WaitResult:
    """Deliver what is due for at most ``wait`` seconds, the notifications written at or after
    ``since`` (the caller's) first; returns those of them still pending."""
    sender = sender or Sender(store)
    mine = [n.id for n in store.notifications(NotificationStatus.PENDING, created_since=since)]
    started = sender.timer()
    if wait > 0 and mine:
        sender.deliver_due(budget=wait, only=mine)
        left = wait - (sender.timer() - started)
        if left > 0:  # then older ones that are due, with what is left of the wait
            sender.deliver_due(budget=left)
    pending = store.notifications(NotificationStatus.PENDING, created_since=since)
    return WaitResult(pending)


def undelivered(store: ScheduleStore, include_delivered: bool = False) -> list[Notification]:
    """What ``notify list`` shows: the pending and failed notifications (with
    ``include_delivered``, the newest 200 of all), newest first."""
    if include_delivered:
        return store.notifications(limit=200)
    found = store.notifications(NotificationStatus.PENDING)
    found += store.notifications(NotificationStatus.FAILED)
    return sorted(found, key=lambda n: (-n.created.timestamp(), n.id))


def retry(
    store: ScheduleStore,
    ids: list[str] | None,
    *,
    sender: Sender | None = None,
    budget: float | None = None,
) -> tuple[int, PassReport]:
    """Make the undelivered notifications ``ids`` (unique prefixes; None: all) due now and run
    one delivery pass over them; returns how many were made due, and the pass."""
    sender = sender or Sender(store)
    chosen = None if ids is None else [_resolve(store, i) for i in ids]
    count = store.retry_notifications(chosen, sender.clock())
    return count, sender.deliver_due(budget=budget, only=chosen)


def _resolve(store: ScheduleStore, prefix: str) -> str:
    found = [n for n in undelivered(store) if n.id.startswith(prefix.strip())]
    if len(found) == 1 and prefix.strip():
        return found[0].id
    what = "matches several" if found else "matches no undelivered notification"
    raise ValidationError(
        f"Notification id '{prefix}' {what}; list them with jupyter-mlops notify list"
    )


__all__ = [
    "BACKOFF_CAP_S",
    "BACKOFF_S",
    "HTTP_TIMEOUT_S",
    "MAX_AGE_S",
    "PassReport",
    "Sender",
    "WaitResult",
    "backoff",
    "retry",
    "undelivered",
    "wait_for",
]
