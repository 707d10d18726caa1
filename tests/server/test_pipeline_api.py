"""The pipeline routes the panel's Pipelines tab reads, on a real Jupyter server: the last real
run and the history without reproductions, the schedule in words with the next firings (the
clock pinned by ``$JUPYTER_MLOPS_NOW``), the parameter check behind the *Run now* form, and a
listing before any store exists."""

from __future__ import annotations

import shutil
from pathlib import Path

import jupyter_mlops as mlops
from jupyter_mlops.entities import RunKind
from jupyter_mlops.tracking.active import REPRODUCES_TAG
from tests.server.shared_server import *  # noqa: F403  (one server for the module)

NOW = "2026-01-09T16:50:00Z"  # a Friday: the daily 03:00 UTC schedule next fires on Saturday


async def test_the_schedule_in_words_and_the_next_firings(api, monkeypatch) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_NOW", NOW)
    code, body = await api("pipelines")
    assert code == 200, body
    (p,) = body["pipelines"]
    assert (p["schedule"], p["schedule_text"]) == ("0 3 * * *", "At 03:00, every day (UTC)")
    assert p["next_fires"] == [f"2026-01-{d}T03:00:00.000+00:00" for d in (10, 11, 12)]
    assert p["next_fire"] == "2026-01-10T03:00:00+00:00"
    fields = {f["name"]: f for f in p["parameters"]}
    assert (fields["n_rows"]["input"], fields["n_rows"]["default"]) == ("int", 400)
    assert fields["features"]["input"] == "literal"


async def test_a_reproduction_is_not_the_last_status(api, project) -> None:
    rerun = mlops.default_tracker().start_run(
        experiment="train_ok", kind=RunKind.PIPELINE, seed=None,
        tags={REPRODUCES_TAG: project.pipeline[0]},
    )  # fmt: skip
    rerun.end()
    code, body = await api("pipelines")
    assert (
        code == 200
        and [r["id"] for r in body["pipelines"][0]["last_runs"]] == project.pipeline[::-1]
    )
    code, body = await api("pipelines", "train_ok")
    assert code == 200 and [r["id"] for r in body["last_runs"]] == project.pipeline[::-1]
    assert all(r["gates"] == "passed" and r["duration"] > 0 for r in body["last_runs"])


async def test_the_parameter_check_answers_as_run_now_would(api) -> None:
    code, body = await api(
        "pipelines", "train_ok", "check", method="POST",
        body={"params": {"n_rows": "250", "C": 0.5, "features": '["a", "b"]'}},
    )  # fmt: skip
    assert code == 200, body
    assert body == {"pipeline": "train_ok", "params": {"n_rows": 250, "C": 0.5,
                                                       "features": ["a", "b"]}}  # fmt: skip
    for params, needle in [
        ({"n_rows": "many"}, "Parameter 'n_rows' expects int, got 'many'"),
        ({"n_rows": 2**64}, "Parameter 'n_rows' must be from"),
        ({"nope": 1}, "Unknown parameter 'nope'"),
    ]:
        code, checked = await api("pipelines", "train_ok", "check", method="POST",
                                  body={"params": params})  # fmt: skip
        assert code == 400 and checked["error"].startswith(needle), checked
        assert "\n" not in checked["error"]
        code, ran = await api("pipelines", "train_ok", "run", method="POST",
                              body={"params": params})  # fmt: skip
        assert (code, ran) == (400, checked)  # the server checks again: the same line
    code, body = await api("pipelines", "nope", "check", method="POST", body={"params": {}})
    assert code == 404 and "Pipeline 'nope' not found" in body["error"]


async def test_listed_before_any_store_exists(api, jp_root_dir: Path) -> None:
    shutil.rmtree(jp_root_dir / ".mlops")  # as right after `promote`: a spec, no store
    code, body = await api("pipelines")
    assert code == 200, body
    assert [(p["name"], p["last_runs"]) for p in body["pipelines"]] == [("train_ok", [])]
    code, body = await api("pipelines", "train_ok")
    assert code == 200 and body["last_runs"] == [] and body["schedule_log"] == []
    assert not (jp_root_dir / ".mlops").exists()  # reading created no store
