"""The Pipelines tab after the README's main job: ``example_notebooks/demo.sh`` run in a fresh
project, then ``jupyter lab`` there, and the panel shows the demo's pipeline with its last real
run (the gate-failed one, not the reproduction the demo ends with), its run history, its
schedule in words, and *Run now* through a parameter form (a bad value refused inline with the
server's line; a good one runs, and the run joins the history). A monitor of the demo's model
shows a skeleton while it loads, an error in words with a Retry, and its actions in words."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import stop_process

from .conftest import TOKEN, Lab, open_lab, shot, start_lab

# The module fixture runs the demo and starts a lab: minutes on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
ROOT = Path(__file__).resolve().parents[2]
PIPELINE = "breast-cancer"
CARD = f".jp-mlops-pipeline[data-pipeline='{PIPELINE}']"


BC_MONITOR = """\
model: breast-cancer
pipeline: breast-cancer
checks:
  - {kind: drift, max_share: 0.2, action: rollback}
  - {kind: performance, metric: accuracy, min: 0.9, action: retrain}
  - {kind: drift, column: mean radius, max_share: 0.0, action: notify}
"""


def run_demo(project: Path) -> None:
    """The README's main job, as tests/test_demo.py runs it: in a copy, under a fresh root."""
    shutil.copytree(ROOT / "example_notebooks", project / "example_notebooks")
    (project / "pyproject.toml").write_text("[tool.jupyter_mlops]\n")  # marks the root
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "demo.sh"], cwd=project / "example_notebooks", env=env,
        capture_output=True, text=True, timeout=840,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def demo_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    project = tmp_path_factory.mktemp("demo") / "project"
    project.mkdir()
    run_demo(project)
    # A monitor of the demo's model, for the Monitoring tab's loading state and words.
    (project / "monitors").mkdir()
    (project / "monitors" / "bc.yaml").write_text(BC_MONITOR)
    # The lab finds the project from its root, as a user's would: no folder settings given.
    blank = {k: "" for k in os.environ if k.startswith("JUPYTER_MLOPS_") and k.endswith("_DIR")}
    proc, url = start_lab(project, tmp_path_factory.mktemp("lab"), blank)
    try:
        yield Lab(url, TOKEN, project, None)
    finally:
        stop_process(proc, timeout=20)


@pytest.fixture
def page(browser: Any, demo_lab: Lab) -> Iterator[Any]:
    p = open_lab(browser, demo_lab.url, demo_lab.token)
    yield p
    p.close()


def pipelines_tab(page: Any) -> Any:
    page.get_by_role("tab", name="Pipelines").click()
    card = page.locator(CARD)
    card.locator(".jp-mlops-history li").first.wait_for()
    return card


def test_the_main_job_leaves_its_pipeline_with_its_last_real_run(page: Any, demo_lab: Lab) -> None:
    body = demo_lab.api(f"pipelines/{PIPELINE}")
    runs = body["last_runs"]
    # demo.sh: two passing runs, one a gate stops (C=0.0001), then a reproduction of the first.
    assert [r["gates"] for r in runs] == ["failed", "passed", "passed"]
    where = urllib.parse.quote("tags.reproduces is not None")
    (again,) = demo_lab.api(f"runs?experiment={PIPELINE}&where={where}")["runs"]
    assert again["id"] not in {r["id"] for r in runs}
    card = pipelines_tab(page)
    last = card.locator(".jp-mlops-last-status")
    assert runs[0]["id"][:8] in last.inner_text()
    history = card.locator(".jp-mlops-history li")
    assert history.evaluate_all("ls => ls.map(l => l.dataset.run)") == [r["id"] for r in runs]
    assert history.first.locator(".jp-mlops-gates-failed").count() == 1
    assert again["id"][:8] not in card.inner_text()
    shot(page, "pipelines-demo")


def test_a_history_entry_opens_its_run(page: Any, demo_lab: Lab) -> None:
    runs = demo_lab.api(f"pipelines/{PIPELINE}")["last_runs"]
    card = pipelines_tab(page)
    entry = card.locator(f".jp-mlops-history li[data-run='{runs[1]['id']}'] button")
    assert runs[1]["id"][:8] in entry.inner_text() and "passed" in entry.inner_text()
    entry.click()
    detail = page.locator(".jp-mlops-detail")
    detail.wait_for()
    page.wait_for_function(
        "id => document.querySelector('.jp-mlops-detail').innerText.includes(id)",
        arg=runs[1]["id"][:8],
    )


