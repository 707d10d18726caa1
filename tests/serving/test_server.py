"""``jupyter-mlops serve`` over HTTP: a real uvicorn server, real scikit-learn models registered
and blessed through the registry in a real SQLite store, real httpx requests."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

import jupyter_mlops as mlops
from jupyter_mlops.monitoring import log_labels
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.serving import ServeOptions
from jupyter_mlops.serving.records import flush

from .live import T0, Slow, features, register, running, train, wait_for


@pytest.fixture
def tracker() -> mlops.Tracker:
    """The test's own SQLite store (the suite's ``tracker`` also runs PostgreSQL: the server's
    store access is the monitors' and the registry's, tested there on both)."""
    return mlops.default_tracker()


@pytest.fixture
def url(tracker: mlops.Tracker) -> Iterator[str]:
    register(tracker, "churn", train(0))
    with running(tracker.store) as base:
        yield base


def _predict(base: str, name: str = "churn", **kw: object) -> httpx.Response:
    return httpx.post(f"{base}/models/{name}/predict", timeout=30, **kw)  # type: ignore[arg-type]


def test_each_body_format_gets_the_blessed_models_predictions(url: str) -> None:
    X = features(20, seed=1)
    expected = train(0).predict(X).tolist()
    buf = io.BytesIO()
    X.to_parquet(buf)
    bodies = [
        {"json": X.to_dict(orient="records")},
        {"json": {"records": X.to_dict(orient="records")}},
        {"json": json.loads(X.to_json(orient="split"))},
        {"json": {"dataframe_split": json.loads(X.to_json(orient="split"))}},
        {"content": X.to_csv(index=False), "headers": {"content-type": "text/csv"}},
        {"content": buf.getvalue(), "headers": {"content-type": "application/vnd.apache.parquet"}},
        {"content": buf.getvalue(), "headers": {"content-type": "application/x-parquet"}},
    ]
    for body in bodies:
        r = _predict(url, **body)
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["predictions"] == expected
        assert (data["model"], data["version"]) == ("churn", 1)
        assert r.headers["x-request-id"] == data["request_id"]


def test_health_ready_and_models(url: str, tracker: mlops.Tracker) -> None:
    v2 = register(tracker, "churn", train(1), bless=False)
    ModelRegistry(tracker.store).shadow(f"churn@{v2}")
    assert httpx.get(f"{url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{url}/ready")
    assert ready.status_code == 200 and ready.json()["models"] == ["churn"]

    def shadow_listed() -> list[dict[str, object]]:
        (m,) = httpx.get(f"{url}/models").json()["models"]
        return m if len(m["versions"]) == 2 else None

    m = wait_for(shadow_listed)
    assert m["blessed"] == 1 and m["traffic"] == {"1": 1.0}
    assert [(v["version"], v["stage"]) for v in m["versions"]] == [(1, "blessed"), (2, "shadow")]


def test_every_client_mistake_is_a_4xx_with_one_line(
    tracker: mlops.Tracker,
) -> None:
    register(tracker, "churn", train(0))
    register(tracker, "draft", train(0), bless=False)
    register(tracker, "slow", Slow(1.0))
    X = features(3, seed=2).to_dict(orient="records")
    options = ServeOptions(("churn", "draft", "slow"), max_body=2000, poll_seconds=0.05)
    cases = [
        (400, {"content": b"{not json", "headers": {"content-type": "application/json"}}),
        (400, {"content": b"\x00\xff\xfe", "headers": {"content-type": "application/x-parquet"}}),
        (400, {"content": b'a,b\n"1,2\n', "headers": {"content-type": "text/csv"}}),
        (415, {"content": b"x1=1", "headers": {"content-type": "application/xml"}}),
        (422, {"json": []}),
        (422, {"json": {"records": []}}),
        (422, {"content": b"", "headers": {"content-type": "text/csv"}}),
        (422, {"json": {"rows": X}}),
        (422, {"json": {"records": [[1, 2]]}}),
        (422, {"json": {"records": X, "ids": ["a"]}}),
        (422, {"json": {"columns": ["x1"], "data": [[1, 2]]}}),
        (422, {"json": [{"other": 1.0}]}),  # not the model's columns: its contract says so
        (413, {"json": {"records": X * 100}}),
    ]
    with running(tracker.store, options) as url:
        for status, body in cases:
            r = _predict(url, **body)
            assert r.status_code == status, (body, r.text)
            # one line; a broken contract also lists its violations, each named
            assert set(r.json()) <= {"error", "violations"} and "\n" not in r.json()["error"]
        assert _predict(url, "nope", json=X).status_code == 404
        assert _predict(url, "draft", json=X).status_code == 409
        assert "bless one" in _predict(url, "draft", json=X).json()["error"]
        assert httpx.get(f"{url}/models/churn/predict").status_code == 405
    # a server of its own: its small timeout must trip on the slow model alone
    with running(tracker.store, ServeOptions(("slow",), timeout=0.2)) as url:
        r = _predict(url, "slow", json=X)
        assert r.status_code == 504 and "timeout" in r.json()["error"]


def test_ids_from_a_field_or_a_column_join_later_labels(url: str, tracker: mlops.Tracker) -> None:
    X = features(4, seed=3)
    r = _predict(url, json={"records": X.to_dict(orient="records"), "ids": ["a", "b", "c", "d"]})
    csv = X.assign(user=["e", "f", "g", "h"]).to_csv(index=False)
    r2 = _predict(
        url, content=csv, headers={"content-type": "text/csv"}, params={"id_column": "user"}
    )
    assert r.status_code == r2.status_code == 200
    plain = _predict(url, json=X.to_dict(orient="records")).json()
    assert flush(30)
    joined = log_labels("churn", ["a", "h", f"{plain['request_id']}:0"], [1, 0, 1], now=T0 + 60)
    assert joined.attached == 3


def test_every_answered_request_is_recorded_after_a_flush(url: str, tracker: mlops.Tracker) -> None:
    answered, rows = [], 0
    with httpx.Client(base_url=url, timeout=30) as client:
        for i in range(30):
            X = features(1 + i % 5, seed=i)
            r = client.post("/models/churn/predict", json=X.to_dict(orient="records"))
            assert r.status_code == 200
            answered.append(r.json()["request_id"])
            rows += len(X)
    assert flush(60)
    batches = tracker.store.monitor_batches("churn")
    assert sorted(b.batch_id for b in batches) == sorted(answered)
    assert sum(b.n_rows for b in batches) == rows
    assert {b.time for b in batches} == {T0} and all(b.role == "blessed" for b in batches)


def test_bless_and_rollback_take_effect_without_a_restart(url: str, tracker: mlops.Tracker) -> None:
    X = features(50, seed=4).to_dict(orient="records")
    flipped = train(0, flip=True)
    register(tracker, "churn", flipped)  # v2, blessed

    def version() -> int:
        r = _predict(url, json=X)
        assert r.status_code == 200, r.text
        return int(r.json()["version"])

    assert wait_for(lambda: version() == 2)
    assert _predict(url, json=X).json()["predictions"] == flipped.predict(features(50, 4)).tolist()
    ModelRegistry(tracker.store).rollback("churn", reason="worse")
    assert wait_for(lambda: version() == 1)


def test_a_model_blessed_later_is_served_without_a_restart(
    url: str, tracker: mlops.Tracker
) -> None:
    X = features(2, seed=5).to_dict(orient="records")
    assert _predict(url, "late", json=X).status_code == 404
    register(tracker, "late", train(2))
    assert wait_for(lambda: _predict(url, "late", json=X).status_code == 200)


def test_shadow_versions_score_the_same_rows_off_the_request_path(
    url: str, tracker: mlops.Tracker
) -> None:
    v2 = register(tracker, "churn", train(0, flip=True), bless=False)
    ModelRegistry(tracker.store).shadow(f"churn@{v2}")
    X = features(10, seed=6)
    r = wait_for(lambda: _predict(url, json=X.to_dict(orient="records")))
    assert r.json()["version"] == 1 and r.json()["predictions"] == train(0).predict(X).tolist()
    assert flush(60)
    (shadow,) = tracker.store.monitor_batches("churn", role="shadow")
    assert (shadow.batch_id, shadow.version, shadow.n_rows) == (r.json()["request_id"], v2, 10)


def _samples(url: str, headers: dict[str, str] | None = None) -> dict[tuple[str, tuple], float]:
    text = httpx.get(f"{url}/metrics", headers=headers).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_requests_errors_and_latency_per_model_version_and_arm(url: str) -> None:
    X = features(3, seed=7).to_dict(orient="records")
    for _ in range(3):
        assert _predict(url, json=X).status_code == 200
    assert _predict(url, json=[]).status_code == 422
    for i in range(3):  # names no model has share one label: metrics do not grow per name
        assert _predict(url, f"nope-{i}", json=X).status_code == 404
    assert flush(30)
    s = _samples(url)
    unknown = (("model", "(unknown)"), ("status", "404"))
    assert s[("mlops_serve_requests_total", unknown)] == 3
    assert s[("mlops_serve_requests_total", (("model", "churn"), ("status", "200")))] == 3
    assert s[("mlops_serve_errors_total", (("model", "churn"), ("status_class", "4xx")))] == 1
    arm = (("arm", "blessed"), ("model", "churn"), ("version", "1"))
    assert s[("mlops_serve_latency_seconds_count", arm)] == 3
    assert s[("mlops_serve_rows_total", arm)] == 9
    assert s[("mlops_serve_records_total", (("model", "churn"),))] == 3


def test_a_store_that_is_down_costs_the_record_never_the_response(
    url: str, tracker: mlops.Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_mlops.exceptions import StoreUnavailableError

    def down(*args: object, **kw: object) -> None:
        raise StoreUnavailableError("disk I/O error (injected)")

    monkeypatch.setattr(tracker.store, "record_batch", down)  # a fault, on the real store
    X = features(3, seed=8).to_dict(orient="records")
    assert all(_predict(url, json=X).status_code == 200 for _ in range(2))
    assert flush(30)
    lost = (("model", "churn"), ("why", "store"))
    assert wait_for(lambda: _samples(url).get(("mlops_serve_records_lost_total", lost)) == 2)


def test_a_token_is_required_when_set_and_compared_whole(tracker: mlops.Tracker) -> None:
    register(tracker, "churn", train(0))
    X = features(2, seed=9).to_dict(orient="records")
    with running(tracker.store, ServeOptions(token="s3cret-token", poll_seconds=0.05)) as url:
        assert httpx.get(f"{url}/health").status_code == 200  # a liveness probe needs none
        for headers in ({}, {"authorization": "Bearer s3cret"}, {"authorization": "s3cret-token"}):
            r = _predict(url, json=X, headers=headers)
            assert r.status_code == 401 and "s3cret" not in r.text
            assert r.headers["www-authenticate"] == "Bearer"
        for path in ("/models", "/metrics", "/ready"):
            assert httpx.get(f"{url}{path}").status_code == 401
        ok = {"authorization": "Bearer s3cret-token"}
        assert _predict(url, json=X, headers=ok).status_code == 200
        assert httpx.get(f"{url}/metrics", headers=ok).status_code == 200
