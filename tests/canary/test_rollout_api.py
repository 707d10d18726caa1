"""``GET/POST models/NAME/rollout`` and ``POST models/NAME/rollout/abort`` on a real
jupyter_server (authentication on), over a real store with real scikit-learn models and
labels: start, show and abort a canary; a bad plan is a 400 with the CLI's line, an unknown
model a 404, a second canary a 409; no credentials, no access."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.store import close_stores, open_store
from tests.canary.helpers import NAME, T0, Traffic, register

pytestmark = pytest.mark.slow


@pytest.fixture
def jp_root_dir(tmp_path: Path, lite_tracker: mlops.Tracker) -> Path:
    register(lite_tracker, "x1", bless=True)
    Traffic(lite_tracker.store).serve(100, T0)
    register(lite_tracker, "good")
    close_stores()
    return tmp_path  # the project: its .mlops is the store above


@pytest.fixture
def jp_server_config() -> dict:
    from traitlets.config import Config

    return Config({"ServerApp": {"jpserver_extensions": {"jupyter_mlops.server": True}}})


@pytest.fixture
def api(jp_fetch):
    async def call(*parts: str, method: str = "GET", body=None):
        kw = {"raise_error": False}
        if method == "POST":
            kw["body"] = json.dumps(body or {})
        resp = await jp_fetch("jupyter-mlops", "api", *parts, method=method, **kw)
        return resp.code, json.loads(resp.body.decode())

    return call


async def test_start_show_abort(api) -> None:
    code, body = await api("models", NAME, "rollout")
    assert code == 200 and body["state"] == "none"
    plan = {"version": 2, "steps": "10,50,100", "guards": ["p99<50ms"], "min_labels": 100}
    code, body = await api("models", NAME, "rollout", method="POST", body=plan)
    assert code == 200, body
    assert (body["state"], body["candidate"], body["baseline"], body["share"]) == (
        "running", 2, 1, 0.1,
    )  # fmt: skip
    assert {a["arm"]: a["version"] for a in body["arms"]} == {"candidate": 2, "blessed": 1}
    code, again = await api("models", NAME, "rollout", method="POST", body=plan)
    assert code == 409 and "already has a canary" in again["error"]
    code, body = await api("models", NAME, "rollout", "abort", method="POST", body={})
    assert code == 200 and body["state"] == "aborted"
    assert [x["decision"] for x in body["trail"]] == ["abort"]
    code, body = await api("models", NAME, "rollout", "abort", method="POST", body={})
    assert code == 400 and "no canary running" in body["error"]


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"version": 2, "steps": "5,2,100"}, "--steps must increase"),
        ({"version": 2, "guards": ["fast"]}, "is not a guardrail"),
        ({"version": 2, "guards": "p99<5ms"}, '"guards" must be a list'),
        ({"steps": "5,100"}, '"version" is required'),
        ({"version": 2, "metric": "f1"}, "not a per-row metric"),
    ],
)
async def test_a_bad_plan_is_a_400(api, plan: dict, message: str) -> None:
    code, body = await api("models", NAME, "rollout", method="POST", body=plan)
    assert code == 400 and message in body["error"]


async def test_unknown_model_and_credentials(api, http_server_client, jp_base_url) -> None:
    code, body = await api("models", "nope", "rollout")
    assert code == 404
    url = f"{jp_base_url}jupyter-mlops/api/models/{NAME}/rollout"
    for method, body in (("GET", None), ("POST", "{}")):
        resp = await http_server_client.fetch(url, method=method, body=body, raise_error=False)
        assert resp.code in (401, 403)


async def test_a_post_needs_the_xsrf_token(
    http_server_client, jp_base_url, jp_serverapp, jp_root_dir
) -> None:
    """Logged in by cookie, a POST without the XSRF token is refused (403) and starts nothing."""
    token = jp_serverapp.identity_provider.token
    login = await http_server_client.fetch(
        f"{jp_base_url}jupyter-mlops/api/status?token={token}", raise_error=False
    )
    cookies = "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))
    url = f"{jp_base_url}jupyter-mlops/api/models/{NAME}/rollout"
    body = json.dumps({"version": 2})
    refused = await http_server_client.fetch(
        url, method="POST", body=body, headers={"Cookie": cookies}, raise_error=False
    )
    assert refused.code == 403
    assert open_store(str(jp_root_dir / ".mlops")).active_rollout(NAME) is None