def test_the_schedule_in_words_with_its_next_firings_at_250_px(page: Any) -> None:
    sidebar = page.locator("#jp-left-stack")
    box = sidebar.bounding_box()
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    hbox = handle.bounding_box()
    page.mouse.move(hbox["x"] + hbox["width"] / 2, hbox["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + 250, hbox["y"] + 200, steps=4)
    page.mouse.up()
    page.wait_for_function(
        "() => Math.abs(document.querySelector('#jp-left-stack')"
        ".getBoundingClientRect().width - 250) <= 6"
    )
    card = pipelines_tab(page)
    assert "At 03:00, every day (UTC)" in card.locator(".jp-mlops-schedule").inner_text()
    assert card.locator(".jp-mlops-cron").inner_text() == "0 3 * * *"
    times = card.locator(".jp-mlops-next-fires time").evaluate_all("ts => ts.map(t => t.dateTime)")
    assert len(times) == 3 and all(t.endswith("T03:00:00.000+00:00") for t in times)
    days = [int(t[8:10]) for t in times]
    assert len(set(days)) == 3  # three days in a row (whatever today is)
    # The primary action is inside the panel and clickable at this width.
    button = card.get_by_role("button", name="Run now")
    right = button.bounding_box()["x"] + button.bounding_box()["width"]
    assert right <= box["x"] + sidebar.bounding_box()["width"] + 1
    button.click()
    card.locator(".jp-mlops-run-form").wait_for()
    shot(page, "pipelines-250px")


def test_run_now_with_the_parameter_form(page: Any, demo_lab: Lab) -> None:
    before = {r["id"] for r in demo_lab.api(f"pipelines/{PIPELINE}")["last_runs"]}
    card = pipelines_tab(page)
    card.get_by_role("button", name="Run now").click()
    form = card.locator(".jp-mlops-run-form")
    # Fields from the typed parameters, filled with their defaults.
    max_iter = form.get_by_label("max_iter", exact=True)
    assert max_iter.input_value() == "2000"
    assert form.locator("[data-param='max_iter']").get_attribute("data-input") == "int"
    assert form.locator("[data-param='features']").get_attribute("data-input") == "literal"
    # A bad value: refused inline, with the server's own line, and nothing starts.
    max_iter.fill("lots")
    form.get_by_role("button", name="Run", exact=True).click()
    error = form.locator("[data-param='max_iter'] .jp-mlops-param-error")
    error.wait_for()
    assert error.inner_text().startswith("Parameter 'max_iter' expects int, got 'lots'")
    assert max_iter.get_attribute("aria-invalid") == "true"
    assert card.locator(".jp-mlops-progress").count() == 0
    shot(page, "pipelines-form-refused")
    # A good one runs, and the run joins the history.
    max_iter.fill("3000")
    form.get_by_label("C", exact=True).fill("0.5")
    form.get_by_role("button", name="Run", exact=True).click()
    progress = card.locator(".jp-mlops-progress")
    progress.wait_for()
    progress.locator(".jp-mlops-status-finished").wait_for(timeout=240_000)
    new = [r for r in demo_lab.api(f"pipelines/{PIPELINE}")["last_runs"] if r["id"] not in before]
    assert len(new) == 1 and new[0]["params"]["C"] == 0.5 and new[0]["params"]["max_iter"] == 3000
    card.locator(f".jp-mlops-history li[data-run='{new[0]['id']}']").wait_for()
    assert card.locator(".jp-mlops-history li").first.get_attribute("data-run") == new[0]["id"]
    shot(page, "pipelines-run-now")


def test_a_monitor_loads_visibly_retries_and_says_its_actions(page: Any, demo_lab: Lab) -> None:
    plans = demo_lab.api("monitors/bc")["monitor"]["plans"]
    assert [p["action"] for p in plans] == ["rollback", "retrain", "notify"]
    page.get_by_role("tab", name="Monitoring").click()
    row = page.locator(".jp-mlops-monitor-row[data-monitor='bc']")
    pattern = re.compile(r"/jupyter-mlops/api/monitors/bc(\?[^/]*)?$")  # not its series
    # While the report is on its way the detail says what it loads (held here until seen).
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route(pattern, hold)
    row.click()
    detail = page.locator(".jp-mlops-monitor-detail[data-monitor='bc']")
    loading = detail.get_by_role("status")
    loading.wait_for()
    assert "Loading monitor bc" in loading.inner_text()
    shot(page, "monitoring-loading")
    held[0].continue_()
    page.unroute(pattern)
    words = detail.locator(".jp-mlops-monitor-plans li")
    words.first.wait_for()
    assert detail.locator(".jp-mlops-loading").count() == 0
    assert words.evaluate_all("ls => ls.map(l => l.dataset.check)") == [p["check"] for p in plans]
    texts = detail.locator(".jp-mlops-plan-words").all_inner_texts()
    assert texts == [p["words"] for p in plans]
    assert texts[1] == "retrain with pipeline breast-cancer"
    # A server that does not answer: said in words, with a Retry that loads the report.
    detail.get_by_role("button", name="Back").click()
    page.route(pattern, lambda route: route.abort())
    row.click()
    error = detail.locator(".jp-mlops-error")
    error.wait_for()
    assert "Cannot reach the Jupyter server" in error.inner_text()
    shot(page, "monitoring-error")
    page.unroute(pattern)
    detail.get_by_role("button", name="Retry").click()
    words.first.wait_for()
    assert detail.locator(".jp-mlops-error").count() == 0
