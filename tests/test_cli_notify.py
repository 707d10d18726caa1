"""``jupyter-mlops notify list | retry`` and the monitor's notify message, on both backends."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.pipeline.notify import queue_notification
from jupyter_mlops.pipeline.outbox import BACKOFF_S, Sender
from jupyter_mlops.pipeline.spec import NotifySpec
from jupyter_mlops.store import RunStore
from tests.monitoring.helpers import DAY, Threshold, register
from tests.monitoring.helpers import T0 as MONITOR_T0
from tests.monitoring.test_evaluation import feed, write_monitor
from tests.webhooks import receiver


def _utc(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def test_notify_list_and_retry(store: RunStore, capsys: pytest.CaptureFixture[str]) -> None:
    # `notify retry` runs on the real clock: rows made now (whatever the date) are not too old.
    t0 = time.time()
    with receiver() as hook:
        target = NotifySpec(webhook=hook.url)
        first = queue_notification(store, target, "failure", {"run_id": "a"}, t0)[0]
        second = queue_notification(store, target, "recovery", {"run_id": "b"}, t0 + 1)[0]
        hook.down = True
        Sender(store, clock=lambda: t0 + 2).deliver_due()  # the first fails; the second waits

        assert main(["notify", "list"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split() == [
            "id", "status", "event", "to", "attempts", "created", "(UTC)", "next", "try",
            "(UTC)", "error",
        ]  # fmt: skip
        newest, oldest = lines[1:]
        assert newest.split() == [
            second.id[:8], "pending", "recovery", "webhook", hook.url, "0",
            *_utc(t0 + 1).split(), *_utc(t0 + 1).split(), "-",
        ]  # fmt: skip
        assert oldest.split() == [
            first.id[:8], "pending", "failure", "webhook", hook.url, "1",
            *_utc(t0).split(), *_utc(t0 + 2 + BACKOFF_S).split(),
            "HTTP", "503", "Service", "Unavailable",
        ]  # fmt: skip

        assert main(["notify", "list", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)["notifications"]
        assert [r["id"] for r in rows] == [second.id, first.id]
        assert rows[1]["created"] == dt.datetime.fromtimestamp(t0, dt.timezone.utc).isoformat(
            timespec="milliseconds"
        )  # a time, not an epoch float
        assert rows[1]["last_error"] == "HTTP 503 Service Unavailable"
        assert rows[1]["payload"] == {"run_id": "a"} and rows[1]["attempts"] == 1

        # Usage errors: one line, exit 2.
        assert main(["notify", "retry"]) == 2
        assert "give notification ids (see jupyter-mlops notify list) or --all" in (
            capsys.readouterr().err
        )
        assert main(["notify", "retry", "0000nope"]) == 2
        assert "'0000nope' matches no undelivered notification" in capsys.readouterr().err

        # Still down: the retried one fails again, and the command says so (exit 1).
        assert main(["notify", "retry", first.id[:8]]) == 1
        out = capsys.readouterr().out
        assert out.splitlines() == [
            "1 notification(s) due now; 0 delivered",
            f"  {first.id[:8]} failed again: HTTP 503 Service Unavailable",
        ]
        hook.down = False
        assert main(["notify", "retry", "--all", "--json"]) == 0
        done = json.loads(capsys.readouterr().out)
        assert done["retried"] == 2 and sorted(done["delivered"]) == sorted([first.id, second.id])
        assert done["failed"] == {}
        assert set(hook.answered) == {first.id, second.id}

    assert main(["notify", "list"]) == 0
    assert capsys.readouterr().out.startswith("no notifications waiting")
    assert main(["notify", "list", "--all", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["notifications"]
    assert [(r["id"], r["status"]) for r in rows] == [
        (second.id, "delivered"), (first.id, "delivered"),
    ]  # fmt: skip
    assert all(r["next_attempt"] is None and r["delivered"] for r in rows)


def test_the_monitor_says_no_target_or_queued(
    tracker: mlops.Tracker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_monitor(tmp_path, "cooldown: 1h\nchecks:\n  - {kind: drift, action: notify}\n")
    register(tracker, "churn", Threshold())
    feed(range(5), drift_from=4)
    now = str(MONITOR_T0 + 4 * DAY + 7200)
    assert main(["monitor", "churn", "--evaluate", "--now", now]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "evaluated churn: breached drift:drift; notify: no target configured, not delivered"
    )
    assert "notify done" not in out
    assert main(["monitor", "churn", "--json"]) == 0
    (action,) = json.loads(capsys.readouterr().out)["actions"]
    assert action["status"] == "no target" and action["detail"]["delivered"] is False

    with receiver() as hook:
        monkeypatch.setenv("JUPYTER_MLOPS_NOTIFY_WEBHOOK", hook.url)
        later = str(MONITOR_T0 + 4 * DAY + 7300)
        assert main(["monitor", "churn", "--evaluate", "--now", later]) == 0
        captured = capsys.readouterr()
        (queued,) = tracker.store.notifications()
        assert captured.out.splitlines()[0] == (
            f"evaluated churn: breached drift:drift; notify queued (notification {queued.id[:8]})"
        )
        # The command delivered it before exiting (well within notify_wait): nothing pending.
        assert captured.err == ""
        assert hook.keys() == [queued.id] and hook.received[0][1]["event"] == "monitor_breach"
    assert main(["monitor", "churn", "--json"]) == 0
    action = json.loads(capsys.readouterr().out)["actions"][-1]
    assert action["status"] == "queued" and action["detail"]["delivered"] is False
    assert action["detail"]["notifications"] == [queued.id]
