"""The server over the input contract (``jupyter_mlops.validation.contract``) and a real
canary (``jupyter_mlops.monitoring.canary``): rows split by the sticky hash ``mlops.predict``
uses, each arm scored and recorded by its version, a broken contract a 422."""

from __future__ import annotations

from typing import Any

import httpx

import jupyter_mlops as mlops
from jupyter_mlops.monitoring.canary import start_canary, step
from jupyter_mlops.monitoring.canary_spec import make_plan
from jupyter_mlops.monitoring.routing import in_canary
from jupyter_mlops.serving import route_hook
from jupyter_mlops.serving.records import flush

from .live import T0, Broken, features, register, running, train


def test_without_a_canary_the_blessed_version_scores_every_row() -> None:
    tracker = mlops.default_tracker()
    register(tracker, "churn", train(0))
    ((version, mask),) = route_hook.arms(tracker.store, "churn", ["a", "b", "c"], T0)
    assert version == 1 and mask.tolist() == [True, True, True]
    assert route_hook.shares(tracker.store, "churn", 1) == {1: 1.0}


def _canary(tracker: mlops.Tracker, candidate: Any = None, guards: tuple[str, ...] = ()) -> int:
    """churn@1 blessed with labels on its predictions (a canary decides on them), churn@2 (its
    labels flipped, or ``candidate``) as the candidate of a real canary at 10 % of the traffic."""
    register(tracker, "churn", train(0))
    X = features(200, seed=3)
    ids = [f"seen-{i}" for i in range(len(X))]
    mlops.predict("churn", X, ids=ids, now=T0, sync=True, store=tracker.store)
    mlops.log_labels("churn", ids, train(0).predict(X), now=T0, store=tracker.store)
    model = train(0, flip=True) if candidate is None else candidate
    v2 = register(tracker, "churn", model, bless=False)
    plan = make_plan("10,50,100", guards, "1h", min_labels=100)
    start_canary(tracker.store, "churn", v2, plan, T0)
    return v2


def test_each_row_is_scored_by_its_canary_arm_and_recorded_per_arm() -> None:
    tracker = mlops.default_tracker()
    v2 = _canary(tracker)
    X = features(40, seed=11)
    ids = [f"user-{i}" for i in range(len(X))]
    to_candidate = [in_canary(k, 0.1) for k in ids]
    assert 0 < sum(to_candidate) < len(ids)  # these keys split: both arms score
    whole_key = next(f"k{i}" for i in range(1000) if in_canary(f"k{i}", 0.1))
    with running(tracker.store) as url:
        r = httpx.post(
            f"{url}/models/churn/predict",
            json={"records": X.to_dict(orient="records"), "ids": ids},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        good, bad = train(0).predict(X).tolist(), train(0, flip=True).predict(X).tolist()
        want = [bad[i] if c else good[i] for i, c in enumerate(to_candidate)]
        assert r.json()["predictions"] == want and r.json()["version"] == 1
        assert r.json()["versions"] == [v2 if c else 1 for c in to_candidate]
        (model,) = httpx.get(f"{url}/models").json()["models"]
        assert model["traffic"] == {"1": 0.9, str(v2): 0.1}
        # a request without ids routes whole, by its X-Routing-Key (the same sticky hash)
        whole = httpx.post(
            f"{url}/models/churn/predict",
            json=X.to_dict(orient="records"),
            headers={"x-routing-key": whole_key},
            timeout=30,
        )
        assert whole.json()["predictions"] == bad and whole.json()["version"] == v2
        metrics = httpx.get(f"{url}/metrics").text
        assert f'arm="canary",model="churn",version="{v2}"' in metrics
    assert flush(30)
    rid, whole_rid = r.json()["request_id"], whole.json()["request_id"]
    mine = [b for b in tracker.store.monitor_batches("churn") if b.batch_id in (rid, whole_rid)]
    got = sorted((b.version, b.role, b.batch_id, b.n_rows) for b in mine)
    n_candidate = sum(to_candidate)
    assert got == sorted(
        [
            (1, "blessed", rid, len(ids) - n_candidate),
            (v2, "canary", rid, n_candidate),
            (v2, "canary", whole_rid, len(X)),
        ]
    )


def test_a_request_breaking_the_contract_is_a_422_naming_every_violation() -> None:
    tracker = mlops.default_tracker()
    register(tracker, "churn", train(0))
    bad = [{"x1": "not a number", "extra": 1}]
    with running(tracker.store) as url:
        r = httpx.post(f"{url}/models/churn/predict", json=bad, timeout=30)
    assert r.status_code == 422
    body = r.json()
    assert body["error"] and isinstance(body["violations"], list) and len(body["violations"]) >= 2


def test_a_candidate_failing_its_requests_is_rolled_back_by_the_error_guardrail() -> None:
    tracker = mlops.default_tracker()
    v2 = _canary(tracker, Broken(), guards=("error_rate<1%",))
    keys = [f"user-{i}" for i in range(400)]
    to_candidate = [k for k in keys if in_canary(k, 0.1)]
    to_blessed = [k for k in keys if not in_canary(k, 0.1)][:3]
    X = features(1, seed=5).to_dict(orient="records")
    with running(tracker.store) as url:
        for key in to_candidate[:5] + to_blessed:
            r = httpx.post(
                f"{url}/models/churn/predict", json=X, headers={"x-routing-key": key}, timeout=30
            )
            # the candidate's own failure is its error, not the client's: still a 4xx body
            assert r.status_code == (422 if key in to_candidate else 200), r.text
    assert flush(30)
    errors = [e for e in tracker.store.monitor_events("churn") if e.kind == "error"]
    assert [(e.detail["version"], e.detail["rows"]) for e in errors] == [(v2, 1)] * 5
    result = step(tracker.store, "churn", T0 + 3601)
    assert result is not None and result.decision == "rollback"
    assert result.rollout.state == "rolled_back"
    assert "error_rate" in result.reason, result.reason
