"""``promote-shadow`` as a monitor action, through ``evaluate``: a ``{kind: shadow}`` check
weighs each shadow's evidence at every evaluation; the action blesses one whose rule holds
(recording the evidence), records "held" with the counts when none does, and keeps to the
monitor's cooldown after a promotion."""

from __future__ import annotations

from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.entities import ModelStage
from jupyter_mlops.exceptions import MLOpsError
from jupyter_mlops.monitoring import evaluate
from jupyter_mlops.monitoring.rendering import describe_event
from jupyter_mlops.monitoring.spec import MonitorSpec
from jupyter_mlops.registry import ModelRegistry

from . import shadow_serving
from .helpers import DAY, T0, Threshold, register

SPEC = {
    "cooldown": "7d",
    "checks": [{"kind": "shadow", "min_batches": 3, "action": "promote-shadow"}],
}


def serve(day: int) -> None:
    shadow_serving.serve("m", day, seed=90)


def test_the_action_holds_with_the_counts_then_promotes_then_keeps_its_cooldown(
    tracker: mlops.Tracker,
) -> None:
    spec = MonitorSpec.from_dict("m", SPEC)
    registry = ModelRegistry(tracker.store)
    register(tracker, "m", Threshold(w=-0.5))  # v1 blessed: wrong about x2
    register(tracker, "m", Threshold(w=0.6), bless=False)  # v2: nearly right
    registry.shadow("m@2")
    quiet = evaluate("m", now=T0 - 60, spec=spec)  # no labelled batch yet: pending, no action
    assert quiet.status == "pending" and quiet.actions == []
    for day in (0, 1):
        serve(day)
        ev = evaluate("m", now=T0 + day * DAY + 120, spec=spec)
        (action,) = ev.actions
        assert action["status"] == "held" and not ev.breached
        assert action["why"] == (
            f"m@2 beat the blessed model on {day + 1} of {day + 1} labelled "
            f"batch{'es' if day else ''} by accuracy; promoting needs at least 3 won and no loss"
        )
    assert "promote-shadow held: m@2 beat the blessed model on 2 of 2" in ev.describe()
    serve(2)
    done = evaluate("m", now=T0 + 2 * DAY + 120, spec=spec)
    (action,) = done.actions
    assert (action["status"], action["from"], action["to"]) == ("done", 1, 2)
    assert tracker.store.get_model("m").version == 2
    (found,) = action["evidence"]
    assert (found["ref"], found["won"], found["tied"], found["lost"]) == ("m@2", 3, 0, 0)
    event = [e for e in tracker.store.monitor_events("m") if e.kind == "action"][-1]
    assert event.status == "done" and event.detail["evidence"][0]["won"] == 3
    assert describe_event(event).startswith(
        "promote-shadow: shadow evidence: m@2 beat the blessed model on 3 of 3"
    ) and describe_event(event).endswith("(monitor m) -> @1 archived, @2 blessed")
    assert tracker.store.get_model("m", 1).stage is ModelStage.ARCHIVED
    bless = tracker.store.model_events("m")[-1]
    assert bless.action == "bless" and (bless.reason or "").startswith(
        "shadow evidence: m@2 beat the blessed model on 3 of 3 labelled batches by accuracy"
    )
    assert (bless.reason or "").endswith("(monitor m)")

    register(tracker, "m", Threshold(), bless=False)  # v3: right, shadowing v2 from day 3
    registry.shadow("m@3")
    for day in (3, 4, 5):
        serve(day)
    held = evaluate("m", now=T0 + 5 * DAY + 120, spec=spec)
    assert [a["status"] for a in held.actions] == ["cooldown"]  # promoted 3 days ago
    assert tracker.store.get_model("m").version == 2
    later = evaluate("m", now=T0 + 9 * DAY + 120, spec=spec)
    assert [(a["status"], a.get("to")) for a in later.actions] == [("done", 3)]


def test_no_shadow_is_pending_and_takes_no_action(tracker: mlops.Tracker) -> None:
    register(tracker, "m", Threshold())
    serve(0)
    ev = evaluate("m", now=T0 + 120, spec=MonitorSpec.from_dict("m", SPEC))
    (check,) = ev.checks
    assert (check.check, check.status, check.detail["skip"]) == (
        "shadow", "pending", "no shadow version",
    )  # fmt: skip
    assert ev.actions == []


@pytest.mark.parametrize(
    ("check", "needle"),
    [
        ({"kind": "shadow", "min_batches": 0}, "min_batches must be a whole number from 1"),
        ({"kind": "shadow", "min_batches": "3"}, "min_batches must be a whole number from 1"),
        ({"kind": "shadow", "min_batches": 10_001}, "from 1 to 10,000, got 10001"),
        ({"kind": "shadow", "metric": "auc"}, "metric 'auc' must be one of accuracy, f1"),
        ({"kind": "shadow", "action": "retrain"}, "action must be promote-shadow or none"),
        ({"kind": "shadow", "min": 0.8}, "unknown field(s) min; it takes min_batches"),
        (
            {"kind": "drift", "action": "promote-shadow"},
            "check 1: promote-shadow is a shadow check's action",
        ),
    ],
)
def test_spec_errors_are_one_line(check: dict, needle: str) -> None:
    with pytest.raises(MLOpsError) as e:
        MonitorSpec.from_dict("m", {"checks": [check]})
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_one_shadow_check_per_monitor() -> None:
    two = [{"kind": "shadow"}, {"kind": "shadow", "metric": "f1"}]
    with pytest.raises(MLOpsError, match="give at most one shadow check"):
        MonitorSpec.from_dict("m", {"checks": two})
    (check,) = MonitorSpec.from_dict("m", {"checks": [{"kind": "shadow"}]}).checks
    assert (check.name, check.action, check.min_batches, check.metric) == (
        "shadow", "promote-shadow", 3, None,
    )  # fmt: skip


def test_a_pinned_model_is_not_promoted(tracker: mlops.Tracker) -> None:
    registry = ModelRegistry(tracker.store)
    register(tracker, "m", Threshold(w=-0.5))
    register(tracker, "m", Threshold(), bless=False)
    registry.shadow("m@2")
    registry.pin("m", reason="holiday freeze")
    spec = MonitorSpec.from_dict("m", {"checks": [{"kind": "shadow", "min_batches": 1}]})
    serve(0)
    (action,) = evaluate("m", now=T0 + 120, spec=spec).actions
    assert action["status"] == "skipped" and "pinned" in action["why"]
    assert tracker.store.get_model("m").version == 1


def test_the_monitor_report_says_what_the_action_does(tracker: mlops.Tracker) -> None:
    from jupyter_mlops.views import monitor_report

    register(tracker, "m", Threshold())
    Path("monitors").mkdir()
    Path("monitors/m.yaml").write_text("checks:\n  - {kind: shadow, min_batches: 4}\n")
    report = monitor_report(
        "m", store=tracker.store, monitors_dir=Path("monitors"), pipelines_dir=Path("pipelines"),
        clock=lambda: T0,
    )  # fmt: skip
    assert report.monitor is not None
    (plan,) = report.monitor.plans
    assert (plan.check, plan.action, plan.words) == (
        "shadow",
        "promote-shadow",
        "bless a shadow version once it won 4 labelled batches served by another version and "
        "lost none",
    )
