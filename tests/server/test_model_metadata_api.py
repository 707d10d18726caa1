"""``POST models/NAME/versions/V/alias | tags | description`` and the bless of a version whose
gates failed, against a real jupyter_server (authentication on) over real runs: the model
detail shows aliases, tags, description and each version's gates; bad input is a 400 whose
message is the CLI's, an unknown model, version, alias or tag a 404."""

from __future__ import annotations

import json

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.entities import GateResult, GateStatus
from tests.server.shared_server import *  # noqa: F403  (one server for the module)
from tests.server.test_api import cli_error

pytestmark = pytest.mark.slow

VERSIONS = "models/train_ok/versions"


async def test_edits_need_credentials_and_xsrf(
    http_server_client, jp_base_url, jp_serverapp, project
) -> None:
    for edit in ("1/alias", "1/tags", "1/description"):
        url = f"{jp_base_url}jupyter-mlops/api/{VERSIONS}/{edit}"
        resp = await http_server_client.fetch(url, method="POST", body="{}", raise_error=False)
        assert resp.code in (401, 403), (edit, resp.code)
    token = jp_serverapp.identity_provider.token
    login = await http_server_client.fetch(
        f"{jp_base_url}jupyter-mlops/api/status?token={token}", raise_error=False
    )
    cookies = "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))
    url = f"{jp_base_url}jupyter-mlops/api/{VERSIONS}/1/alias"
    body = json.dumps({"alias": "champion"})
    refused = await http_server_client.fetch(
        url, method="POST", body=body, headers={"Cookie": cookies}, raise_error=False
    )
    assert refused.code == 403
    assert mlops.default_tracker().store.get_model("train_ok", 1).aliases == ()
    xsrf = "2|abcd1234|0123456789abcdef0123456789abcdef|1700000000"
    allowed = await http_server_client.fetch(
        url,
        method="POST",
        body=body,
        headers={"Cookie": f"{cookies}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
        raise_error=False,
    )
    assert allowed.code == 200, allowed.body
    assert mlops.default_tracker().store.get_model("train_ok", 1).aliases == ("champion",)


async def test_alias_tags_description_and_the_model_detail(api, project) -> None:
    code, body = await api(VERSIONS, "1", "alias", method="POST", body={"alias": "champion"})
    assert code == 200 and body["version"] == 1 and body["aliases"] == ["champion"]
    code, body = await api(
        VERSIONS, "champion", "tags", method="POST", body={"set": {"owner": "ana", "q": "4"}}
    )
    assert code == 200 and body["tags"] == {"owner": "ana", "q": "4"}
    text = "First model.\nTrained on 400 rows."
    code, body = await api(VERSIONS, "1", "description", method="POST", body={"description": text})
    assert code == 200 and body["description"] == text
    code, body = await api("models", "train_ok")
    v1 = next(v for v in body["versions"] if v["version"] == 1)
    assert (v1["aliases"], v1["tags"]["owner"], v1["description"]) == (["champion"], "ana", text)
    assert [(g["version"], g["outcome"]) for g in body["gates"]] == [(1, "passed"), (2, "passed")]
    assert [e["action"] for e in body["events"]][-3:] == ["alias", "tag", "describe"]
    code, body = await api("models", "train_ok@champion")
    assert code == 200 and [v["version"] for v in body["versions"]] == [1]
    # Moved to v2, a tag deleted, the alias removed.
    code, body = await api(VERSIONS, "2", "alias", method="POST", body={"alias": "champion"})
    assert code == 200 and body["version"] == 2 and body["aliases"] == ["champion"]
    code, body = await api(VERSIONS, "1", "tags", method="POST", body={"delete": ["q"]})
    assert code == 200 and body["tags"] == {"owner": "ana"}
    code, body = await api(
        VERSIONS, "2", "alias", method="POST", body={"alias": "champion", "delete": True}
    )
    assert code == 200 and body["aliases"] == []


@pytest.mark.parametrize(
    "path, body, status, cli",
    [
        ("1/alias", {"alias": "42"}, 400, ["models", "alias", "train_ok@1", "42"]),
        ("1/alias", {"alias": "v2"}, 400, ["models", "alias", "train_ok@1", "v2"]),
        ("1/alias", {"alias": "x" * 65}, 400, ["models", "alias", "train_ok@1", "x" * 65]),
        ("1/alias", {}, 400, None),
        ("1/alias", {"alias": 3}, 400, None),
        ("1/tags", {"set": {"a b": "x"}}, 400, ["models", "tag", "train_ok@1", "a b=x"]),
        ("1/tags", {"set": {"k": 1}}, 400, None),
        ("1/tags", {"set": {"k": "line\nbreak"}}, 400, None),
        ("1/tags", {"delete": "k"}, 400, None),
        ("1/tags", {}, 400, None),
        ("1/description", {"description": "x" * 5001}, 400, None),
        ("1/description", {"description": 5}, 400, None),
        ("1/tags", {"delete": ["nope"]}, 404, ["models", "tag", "train_ok@1", "--delete", "nope"]),
        ("9/alias", {"alias": "champion"}, 404, ["models", "alias", "train_ok@9", "champion"]),
        ("gone/tags", {"set": {"k": "v"}}, 404, ["models", "tag", "train_ok@gone", "k=v"]),
        ("v1/tags", {"set": {"k": "v"}}, 400, ["models", "tag", "train_ok@v1", "k=v"]),
    ],
)
async def test_bad_input_is_a_400_and_unknown_a_404(api, project, path, body, status, cli) -> None:
    code, answer = await api(*VERSIONS.split("/"), *path.split("/"), method="POST", body=body)
    assert code == status, answer
    assert "\n" not in answer["error"]
    if cli is not None:
        assert answer["error"] == cli_error(*cli)


async def test_an_unknown_model_is_a_404(api, project) -> None:
    for edit, body in (("alias", {"alias": "x"}), ("tags", {"set": {"k": "v"}})):
        code, answer = await api("models", "nope", "versions", "1", edit, method="POST", body=body)
        assert code == 404 and "No model named 'nope'" in answer["error"]


async def test_bless_of_a_gate_failed_version_needs_override_and_reason(api, project) -> None:
    store = mlops.default_tracker().store
    # v1's pipeline run failed its accuracy gate (as the runner records a failure).
    store.save_gate_results(
        store.get_model("train_ok", 1).run_id,
        [GateResult("metric:accuracy", "metric", GateStatus.FAIL, 0.61, ">= 0.8")],
    )
    code, body = await api("models", "train_ok")
    (v1,) = [g for g in body["gates"] if g["version"] == 1]
    assert v1["outcome"] == "failed"
    text = "train_ok@1 failed its gates: metric:accuracy 0.61 (needs >= 0.8)"
    assert v1["failed_text"] == text
    bless = ("models", "train_ok", "bless")
    code, body = await api(*bless, method="POST", body={"version": 1, "reason": "why not"})
    assert code == 409 and body["error"].startswith(text) and "override_gates" in body["error"]
    code, body = await api(*bless, method="POST", body={"version": 1, "override_gates": True})
    assert code == 400 and "reason" in body["error"]
    code, body = await api(*bless, method="POST", body={"version": 1, "override_gates": "yes"})
    assert code == 400 and '"override_gates" must be true or false' in body["error"]
    assert store.get_model("train_ok").version == 2
    code, body = await api(
        *bless, method="POST", body={"version": 1, "reason": "stale gate", "override_gates": True}
    )
    assert code == 200 and body["stage"] == "blessed"
    event = store.model_events("train_ok")[-1]
    assert event.action == "bless" and event.reason == f"stale gate [gates overridden: {text}]"
