"""Monitor specs and evaluate(): checks over windows of recorded batches, actions with cooldown,
everything recorded; the clock is injected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import MLOpsError
from jupyter_mlops.monitoring import evaluate, load_monitor, log_labels, predict
from jupyter_mlops.monitoring.spec import MonitorSpec

from .helpers import DAY, T0, Threshold, features, register, truth


def write_monitor(path: Path, text: str) -> None:
    (path / "monitors").mkdir(exist_ok=True)
    (path / "monitors" / "churn.yaml").write_text(text)


def test_spec_defaults_and_errors(tmp_path: Path) -> None:
    write_monitor(tmp_path, "checks:\n  - {kind: drift, action: retrain}\n")
    spec = load_monitor("churn")
    assert (spec.model, spec.window, spec.cooldown, spec.reference) == (
        "churn", "daily", DAY, "training",
    )  # fmt: skip
    assert spec.checks[0].action == "retrain" and spec.checks[0].max_share == 0.0
    for bad, needle in [
        ({"window": "hourly"}, "window 'hourly'"),
        ({"checks": [{"kind": "performance", "metric": "accuracy"}]}, "a metric and a min"),
        ({"checks": [{"kind": "drift", "action": "panic"}]}, "action must be"),
        ({"checks": [{"kind": "slice", "metric": "f1", "min": 0.5}]}, "needs the column"),
        ({"cooldown": "soon"}, "bad duration"),
        ({"colldown": "1d"}, "unknown field(s) colldown"),
    ]:
        with pytest.raises(MLOpsError, match=needle.replace("(", r"\(").replace(")", r"\)")):
            MonitorSpec.from_dict("churn", bad)
    with pytest.raises(MLOpsError, match="No monitor 'nope'"):
        load_monitor("nope")


def feed(days: range, drift_from: int | None = None, n: int = 400) -> None:
    for day in days:
        shift = 1.5 if drift_from is not None and day >= drift_from else 0.0
        X = features(n, seed=100 + day, shift=shift).drop(columns="region")
        predict("churn", X, ids=[f"d{day}-{i}" for i in range(n)], now=T0 + day * DAY + 3600)


def test_drift_breach_notifies_once_per_cooldown(
    tracker: mlops.Tracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_monitor(tmp_path, "cooldown: 2d\nchecks:\n  - {kind: drift, action: notify}\n")
    register(tracker, "churn", Threshold())
    feed(range(7), drift_from=4)
    quiet = evaluate("churn", now=T0 + 3 * DAY + 7200)  # day 3's window: no drift
    assert not quiet.breached and quiet.actions == []
    (check,) = quiet.checks
    assert check.value == 0.0 and check.detail["rows"] == 400
    # No notify target configured: said so (not "done"), and not counted for the cooldown.
    alone = evaluate("churn", now=T0 + 4 * DAY + 3600, act=True)
    assert alone.breached and [a["status"] for a in alone.actions] == ["no target"]
    assert alone.actions[0]["delivered"] is False
    assert alone.describe() == "breached drift:drift; notify: no target configured, not delivered"
    monkeypatch.setenv("JUPYTER_MLOPS_NOTIFY_WEBHOOK", "http://127.0.0.1:9/hook")
    hit = evaluate("churn", now=T0 + 4 * DAY + 7200, clock=lambda: T0 + 4 * DAY + 7300)
    assert hit.breached and hit.checks[0].detail["drifted"] == ["x1"]
    (action,) = hit.actions
    assert action["status"] == "queued" and action["delivered"] is False  # queued, not sent
    (queued,) = tracker.store.notifications()
    assert action["notifications"] == [queued.id] and queued.event == "monitor_breach"
    assert (
        queued.created.timestamp() == T0 + 4 * DAY + 7300
    )  # the injected clock, not the evaluated time
    assert queued.payload["monitor"] == "churn" and "drift" in queued.payload["error"]
    assert hit.describe() == f"breached drift:drift; notify queued (notification {queued.id[:8]})"
    again = evaluate("churn", now=T0 + 5 * DAY + 7200)
    assert [a["status"] for a in again.actions] == ["cooldown"]
    later = evaluate("churn", now=T0 + 6 * DAY + 7200)
    assert [a["status"] for a in later.actions] == ["queued"]
    events = [e for e in tracker.store.monitor_events("churn") if e.kind != "load"]
    assert [(e.kind, e.status) for e in events] == [
        ("evaluation", "ok"),
        ("evaluation", "breach"), ("action", "no target"),
        ("evaluation", "breach"), ("action", "queued"),
        ("evaluation", "breach"), ("action", "cooldown"),
        ("evaluation", "breach"), ("action", "queued"),
    ]  # fmt: skip


def test_weekly_window_merges_daily_profiles(tracker: mlops.Tracker) -> None:
    register(tracker, "churn", Threshold())
    feed(range(10))
    spec = MonitorSpec.from_dict("churn", {"window": "weekly", "checks": [{"kind": "drift"}]})
    ev = evaluate("churn", now=T0 + 9 * DAY + 7200, spec=spec, act=False)
    assert ev.checks[0].detail["rows"] == 7 * 400 and not ev.breached
    batch = MonitorSpec.from_dict("churn", {"window": "batch", "checks": [{"kind": "drift"}]})
    assert evaluate("churn", now=T0 + 9 * DAY + 7200, spec=batch).checks[0].detail["rows"] == 400


def test_performance_breach_rolls_back_a_degraded_model(tracker: mlops.Tracker) -> None:
    register(tracker, "churn", Threshold())
    register(tracker, "churn", Threshold(flip=True))  # v2 blessed, and it is bad
    spec = MonitorSpec.from_dict(
        "churn",
        {
            "checks": [
                {"kind": "performance", "metric": "accuracy", "min": 0.8, "min_labels": 50,
                 "action": "rollback"},
                {"kind": "slice", "column": "region", "metric": "f1", "min": 0.5},
            ]
        },
    )  # fmt: skip
    X = features(300, seed=9)
    ids = [f"r{i}" for i in range(300)]
    predict("churn", X, ids=ids, slice_by="region", now=T0)
    few = evaluate("churn", now=T0 + 100, spec=spec)
    assert not few.breached and "fewer than 50" in few.checks[0].detail["skip"]
    log_labels("churn", ids, truth(X), now=T0 + DAY)
    ev = evaluate("churn", now=T0 + DAY + 100, spec=spec)
    perf, by_slice = ev.checks
    assert perf.breached and perf.value == 0.0 and perf.detail["labelled"] == 300
    assert by_slice.breached and set(by_slice.detail["breaching"]) == {"north", "south"}
    rollback = next(a for a in ev.actions if a["action"] == "rollback")
    assert (rollback["status"], rollback["from"], rollback["to"]) == ("done", 2, 1)
    assert tracker.store.get_model("churn").version == 1
    last, pin = tracker.store.model_events("churn")[-2:]
    assert pin.action == "pin" and tracker.store.model_pin("churn").version == 1  # type: ignore[union-attr]
    assert last.action == "rollback" and "accuracy 0 breaches accuracy >= 0.8" in (
        last.reason or ""
    )
    # The restored version has no labelled batch yet: nothing breaches, nothing rolls back again.
    assert not evaluate("churn", now=T0 + DAY + 200, spec=spec).breached


def test_failed_action_is_recorded_not_raised(tracker: mlops.Tracker) -> None:
    register(tracker, "churn", Threshold(flip=True))
    spec = MonitorSpec.from_dict(
        "churn",
        {"checks": [{"kind": "performance", "metric": "accuracy", "min": 0.9,
                     "action": "rollback"}]},
    )  # fmt: skip
    X = features(50, seed=10)
    predict("churn", X, ids=range(50), now=T0)
    log_labels("churn", range(50), truth(X), now=T0)
    ev = evaluate("churn", now=T0 + 10, spec=spec)
    (action,) = ev.actions
    assert action["status"] == "failed" and "nothing to roll back to" in action["error"]


def test_too_few_labels_is_pending_everywhere(
    tracker: mlops.Tracker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jupyter_mlops.cli.app import main
    from jupyter_mlops.monitoring.report import detail

    write_monitor(
        tmp_path,
        "checks:\n  - {kind: performance, metric: accuracy, min: 0.8, min_labels: 50,"
        " action: rollback}\n",
    )
    register(tracker, "churn", Threshold())
    X = features(100, seed=11)
    ids = [f"p{i}" for i in range(100)]
    predict("churn", X, ids=ids, now=T0)
    why = "performance:accuracy pending (fewer than 50 labelled rows in the window)"
    for labelled, at in [(0, T0 + 60), (10, T0 + 120)]:  # no labels, then too few
        log_labels("churn", ids[:labelled], truth(X)[:labelled], now=at - 1)
        ev = evaluate("churn", now=at)
        (check,) = ev.checks
        assert (ev.status, check.status, ev.breached, ev.actions) == (
            "pending",
            "pending",
            False,
            [],
        )
        assert ev.describe() == why and check.to_dict()["status"] == "pending"
    # The CLI's text and JSON, and detail() (what GET monitors/NAME returns) say pending too.
    now = str(T0 + 130)
    assert main(["monitor", "churn", "--evaluate", "--now", now]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"evaluated churn: {why}\n")
    events = [line.split()[2:4] for line in out.splitlines() if " evaluation " in line]
    assert events == [["evaluation", "pending"]] * 3
    assert main(["monitor", "churn", "--json", "--now", now]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "pending"
    data = detail("churn", now=now, store=tracker.store)
    assert data["status"] == "pending"
    accuracy = next(p for p in data["performance"] if p["metric"] == "accuracy")
    assert (accuracy["labelled"], accuracy["status"], accuracy["breached"]) == (
        10,
        "pending",
        False,
    )
    # Enough labels: judged, and ok.
    log_labels("churn", ids, truth(X), now=T0 + 200)
    ev = evaluate("churn", now=T0 + 210)
    assert (ev.status, ev.describe()) == ("ok", "1 check(s) ok")
    data = detail("churn", now=str(T0 + 220), store=tracker.store)
    assert data["status"] == "ok"
    assert {p["metric"]: p["status"] for p in data["performance"]}["accuracy"] == "ok"
