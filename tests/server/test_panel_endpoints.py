"""What the sidebar adds to the REST API: since_previous and children in a run's detail,
runs of a notebook named by its path under the server root, the output notebook's root path,
and reproduce."""

from __future__ import annotations

import pytest

import jupyter_mlops as mlops
from tests.server.shared_server import *  # noqa: F403  (one server for the module)

pytestmark = pytest.mark.slow


async def test_detail_says_what_changed_since_the_previous_run(api, project) -> None:
    code, first = await api("runs", project.script[0])
    assert code == 200 and first["since_previous"]["previous_id"] is None
    code, second = await api("runs", project.script[1])
    since = second["since_previous"]
    assert since["previous_id"] == project.script[0]
    assert since["params_changed"]["C"] == [1.0, 10.0]
    assert since["metric_deltas"]["acc"]["old"] == pytest.approx(0.1)
    assert second["children"] == []


async def test_runs_of_a_notebook_by_its_path_under_the_root(api, project, jp_root_dir) -> None:
    # A kernel may record the notebook's path under the root or its absolute path.
    tracker = mlops.default_tracker()
    ids = []
    for path in ["nb/a.ipynb", str(jp_root_dir / "nb" / "a.ipynb"), "nb/b.ipynb"]:
        with tracker.start_run(experiment="nb", notebook=path, seed=None) as run:
            ids.append(run.id)
    code, page = await api("runs", params={"notebook": "nb/a.ipynb"})
    assert code == 200
    assert {r["id"] for r in page["runs"]} == set(ids[:2])
    code, page = await api("runs", params={"notebook": "nb/a.ipynb", "where": "kind == 'cell'"})
    assert code == 200 and page["runs"] == []


async def test_output_notebook_has_its_path_under_the_root(api, project) -> None:
    code, out = await api("runs", project.pipeline[0], "notebook")
    assert code == 200
    assert out["root_path"] == f".mlops/runs/{project.pipeline[0]}/output.ipynb"


async def test_reproduce_answers_with_the_verdict(api, project) -> None:
    code, out = await api("runs", project.script[0], "reproduce", method="POST")
    assert code == 400 and "script run" in out["error"]
    # The request runs the pipeline again on a kernel before it answers: more than the client's
    # default 20 s when the cores are shared (pytest-xdist's two workers, other jobs).
    code, out = await api(
        "runs", project.pipeline[0], "reproduce", method="POST", body={}, request_timeout=240
    )
    assert code == 200, out
    assert out["original"] == project.pipeline[0]
    assert out["verdict"] == "reproduced", out
    code, out = await api(
        "runs", project.pipeline[0], "reproduce", method="POST", body={"tolerance": -1}
    )
    assert code == 400 and "tolerance" in out["error"]
