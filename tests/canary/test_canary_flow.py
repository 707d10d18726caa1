"""End-to-end canaries over a real SQLite store, real scikit-learn models and a real label
stream through ``mlops.predict`` and ``mlops.log_labels`` (clock injected): a better model is
promoted step by step, a worse one rolled back, a slow one stopped by its guardrail; a
restart resumes at the stored step; two store handles never double-step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import ConflictError, ValidationError
from jupyter_mlops.monitoring.canary import abort_canary, arms_for, start_canary, step
from jupyter_mlops.monitoring.canary_spec import make_plan
from jupyter_mlops.store.base import RunStore
from jupyter_mlops.store.sqlite import SQLiteStore
from tests.canary.helpers import NAME, T0, Traffic, register

MINUTE = 60.0


def _setup(tracker: mlops.Tracker, candidate: str) -> tuple[Traffic, int]:
    register(tracker, "x1", bless=True)
    traffic = Traffic(tracker.store)
    traffic.serve(100, T0)  # the blessed version's labels: a canary decides on them
    return traffic, register(tracker, candidate)


def _plan(**kw):
    return make_plan("10,50,100", kw.pop("guards", ()), "1m", min_labels=100, effect=0.05, **kw)


def _drive(store: RunStore, traffic: Traffic, looks: int = 40, n: int = 400) -> list:
    results, now = [], T0
    for _ in range(looks):
        now += MINUTE
        traffic.serve(n, now - 1)
        result = step(store, NAME, now)
        if result is not None:
            results.append(result)
            if result.rollout.state != "running":
                break
    return results


def test_a_better_model_is_promoted_step_by_step(lite_tracker: mlops.Tracker) -> None:
    store = lite_tracker.store
    traffic, v2 = _setup(lite_tracker, "good")
    r = start_canary(store, NAME, v2, _plan(), T0)
    assert (r.share, r.step, r.baseline) == (0.1, 0, 1)
    ids, _ = traffic.serve(1000, T0 + 1)
    batches = store.monitor_batches(NAME, since=T0 + 1)
    by_role = {b.role: b.n_rows for b in batches}
    assert by_role["canary"] == int(np.sum(arms_for(store, NAME, ids, T0)[1][1]))
    assert abs(by_role["canary"] / 1000 - 0.1) < 0.03
    results = _drive(store, traffic)
    assert [x.decision for x in results][-1] == "promote"
    assert "advance" in [x.decision for x in results]
    assert store.get_model(NAME).version == v2
    actions = [e.action for e in store.model_events(NAME) if e.action.startswith("canary")]
    assert actions[0] == "canary-start" and actions[-1] == "canary-promote"
    assert actions.count("canary-step") == 2
    bless = [e for e in store.model_events(NAME) if e.action == "bless"][-1]
    assert bless.version == v2 and "lower bound" in (bless.reason or "")
    looks = store.rollout_looks(NAME, v2)
    assert looks[-1].evidence["candidate"]["labels"] >= 100
    assert looks[-1].evidence["look"]["lower"] > 0
    assert 0 < looks[-1].evidence["candidate"]["distance"] < 0.5  # x1 alone vs both features


def test_a_worse_model_is_rolled_back_and_routing_stops(
    lite_tracker: mlops.Tracker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_NOTIFY_WEBHOOK", "http://127.0.0.1:9/hook")
    store = lite_tracker.store
    traffic, v2 = _setup(lite_tracker, "dummy")
    start_canary(store, NAME, v2, _plan(), T0)
    results, now = [], T0
    while not results or results[-1].rollout.state == "running":
        now += MINUTE
        traffic.serve(400, now - 1)
        found = step(store, NAME, now, root=tmp_path)
        results += [found] if found is not None else []
    assert results[-1].decision == "rollback" and results[-1].rollout.share == 0.0
    (sent,) = store.notifications()  # the rollback, queued for the project's webhook
    assert sent.event == "canary_rollback" and sent.payload["model"] == f"{NAME}@{v2}"
    assert store.get_model(NAME).version == 1
    assert store.active_rollout(NAME) is None
    ids, _ = traffic.serve(200, T0 + 3600)
    assert {b.role for b in store.monitor_batches(NAME, since=T0 + 3600)} == {"blessed"}
    assert [v for v, _ in arms_for(store, NAME, ids, T0)] == [1]


def test_a_guardrail_breach_rolls_back_at_once(lite_tracker: mlops.Tracker) -> None:
    """A p50 limit of 1 µs: no real model answers that fast, so the first look rolls back."""
    store = lite_tracker.store
    traffic, v2 = _setup(lite_tracker, "good")
    start_canary(store, NAME, v2, _plan(guards=["p50<0.001ms"]), T0)
    results = _drive(store, traffic, looks=3)
    assert len(results) == 1 and results[0].decision == "rollback"
    assert results[0].reason.startswith("guardrail: p50")
    event = store.model_events(NAME)[-1]
    assert event.action == "canary-rollback" and "guardrail" in (event.reason or "")


def test_a_restart_resumes_at_the_stored_step(lite_tracker: mlops.Tracker) -> None:
    store = lite_tracker.store
    traffic, v2 = _setup(lite_tracker, "good")
    start_canary(store, NAME, v2, _plan(), T0)
    now = T0
    while store.active_rollout(NAME).step == 0:  # look until the first step is taken
        now += MINUTE
        traffic.serve(400, now - 1)
        step(store, NAME, now)
    before = store.active_rollout(NAME)
    # A restart: a fresh handle (as a new process opens) resumes at the stored step, and the
    # next look is due one interval after the last change, not at once.
    again = SQLiteStore(store.workdir)
    resumed = again.active_rollout(NAME)
    assert resumed == before and resumed.step == 1 and resumed.share == 0.5
    assert step(again, NAME, now + MINUTE / 2) is None
    traffic.serve(400, now + MINUTE - 1)
    after = step(again, NAME, now + MINUTE)
    assert after is not None and after.rollout.revision == before.revision + 1


def test_two_handles_never_double_step(lite_tracker: mlops.Tracker) -> None:
    store = lite_tracker.store
    traffic, v2 = _setup(lite_tracker, "good")
    start_canary(store, NAME, v2, _plan(), T0)
    traffic.serve(400, T0 + 10)
    other = SQLiteStore(store.workdir)
    stale = other.active_rollout(NAME)
    first = step(store, NAME, T0 + MINUTE)
    assert first is not None
    from jupyter_mlops.store.sql_rollouts import RolloutChange

    refused = other.update_rollout(stale, RolloutChange("running", 5, 0.9), stale.revision, T0)
    assert refused is None  # the stale revision's change is not applied
    assert store.active_rollout(NAME).step == first.rollout.step
    assert step(other, NAME, T0 + MINUTE) is None  # not due again until one interval later
    assert len(store.rollout_looks(NAME, v2)) == 1


def test_abort_and_the_one_line_refusals(lite_tracker: mlops.Tracker) -> None:
    store = lite_tracker.store
    register(lite_tracker, "x1", bless=True)
    v2 = register(lite_tracker, "good")
    with pytest.raises(ValidationError, match="no labels") as e:
        start_canary(store, NAME, v2, _plan(), T0)
    assert "\n" not in str(e.value)
    Traffic(store).serve(50, T0)
    with pytest.raises(ValidationError, match="is the blessed version"):
        start_canary(store, NAME, 1, _plan(), T0)
    start_canary(store, NAME, v2, _plan(), T0)
    with pytest.raises(ConflictError, match="already has a canary"):
        start_canary(store, NAME, v2, _plan(), T0)
    done = abort_canary(store, NAME, T0 + 5, "by hand in a test")
    assert done.rollout.state == "aborted" and store.active_rollout(NAME) is None
    with pytest.raises(ValidationError, match="no canary running"):
        abort_canary(store, NAME, T0 + 6)
    start_canary(store, NAME, v2, _plan(), T0 + 7)  # a finished canary can start again


def test_no_blessed_version_is_refused(lite_tracker: mlops.Tracker) -> None:
    v1 = register(lite_tracker, "x1")
    with pytest.raises(ValidationError, match="no blessed version"):
        start_canary(lite_tracker.store, NAME, v1, _plan(), T0)
