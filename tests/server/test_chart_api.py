"""``GET runs/ID/curves``, ``GET compare/curves`` and ``GET runs/ID/table/NAME`` against a real
jupyter_server with authentication on (issue 21, item 5): downsampled curves grouped by metric,
2 to 5 runs overlaid, an importance table's top features, and every client mistake a 4xx with
one line, never a 500."""

from __future__ import annotations

import json

import jupyter_mlops as mlops
from tests.server.shared_server import *  # noqa: F403  (one server for the module)

IMPORTANCE = {
    "columns": ["feature", "gain", "weight"],
    "rows": [[f"f{i}", float(i), 30 - i] for i in range(30)],
}


def _framework_run() -> str:
    """What a boosted-trees cell records: a 1,000-round curve per eval set and a table."""
    with mlops.start_run(experiment="gbm", name="xgb", seed=None) as run:
        for step in range(1000):
            run.log_metrics(
                {"validation_0-logloss": 1 / (step + 1), "validation_1-logloss": 2 / (step + 1)},
                step=step,
            )
        run.log_bytes(json.dumps(IMPORTANCE).encode(), "clf.importance.json", kind="table")
        run.log_bytes(b"{broken", "bad.importance.json", kind="table")
    mlops.flush()
    return run.id


async def test_run_curves_grouped_and_downsampled(api) -> None:
    run_id = _framework_run()
    code, body = await api("runs", run_id, "curves", params={"points": 100})
    assert code == 200, body
    assert [g["name"] for g in body["groups"]] == ["logloss"]
    curves = body["groups"][0]["curves"]
    assert [c["key"] for c in curves] == ["validation_0-logloss", "validation_1-logloss"]
    assert body["downsampled"] is True
    for c in curves:
        assert c["total"] == 1000 and c["downsampled"] and len(c["steps"]) <= 100
        assert c["steps"][-1] == 999
    assert curves[1]["values"][-1] == 2 / 1000
    for bad in ("1", "x", "1e9", "20001"):
        code, body = await api("runs", run_id, "curves", params={"points": bad})
        assert code == 400 and "points must be" in body["error"], (bad, body)
    code, body = await api("runs", "nope", "curves")
    assert code == 404


async def test_compare_curves_overlay_and_omitted(api, project) -> None:
    ids = project.script  # six runs, each with a 3-step "loss"
    code, body = await api("compare", "curves", params={"ids": ",".join(ids), "metric": "loss"})
    assert code == 200, body
    assert [c["run_id"] for c in body["curves"]] == ids[:5]
    assert [c["label"] for c in body["curves"]] == [f"try-{i}" for i in range(5)]
    assert body["omitted"] == [ids[5]] and body["missing"] == []
    assert body["curves"][2]["values"] == [1 / 3, 1 / 4, 1 / 5]
    code, body = await api("compare", "curves", params={"ids": ids[0], "metric": "loss"})
    assert code == 400 and "at least two" in body["error"]
    code, body = await api("compare", "curves", params={"ids": ",".join(ids[:2])})
    assert code == 400 and "metric is required" in body["error"]
    code, body = await api("compare", "curves", params={"ids": ",".join(ids[:2]), "metric": "acc"})
    assert code == 404 and "at more than one step" in body["error"]


async def test_table_with_importance(api) -> None:
    run_id = _framework_run()
    code, body = await api("runs", run_id, "table", "clf.importance.json")
    assert code == 200, body
    assert body["columns"] == ["feature", "gain", "weight"] and body["total_rows"] == 30
    imp = body["importance"]
    assert imp["column"] == "gain" and imp["features"][:3] == ["f29", "f28", "f27"]
    assert len(imp["features"]) == 20 and imp["values"][0] == 29.0
    code, body = await api("runs", run_id, "table", "clf.importance.json", params={"by": "weight"})
    assert code == 200 and body["importance"]["features"][0] == "f0"
    code, body = await api("runs", run_id, "table", "bad.importance.json")
    assert code == 400 and "not a table (not JSON" in body["error"] and "\n" not in body["error"]
    code, body = await api("runs", run_id, "table", "clf.importance.json", params={"by": "x"})
    assert code == 400 and "by must be a column of feature importance" in body["error"]
    code, body = await api("runs", run_id, "table", "clf.importance.json", params={"rows": 0})
    assert code == 400
    code, body = await api("runs", run_id, "table", "../mlops.db")
    assert code == 404


async def test_unauthenticated_requests_are_refused(http_server_client, jp_base_url, project):
    run_id = project.script[0]
    for path in (
        f"runs/{run_id}/curves",
        f"runs/{run_id}/table/notes.txt",
        f"compare/curves?ids={run_id},{project.script[1]}&metric=loss",
    ):
        url = f"{jp_base_url}jupyter-mlops/api/{path}"
        resp = await http_server_client.fetch(url, raise_error=False)
        assert resp.code in (401, 403), (path, resp.code)
        assert run_id not in resp.body.decode()
        # POST is no method of these read-only views, authenticated or not.
        resp = await http_server_client.fetch(url, method="POST", body="{}", raise_error=False)
        assert resp.code in (401, 403, 405), (path, resp.code)
