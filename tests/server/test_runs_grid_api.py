"""What the panel's runs grid asks of ``GET runs``: the gate filter (400 for a bad value, with
the CLI's message), text search beside it, and the default columns and tags on every page."""

from __future__ import annotations

import io
from contextlib import redirect_stderr

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main as cli_main
from jupyter_mlops.views import RunsQuery, runs_page
from jupyter_mlops.views.columns import choose_columns
from tests.server.shared_server import *  # noqa: F403  (one server for the module)

pytestmark = pytest.mark.slow


def cli_error(*argv: str) -> str:
    err = io.StringIO()
    with redirect_stderr(err):
        assert cli_main(list(argv)) == 2
    return err.getvalue().strip().removeprefix("jupyter-mlops: error: ")


async def test_gate_filter_selects_by_outcome(api, project) -> None:
    async def ids(**params: str) -> set[str]:
        code, page = await api("runs", params={"limit": "500", **params})
        assert code == 200, page
        return {r["id"] for r in page["runs"]}

    everything = await ids()
    assert await ids(gate="passed") == set(project.pipeline)
    assert await ids(gate="none") == everything - set(project.pipeline)
    assert await ids(gate="failed") == set() and await ids(gate="warned") == set()
    assert await ids(gate="none", status="failed") == {project.failed}
    assert await ids(gate="none", q="VISION") == {project.script[i] for i in (1, 3, 5)}
    assert await ids(gate="") == everything  # an empty value is no filter, as for status


@pytest.mark.parametrize("bad", ["bogus", "Passed", "x" * 300])
async def test_bad_gate_is_400_with_the_cli_message(api, project, bad: str) -> None:
    code, body = await api("runs", params={"gate": bad})
    assert code == 400
    if len(bad) < 100:
        assert body == {"error": cli_error("runs", "--gate", bad)}
    else:
        assert "gate" in body["error"]


async def test_every_page_carries_its_tags_and_default_columns(api, project) -> None:
    code, body = await api("runs", params={"experiment": "exp-a"})
    assert code == 200
    assert set(body["columns"]) == {
        "metrics", "params", "tags", "all_metrics", "all_params", "all_tags",
    }  # fmt: skip
    # The same rule over the same page in the core gives the same answer.
    core = runs_page(mlops.default_tracker(), RunsQuery(experiment="exp-a"))
    expected = choose_columns(core.runs, core.tags)
    assert body["columns"]["params"] == list(expected.params)
    assert body["columns"]["metrics"] == list(expected.metrics)
    assert body["columns"]["all_tags"] == list(expected.all_tags)
    assert any(t for t in body["tags"].values())
    assert set(body["tags"]) == {r["id"] for r in body["runs"]}
