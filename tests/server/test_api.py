"""The REST API against a real jupyter_server, authentication on, over a store of real runs."""

from __future__ import annotations

import asyncio
import io
import json
from contextlib import redirect_stderr
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main as cli_main
from jupyter_mlops.entities import RunKind
from tests.server.shared_server import *  # noqa: F403  (one server for the module)

pytestmark = pytest.mark.slow


def cli_error(*argv: str) -> str:
    """The message the CLI prints for the same request (after "jupyter-mlops: error: ")."""
    err = io.StringIO()
    with redirect_stderr(err):
        assert cli_main(list(argv)) == 2
    return err.getvalue().strip().removeprefix("jupyter-mlops: error: ")


# -- authentication and XSRF -----------------------------------------------------------------


async def test_requests_without_credentials_are_refused(
    http_server_client, jp_base_url, project
) -> None:
    for path, method in [
        ("runs", "GET"),
        (f"runs/{project.script[0]}", "GET"),
        ("status", "GET"),
        ("models/train_ok/rollback", "POST"),
        ("models/train_ok/unpin", "POST"),
        ("pipelines/train_ok/run", "POST"),
    ]:
        url = f"{jp_base_url}jupyter-mlops/api/{path}"
        body = "{}" if method == "POST" else None
        resp = await http_server_client.fetch(url, method=method, body=body, raise_error=False)
        assert resp.code in (401, 403), (path, resp.code)
        assert project.script[0] not in resp.body.decode()
        assert "runs" not in json.loads(resp.body)  # an error body, not data


