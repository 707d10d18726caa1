"""The notification outbox on both store backends: delivery at least once with an idempotency
key, backoff on an injected clock, safe claims by concurrent senders, and a sender killed with
SIGKILL mid-delivery losing nothing."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from jupyter_mlops.entities import NotificationStatus
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.pipeline.notify import queue_notification
from jupyter_mlops.pipeline.outbox import (
    BACKOFF_CAP_S,
    BACKOFF_S,
    CLAIM_S,
    MAX_AGE_S,
    Sender,
    backoff,
    retry,
    wait_for,
)
from jupyter_mlops.pipeline.spec import NotifySpec
from jupyter_mlops.store import RunStore
from tests.conftest import ROOT, python_env
from tests.webhooks import WAIT_S, closed_port_url, hanging_endpoint, receiver

T0 = 1_800_000_000.0  # the injected clock's start: no test reads the wall clock for due times


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _queue(store: RunStore, url: str, n: int, now: float = T0) -> list[str]:
    ids = []
    for i in range(n):
        data = {"event": "failure", "pipeline": "p", "run_id": f"run{i}"}
        ids += [
            x.id for x in queue_notification(store, NotifySpec(webhook=url), "failure", data, now)
        ]
    return ids


def test_an_endpoint_down_for_an_hour_gets_every_notification_once_per_key(
    store: RunStore,
) -> None:
    clock = Clock()
    with receiver() as hook:
        ids = _queue(store, hook.url, 5)
        sender = Sender(store, clock=clock)
        hook.down = True
        for minute in range(60):  # down for an hour: one pass a minute, as a scheduler does
            clock.now = T0 + 60 * minute
            sender.deliver_due()
        assert hook.answered == [] and hook.received  # tried, refused, nothing lost
        # A failing target costs one request per pass, not one per notification.
        assert len(hook.received) <= 60
        assert {n.status for n in store.notifications()} == {NotificationStatus.PENDING}
        hook.down = False
        minute = 60
        while store.notifications(NotificationStatus.PENDING) and minute < 60 * 4:
            clock.now = T0 + 60 * minute
            sender.deliver_due()
            minute += 1
        delivered = store.notifications(NotificationStatus.DELIVERED)
        assert sorted(n.id for n in delivered) == sorted(ids)
        # Every key received is one of ours; each was answered 2xx exactly once (no kill here).
        assert set(hook.keys()) == set(ids)
        assert Counter(hook.answered) == Counter(ids)
        # The body and both headers carry the same id.
        for (key, body), headers in zip(hook.received, hook.headers, strict=True):
            assert body["notification_id"] == key == headers["X-Jupyter-MLOps-Notification-Id"]
        # Once up again, delivery waited at most the capped backoff.
        assert (
            max(n.delivered.timestamp() if n.delivered else 0 for n in delivered)
            <= T0 + 3600 + BACKOFF_CAP_S + 60
        )


def test_backoff_doubles_up_to_its_cap_and_an_old_notification_fails_for_good(
    store: RunStore, caplog: pytest.LogCaptureFixture
) -> None:
    assert [backoff(k) for k in (1, 2, 3)] == [BACKOFF_S, 2 * BACKOFF_S, 4 * BACKOFF_S]
    assert backoff(30) == BACKOFF_CAP_S
    clock = Clock()
    (nid,) = _queue(store, closed_port_url(), 1)
    sender = Sender(store, clock=clock)
    waits = []
    for _ in range(4):
        report = sender.deliver_due()
        assert list(report.failed) == [nid] and "refused" in report.failed[nid].lower()
        (row,) = store.notifications()
        waits.append(row.next_attempt.timestamp() - clock.now)
        assert sender.deliver_due().failed == {}  # not due before its backoff
        clock.now = row.next_attempt.timestamp()
    assert waits == [backoff(1), backoff(2), backoff(3), backoff(4)]
    (row,) = store.notifications()
    assert row.attempts == 4 and row.status is NotificationStatus.PENDING and row.last_error
    clock.now = T0 + MAX_AGE_S
    with caplog.at_level(logging.ERROR, logger="jupyter_mlops.pipeline.outbox"):
        sender.deliver_due()
    (row,) = store.notifications()
    assert row.status is NotificationStatus.FAILED
    assert "failed for good" in caplog.text and f"notify retry {nid[:8]}" in caplog.text
    # `notify retry` makes it due now (by a unique id prefix) and tries once more.
    with pytest.raises(ValidationError, match="'zzz' matches no undelivered notification"):
        retry(store, ["zzz"], sender=sender)
    count, report = retry(store, [nid[:10]], sender=sender)
    assert count == 1 and list(report.failed) == [nid]
    (row,) = store.notifications()
    assert row.attempts == 6 and row.status is NotificationStatus.FAILED  # still too old


def test_two_senders_never_send_one_notification_at_once(store: RunStore) -> None:
    with receiver() as hook:
        ids = _queue(store, hook.url, 30)
        senders = [Sender(store, clock=Clock()) for _ in range(2)]
        assert senders[0].holder != senders[1].holder
        start = threading.Barrier(2)
        reports = []

        def run(sender: Sender) -> None:
            start.wait(WAIT_S)
            reports.append(sender.deliver_due())
            store.release_thread()

        threads = [threading.Thread(target=run, args=(s,)) for s in senders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT_S)
        assert Counter(hook.keys()) == Counter(ids)  # each exactly once: the claims held
        assert sorted(reports[0].delivered + reports[1].delivered) == sorted(ids)


KILLED_SENDER = """
import sys
from jupyter_mlops.pipeline.outbox import Sender
from jupyter_mlops.store import open_store
Sender(open_store(sys.argv[1])).deliver_due()
"""


def test_a_sender_killed_mid_delivery_loses_nothing(store: RunStore) -> None:
    with receiver() as hook:
        now = time.time()  # the subprocess's sender runs on the real clock
        (nid,) = _queue(store, hook.url, 1, now=now)
        hook.holding = True  # the request arrives, the answer never leaves
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED_SENDER, store.child_location],
            cwd=ROOT, env=python_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + WAIT_S
            while not hook.arrived.wait(0.05) and time.monotonic() < deadline:
                assert proc.poll() is None, proc.communicate(timeout=WAIT_S)  # died by itself
            assert hook.arrived.is_set()
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.communicate(timeout=WAIT_S)  # reaped
        assert proc.returncode == -signal.SIGKILL
        hook.holding = False
        hook.release.set()
        (row,) = store.notifications()
        assert row.status is NotificationStatus.PENDING and row.claimed_by and row.attempts == 1
        # Another sender sees it due once the dead one's claim expired, and delivers it.
        due = row.next_attempt.timestamp()
        later = Sender(store, clock=lambda: due)
        assert due <= now + CLAIM_S + 60
        assert Sender(store, clock=lambda: now + 1).deliver_due().delivered == []  # still claimed
        assert later.deliver_due().delivered == [nid]
        (row,) = store.notifications()
        assert row.status is NotificationStatus.DELIVERED and row.attempts == 2
        assert set(hook.keys()) == {nid} and len(hook.keys()) == 2  # a duplicate, same key


def test_waiting_for_a_hanging_endpoint_ends_within_the_wait(store: RunStore) -> None:
    with hanging_endpoint() as url:
        since = time.time()
        (nid,) = _queue(store, url, 1, now=since)
        started = time.monotonic()
        left = wait_for(store, since, 1.0)
        elapsed = time.monotonic() - started
        assert elapsed < 2.5  # the old synchronous delivery took 3 x 10 s + backoff
        assert [n.id for n in left.pending] == [nid]
        message = left.message() or ""
        assert "1 notification not delivered yet (timed out)" in message
        assert "jupyter-mlops notify list" in message


def test_a_command_delivers_its_own_notifications_before_older_ones(store: RunStore) -> None:
    with hanging_endpoint() as dead, receiver() as hook:
        since = time.time()
        _queue(store, dead, 3, now=since - 60)  # older, due, to an endpoint that hangs
        (mine,) = _queue(store, hook.url, 1, now=since)
        started = time.monotonic()
        left = wait_for(store, since, 1.0)
        assert time.monotonic() - started < 2.5
        assert left.pending == [] and left.message() is None
        assert hook.keys() == [mine]
