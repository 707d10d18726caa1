"""One JSON per question: ``jupyter-mlops X --json`` prints the body ``GET X`` sends, on the same
store, for every question the CLI and the REST API both answer; and every body is an instance of
the JSON Schema the panel's TypeScript types are generated from (jupyter_mlops.views.schema).
The monitor report's pair is in test_monitor_api.py (its own monitored store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from jupyter_mlops.cli.app import main as cli_main
from jupyter_mlops.views.schema import json_schema

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    capsys.readouterr()
    assert cli_main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def validate(body: Any, name: str) -> None:
    """``body`` is a ``name`` as the generated schema (hence types.ts) describes it."""
    defs = json_schema()["$defs"]
    jsonschema.validate(body, {"$defs": defs, "$ref": f"#/$defs/{name}"})


async def test_every_cli_json_is_the_rest_body(api, project, jp_root_dir, capsys) -> None:
    pipelines = ["--pipelines-dir", str(jp_root_dir / "pipelines")]
    script, pipe = project.script, project.pipeline
    where = "metrics.acc > 0.25"
    # fmt: off
    pairs: list[tuple[list[str], tuple[str, ...], dict[str, str] | None, str]] = [
        (["runs", "--limit", "50"], ("runs",), {"limit": "50"}, "RunsPage"),
        (
            ["runs", "-e", "exp-a", "--where", where, "--order-by", "metrics.acc DESC",
             "--limit", "10"],
            ("runs",),
            {"experiment": "exp-a", "where": where, "order_by": "metrics.acc DESC", "limit": "10"},
            "RunsPage",
        ),
        (["show", script[1][:8]], ("runs", script[1][:8]), None, "RunDetail"),
        (["show", pipe[1]], ("runs", pipe[1]), None, "RunDetail"),
        (["compare", script[0], script[3]], ("compare",), {"ids": f"{script[0]},{script[3]}"},
         "Comparison"),
        (["pipelines", "list", *pipelines], ("pipelines",), None, "Pipelines"),
        (["pipelines", "show", "train_ok", *pipelines], ("pipelines", "train_ok"), None,
         "PipelineDetail"),
        (["models", "list"], ("models",), None, "Models"),
        (["models", "show", "train_ok"], ("models", "train_ok"), None, "ModelDetail"),
        (["store", "info"], ("store",), None, "StoreInfo"),
        (["scheduler", "--status", *pipelines], ("schedule",), None, "SchedulerStatus"),
        (["notify", "list"], ("notifications",), None, "Notifications"),
        (["notify", "list", "--all"], ("notifications",), {"all": "1"}, "Notifications"),
    ]
    # fmt: on
    for argv, path, params, name in pairs:
        code, body = await api(*path, params=params)
        assert code == 200, (path, body)
        assert cli_json(capsys, *argv) == body, f"jupyter-mlops {' '.join(argv)} --json"
        validate(body, name)
    # The pairs are not empty answers.
    _, runs = await api("runs", params={"limit": "50"})
    assert len(runs["runs"]) == len(script) + 4  # and the failed, exp-b and 2 pipeline runs
    _, pipes = await api("pipelines")
    assert [p["name"] for p in pipes["pipelines"]] == ["train_ok"]
    _, models = await api("models")
    assert [m["name"] for m in models["models"]] == ["train_ok"]


async def test_the_console_script_prints_the_rest_body(api, project, jp_root_dir) -> None:
    """The installed command in its own process, not only ``main()`` in this one."""
    code, body = await api("compare", params={"ids": f"{project.script[0]},{project.other}"})
    assert code == 200
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops", "compare", project.script[0], project.other,
         "--json"],
        cwd=jp_root_dir, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == body


async def test_compare_needs_two_runs_in_every_front_end(api, project, capsys) -> None:
    code, body = await api("compare", params={"ids": project.script[0]})
    assert code == 400
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:  # the grammar refuses it, as any bad argument
        cli_main(["compare", project.script[0]])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert body["error"] in err and "at least two run ids" in err


async def test_the_other_bodies_fit_the_schema(api, project) -> None:
    """The REST-only answers are instances of their generated types too."""
    run = project.script[0]
    for path, params, name in [
        (("runs", run, "metrics", "loss"), None, "MetricSeries"),
        (("runs", project.pipeline[0], "notebook"), None, "OutputNotebook"),
        (("experiments",), None, "Experiments"),
        (("status",), None, "Status"),
        (("monitors",), None, "Monitors"),
    ]:
        code, body = await api(*path, params=params)
        assert code == 200, (path, body)
        validate(body, name)