async def test_cookie_authenticated_post_needs_xsrf(
    http_server_client, jp_base_url, jp_serverapp, project
) -> None:
    token = jp_serverapp.identity_provider.token
    login = await http_server_client.fetch(
        f"{jp_base_url}jupyter-mlops/api/status?token={token}", raise_error=False
    )
    assert login.code == 200
    cookies = "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))
    assert cookies
    url = f"{jp_base_url}jupyter-mlops/api/models/train_ok/rollback"
    # A GET with only the login cookie works: the cookie authenticates.
    ok = await http_server_client.fetch(
        f"{jp_base_url}jupyter-mlops/api/status", headers={"Cookie": cookies}, raise_error=False
    )
    assert ok.code == 200
    refused = await http_server_client.fetch(
        url, method="POST", body="{}", headers={"Cookie": cookies}, raise_error=False
    )
    assert refused.code == 403
    assert mlops.default_tracker().store.get_model("train_ok").version == 2  # nothing happened
    xsrf = "2|abcd1234|0123456789abcdef0123456789abcdef|1700000000"
    allowed = await http_server_client.fetch(
        url,
        method="POST",
        body="{}",
        headers={"Cookie": f"{cookies}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
        raise_error=False,
    )
    assert allowed.code == 200, allowed.body
    assert mlops.default_tracker().store.get_model("train_ok").version == 1


# -- runs ----------------------------------------------------------------------------------


async def test_runs_page_rows_carry_gates_and_model(api, project) -> None:
    code, page = await api("runs", params={"kind": "pipeline"})
    assert code == 200
    rows = page["runs"]
    assert [r["id"] for r in rows] == project.pipeline[::-1]  # newest first
    assert {r["gates"] for r in rows} == {"passed"}
    assert {r["model"] for r in rows} == {"train_ok@1", "train_ok@2"}
    assert rows[0]["model_stage"] == "blessed" and rows[1]["model_stage"] == "archived"
    assert rows[0]["params"]["C"] == 0.5 and "accuracy" in rows[0]["metrics"]
    assert page["has_more"] is False and page["next_cursor"] is None


async def test_runs_cursor_pages_through_the_sorted_set(api, project) -> None:
    expected = list(mlops.runs(order_by="-metrics.acc")["id"])
    seen, params = [], {"order_by": "-metrics.acc", "limit": "3"}
    while True:
        code, page = await api("runs", params=params)
        assert code == 200 and len(page["runs"]) <= 3
        seen += [r["id"] for r in page["runs"]]
        if not page["has_more"]:
            break
        params = {**params, "cursor": page["next_cursor"]}
    assert seen == expected
    code, page = await api("runs", params={"order_by": "-metrics.acc", "limit": "2", "offset": "2"})
    assert [r["id"] for r in page["runs"]] == expected[2:4]


async def test_runs_started_after_the_first_page_do_not_shift_later_pages(api, project) -> None:
    _, first = await api("runs", params={"limit": "2"})
    with mlops.start_run(experiment="exp-a", seed=None):
        pass
    _, second = await api("runs", params={"limit": "2", "cursor": first["next_cursor"]})
    expected = list(mlops.runs()["id"])[1:]  # without the new run
    assert [r["id"] for r in first["runs"] + second["runs"]] == expected[:4]


async def test_runs_filters(api, project) -> None:
    async def ids(**params: str) -> set[str]:
        code, page = await api("runs", params=params)
        assert code == 200, page
        return {r["id"] for r in page["runs"]}

    assert await ids(status="failed") == {project.failed}
    assert await ids(experiment="exp-b") == {project.other}
    assert await ids(where="metrics.acc > 0.45 and params.solver == 'saga'") == set(
        project.script[4:]
    )
    assert await ids(q="VISION") == {project.script[i] for i in (1, 3, 5)}  # tag, any case
    assert await ids(q="try-2") == {project.script[2]}  # name
    assert await ids(q="exp-b") == {project.other}  # experiment
    assert await ids(experiment="exp-a", status="finished", q="vision", where="params.C < 50") == {
        project.script[1]
    }
    nb = mlops.get_run(project.pipeline[0]).notebook
    assert await ids(notebook=nb) == set(project.pipeline)


@pytest.mark.parametrize(
    ("params", "argv"),
    [
        ({"where": "metrics.acc >"}, ["runs", "--where", "metrics.acc >"]),
        ({"where": "bogus.x == 1"}, ["runs", "--where", "bogus.x == 1"]),
        ({"order_by": "-metrics.nope"}, ["runs", "--order-by=-metrics.nope"]),
    ],
)
async def test_bad_filter_is_400_with_the_cli_message(api, project, params, argv) -> None:
    code, body = await api("runs", params=params)
    assert code == 400
    assert body == {"error": cli_error(*argv)}


async def test_bad_paging_and_choices_are_400(api, project) -> None:
    for params, words in [
        ({"status": "done"}, "Unknown status 'done'"),
        ({"kind": "job"}, "Unknown kind 'job'"),
        ({"limit": "0"}, "limit must be from 1"),
        ({"limit": "x"}, "limit must be an integer"),
        ({"cursor": "!!"}, "Bad cursor"),
    ]:
        code, body = await api("runs", params=params)
        assert code == 400 and words in body["error"], (params, body)
    code, page = await api("runs", params={"limit": "1"})
    code, body = await api(
        "runs", params={"limit": "1", "status": "failed", "cursor": page["next_cursor"]}
    )
    assert code == 400 and "another query" in body["error"]


async def test_unknown_experiment_is_404_with_the_cli_message(api, project) -> None:
    code, body = await api("runs", params={"experiment": "exp-z"})
    assert code == 404
    assert body == {"error": cli_error("runs", "-e", "exp-z")}


async def test_run_detail(api, project) -> None:
    code, run = await api("runs", project.pipeline[1][:8])  # a prefix works, as in the CLI
    assert code == 200
    assert run["id"] == project.pipeline[1] and run["kind"] == "pipeline"
    assert [g["status"] for g in run["gate_results"]] == ["pass", "pass"]
    assert [m["version"] for m in run["models"]] == [2]
    assert run["output_notebook"] is True
    code, run = await api("runs", project.script[0])
    assert run["params"]["C"] == 1.0 and run["gate_results"] == [] and not run["output_notebook"]


async def test_unknown_ids_are_404_with_the_cli_message(api, project) -> None:
    missing = "0" * 32
    message = cli_error("show", missing)
    for parts in [
        (missing,),
        (missing, "metrics", "acc"),
        (missing, "artifacts", "notes.txt"),
        (missing, "notebook"),
    ]:
        code, body = await api("runs", *parts)
        assert (code, body) == (404, {"error": message}), parts
    code, body = await api("compare", params={"ids": f"{project.script[0]},{missing}"})
    assert (code, body) == (404, {"error": message})
    code, body = await api("models", "nope")
    assert code == 404 and body == {"error": cli_error("models", "show", "nope")}
    code, body = await api("pipelines", "train_okk")
    assert code == 404 and "did you mean 'train_ok'" in body["error"]


async def test_metric_history(api, project) -> None:
    code, body = await api("runs", project.script[1], "metrics", "loss")
    assert code == 200
    assert [(s["step"], s["value"]) for s in body["steps"]] == [(0, 0.5), (1, 1 / 3), (2, 0.25)]
    assert body["stepped"] is True
    code, body = await api("runs", project.script[1], "metrics", "acc")  # logged without a step
    assert code == 200 and body["stepped"] is False
    assert [(s["step"], s["value"]) for s in body["steps"]] == [(0, 0.2)]
    code, body = await api("runs", project.script[1], "metrics", "nope")
    assert code == 404 and "has no metric 'nope'" in body["error"] and "loss" in body["error"]


async def test_artifact_download(api, project) -> None:
    code, body = await api("runs", project.script[0], "artifacts", "notes.txt")
    assert code == 200 and body == "artifact body\n"


@pytest.mark.parametrize(
    "name",
    [
        "../notes.txt",
        "..%2Fnotes.txt",
        "..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "/etc/passwd",
        "artifacts%2F..%2F..%2Fnotes.txt",
        "..%2Fmlops.db",
    ],
)
async def test_artifact_names_cannot_leave_the_store(
    http_server_client, jp_base_url, jp_auth_header, project, name
) -> None:
    url = f"{jp_base_url}jupyter-mlops/api/runs/{project.script[0]}/artifacts/{name}"
    resp = await http_server_client.fetch(url, headers=jp_auth_header, raise_error=False)
    assert resp.code == 404
    body = resp.body.decode()
    assert "artifact body" not in body and "root:" not in body and "SQLite" not in body
    assert set(json.loads(body)) == {"error"}


async def test_output_notebook(api, project) -> None:
    code, body = await api("runs", project.pipeline[0], "notebook")
    assert code == 200 and body["run_id"] == project.pipeline[0]
    assert body["content"]["nbformat"] == 4 and body["content"]["cells"]
    code, body = await api("runs", project.script[0], "notebook")
    assert code == 404 and "only pipeline runs" in body["error"]


async def test_compare(api, project) -> None:
    a, b = project.script[0], project.script[3]
    code, body = await api("compare", params={"ids": f"{a},{b}"})
    assert code == 200 and body["runs"] == [a, b] and body["columns"] == [a[:8], b[:8]]
    rows = {r["key"]: r for r in body["rows"]}
    assert rows["params.C"]["differs"] and rows["params.C"]["values"] == {a[:8]: 1.0, b[:8]: 1000.0}
    assert rows["metrics.acc"]["differs"] and rows["params.solver"]["differs"]
    assert not rows["status"]["differs"]
    code, body = await api("compare", params={"ids": a})
    assert code == 400 and "at least two run ids" in body["error"]


async def test_experiments_pipelines_models_status(api, project) -> None:
    code, body = await api("experiments")
    assert body == {"experiments": ["exp-a", "exp-b", "train_ok"]}
    code, body = await api("pipelines")
    (p,) = body["pipelines"]
    assert p["name"] == "train_ok" and p["schedule"] == "0 3 * * *" and p["gates"] == 2
    assert p["next_fire"].endswith("03:00:00+00:00")
    assert [r["id"] for r in p["last_runs"]] == project.pipeline[::-1]
    assert {x["name"] for x in p["parameters"]} == {"C", "n_rows", "features", "noise"}
    code, body = await api("pipelines", "train_ok")
    assert code == 200 and body["spec"]["gates"]
    assert [g["status"] for g in body["last_runs"][0]["gate_results"]] == ["pass", "pass"]
    code, body = await api("models")
    (m,) = body["models"]
    assert (m["name"], m["versions"], m["blessed"]) == ("train_ok", 2, 2)
    code, body = await api("models", "train_ok")
    assert [v["stage"] for v in body["versions"]] == ["archived", "blessed"]
    assert [e["action"] for e in body["events"]][-1] == "bless"
    code, body = await api("status")
    assert body["runs"] == 10 and body["runs_by_status"]["failed"] == 1
    assert body["runs_by_status"]["finished"] == 9
    assert (body["experiments"], body["pipelines"], body["models"]) == (3, 1, 1)
    assert body["store"].startswith(str(Path.cwd()))


# -- actions -------------------------------------------------------------------------------


async def test_bless_and_rollback(api, project) -> None:
    code, body = await api("models", "train_ok", "rollback", method="POST", body={"reason": "bad"})
    assert code == 200 and body["blessed"]["version"] == 1 and body["archived"]["version"] == 2
    # The rollback pinned the model: the detail says so, a bless is a conflict until unpinned.
    code, body = await api("models", "train_ok")
    assert code == 200 and body["pin"]["version"] == 1 and body["pin"]["reason"] == "bad"
    assert body["pin"]["origin"] == "rollback" and body["pin"]["since"]
    code, body = await api("models")
    assert [m["pinned"] for m in body["models"]] == [1]
    code, body = await api("models", "train_ok", "bless", method="POST", body={"version": 2})
    assert code == 409 and "pinned by rollback at v1" in body["error"]
    code, body = await api("models", "train_ok", "unpin", method="POST", body={"reason": "ok"})
    assert code == 200 and body["unpinned"]["version"] == 1
    code, body = await api("models", "train_ok", "unpin", method="POST", body={"reason": 5})
    assert code == 400 and '"reason"' in body["error"]
    code, body = await api("models", "train_ok")
    assert body["pin"] is None and body["events"][-1]["action"] == "unpin"
    code, body = await api("models", "train_ok", "bless", method="POST", body={"version": 2})
    assert code == 200 and body["stage"] == "blessed" and body["version"] == 2
    code, body = await api("models", "train_ok", "bless", method="POST", body={"version": 9})
    assert code == 404 and "train_ok" in body["error"]
    code, body = await api("models", "train_ok", "bless", method="POST", body={"version": "2"})
    assert code == 400 and "integer version" in body["error"]


async def test_promote(api, project, jp_root_dir: Path) -> None:
    code, body = await api(
        "promote",
        method="POST",
        body={"notebook": "train_ok.ipynb", "name": "again", "timeout": "10m"},
    )
    assert code == 200, body
    assert body["created"] and (jp_root_dir / "pipelines" / "again.yaml").is_file()
    assert body["spec"]["timeout"] == "10m"
    code, body = await api("promote", method="POST", body={"notebook": "../outside.ipynb"})
    assert code == 400 and "outside" in body["error"]
    code, body = await api("promote", method="POST", body={"notebook": "missing.ipynb"})
    assert code == 400 and "missing.ipynb" in body["error"]


async def test_run_now_answers_at_once_and_the_run_finishes(api, project) -> None:
    code, body = await api(
        "pipelines", "train_ok", "run", method="POST", body={"params": {"C": 0.25}}
    )
    assert code == 202, body
    run_id = body["run_id"]
    assert len(run_id) == 32
    status = None
    for _ in range(600):  # up to 2 minutes on a loaded machine
        code, run = await api("runs", run_id)
        if code == 200 and run["status"] not in ("running",):
            status = run["status"]
            break
        assert code in (200, 404)  # 404 until the subprocess records the run
        await asyncio.sleep(0.2)
    assert status == "finished"
    assert run["params"]["C"] == 0.25 and run["kind"] == "pipeline"
    assert [g["status"] for g in run["gate_results"]] == ["pass", "pass"]
    assert run["models"][0]["version"] == 3


async def test_run_now_refuses_bad_params_unknown_pipelines_and_a_running_one(api, project) -> None:
    code, body = await api(
        "pipelines", "train_ok", "run", method="POST", body={"params": {"n_rows": 5.5}}
    )
    assert code == 400 and "n_rows" in body["error"]
    code, body = await api("pipelines", "train_ok", "run", method="POST", body={"params": {"x": 1}})
    assert code == 400 and "x" in body["error"]
    code, body = await api("pipelines", "nope", "run", method="POST")
    assert code == 404 and "Pipeline 'nope' not found" in body["error"]
    busy = mlops.default_tracker().start_run(
        experiment="train_ok", kind=RunKind.PIPELINE, seed=None
    )
    try:
        code, body = await api("pipelines", "train_ok", "run", method="POST")
        assert code == 409 and busy.id[:8] in body["error"]
    finally:
        busy.end()
    code, body = await api("pipelines", "train_ok", "run", method="POST")
    assert code == 202  # no longer running
    for _ in range(600):  # let it finish before the test's directory goes
        code, run = await api("runs", body["run_id"])
        if code == 200 and run["status"] != "running":
            break
        await asyncio.sleep(0.2)
    assert run["status"] == "finished"
