"""The sidebar in a real JupyterLab and a headless Chromium, over a store of real runs."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import THEMES, Lab, set_theme, shot

pytestmark = pytest.mark.slow

ROWS = ".jp-mlops-run-row"


def tab(page: Any, name: str) -> None:
    page.locator(".jp-mlops-tab", has_text=name).click()


def test_panel_shows_the_runs(page: Any, lab: Lab) -> None:
    rows = page.locator(ROWS)
    rows.first.wait_for()
    ids = lab.ids
    shown = set(rows.evaluate_all("rs => rs.map(r => r.dataset.runId)"))
    expected = {*ids.script, ids.failed, ids.other, *ids.pipeline, ids.changed}
    assert expected <= shown
    # Status chips, gate outcome and model version of a pipeline run are columns.
    row = page.locator(f"{ROWS}[data-run-id='{ids.changed}']")
    assert "passed" in row.inner_text()
    assert re.search(r"train_ok@\d", row.inner_text())
    assert page.locator(f"{ROWS}[data-run-id='{ids.failed}'] .jp-mlops-status-failed").count()
    shot(page, "runs")


def test_filter_takes_the_where_syntax(page: Any, lab: Lab) -> None:
    page.locator(ROWS).first.wait_for()
    box = page.get_by_label("Filter runs")
    box.fill("metrics.acc >= 0.5 and experiment == 'exp-a'")
    box.press("Enter")
    # try-4 and try-5 have acc 0.5 and 0.6; nothing else matches.
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-mlops-run-row').length === 2", timeout=60_000
    )
    shown = set(page.locator(ROWS).evaluate_all("rs => rs.map(r => r.dataset.runId)"))
    assert shown == {lab.ids.script[4], lab.ids.script[5]}
    shot(page, "runs-filtered")
    # A bad filter says what is wrong, in one line, instead of showing stale rows as a result.
    box.fill("metrics.acc >>> 1")
    box.press("Enter")
    error = page.locator(".jp-mlops-error")
    error.wait_for()
    assert error.inner_text().strip()


def test_detail_names_the_changed_column(page: Any, lab: Lab) -> None:
    page.locator(f"{ROWS}[data-run-id='{lab.ids.changed}']").click()
    changed = page.locator(".jp-mlops-changed-input")
    changed.wait_for()
    # Only the label noise changed: the input "train" changed in its column "label".
    assert changed.inner_text().strip() == "input train changed: label"
    detail = page.locator(".jp-mlops-detail")
    text = detail.inner_text()
    assert lab.ids.changed in text  # the full, copyable run id
    assert "noise" in text and "metric:accuracy" in text  # params and gate results
    assert page.get_by_role("button", name="Open output notebook").count() == 1
    shot(page, "run-detail")
    # Open output notebook opens the executed notebook in JupyterLab.
    page.get_by_role("button", name="Open output notebook").click()
    page.locator(".jp-NotebookPanel").first.wait_for()
    title = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current").inner_text()
    assert title.strip() == f"{lab.ids.changed[:8]}-output.ipynb"
    # The executed notebook, with its outputs: the accuracy the run printed.
    page.locator(".jp-NotebookPanel .jp-OutputArea-output", has_text="accuracy").first.wait_for()


def test_compare_two_runs(page: Any, lab: Lab) -> None:
    a, b = lab.ids.pipeline
    page.locator(ROWS).first.wait_for()
    for rid in (a, b):
        page.locator(f"{ROWS}[data-run-id='{rid}'] input[type=checkbox]").check()
    page.get_by_role("button", name="Compare (2)").click()
    table = page.locator(".jp-mlops-compare-table")
    table.wait_for()
    differs = page.locator(".jp-mlops-compare-table tr.jp-mlops-differs th").all_inner_texts()
    assert "params.C" in differs  # C was 1.0, then 0.5
    assert "params.noise" not in differs
    # Both runs on one chart, above the table (tests/browser/test_charts.py tests the charts).
    names = lab.api(f"compare?ids={a},{b}")["names"]
    page.wait_for_function(
        "names => names.every(n => [...document.querySelectorAll("
        "'.jp-mlops-compare-charts svg text')].some(t => t.textContent === n))",
        arg=names,
    )
    shot(page, "compare")


def test_run_pipeline_now_and_watch_it_finish(page: Any, lab: Lab) -> None:
    before = {r["id"] for r in lab.api("pipelines/train_ok")["last_runs"]}
    tab(page, "Pipelines")
    card = page.locator(".jp-mlops-pipeline[data-pipeline='train_ok']")
    card.get_by_text("0 3 * * *").wait_for()  # the schedule
    assert "metric:accuracy" in card.inner_text()  # gate results of the last run
    assert ">= 0.8" in card.inner_text()  # with the threshold
    card.get_by_role("button", name="Run now").click()  # opens the parameter form
    card.locator(".jp-mlops-run-form").get_by_role("button", name="Run", exact=True).click()
    progress = card.locator(".jp-mlops-progress")
    progress.wait_for()
    shot(page, "pipeline-running")
    progress.locator(".jp-mlops-status-finished").wait_for(timeout=180_000)
    after = lab.api("pipelines/train_ok")["last_runs"]
    new = [r for r in after if r["id"] not in before]
    assert len(new) == 1 and new[0]["status"] == "finished"
    assert new[0]["id"][:8] in progress.inner_text()
    shot(page, "pipelines")


def _stage(lab: Lab, version: int) -> str:
    versions = lab.api("models/train_ok")["versions"]
    return next(v["stage"] for v in versions if v["version"] == version)


def test_bless_and_roll_back(page: Any, lab: Lab) -> None:
    tab(page, "Models")
    card = page.locator(".jp-mlops-model[data-model='train_ok']")
    card.locator("tr[data-version='1']").wait_for()
    assert _stage(lab, 1) == "archived"
    card.locator("tr[data-version='1']").get_by_role("button", name="Bless").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill("the old one was better")
    shot(page, "bless-dialog")
    dialog.get_by_role("button", name="Confirm").click()
    card.locator("tr[data-version='1'] .jp-mlops-stage-blessed").wait_for()
    assert _stage(lab, 1) == "blessed"
    events = lab.api("models/train_ok")["events"]
    assert events[-1]["reason"] == "the old one was better"
    # Rollback asks too, and a cancelled dialog changes nothing.
    card.get_by_role("button", name="Rollback").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()
    assert _stage(lab, 1) == "blessed"
    card.get_by_role("button", name="Rollback").click()
    page.locator(".jp-Dialog input").fill("back again")
    page.locator(".jp-Dialog").get_by_role("button", name="Confirm").click()
    card.locator("tr[data-version='1'] .jp-mlops-stage-archived").wait_for()
    assert _stage(lab, 1) == "archived"
    rollback, pin = lab.api("models/train_ok")["events"][-2:]
    assert rollback["reason"] == "back again" and pin["action"] == "pin"
    # The rollback pinned the model: a badge with the reason as its title, and Unpin.
    badge = card.locator(".jp-mlops-pinned")
    badge.wait_for()
    assert badge.inner_text().strip() == f"pinned v{pin['version']}"
    assert (badge.get_attribute("title") or "").startswith("back again")
    shot(page, "models")
    card.get_by_role("button", name="Unpin").click()
    page.locator(".jp-Dialog input").fill("fixed")
    page.locator(".jp-Dialog").get_by_role("button", name="Confirm").click()
    badge.wait_for(state="detached")
    assert lab.api("models/train_ok")["pin"] is None


def test_monitoring_tab_shows_the_breach_and_its_drifted_column(page: Any, lab: Lab) -> None:
    tab(page, "Monitoring")
    churn = page.locator(".jp-mlops-monitor-row[data-monitor='churn']")
    churn.wait_for()
    assert churn.locator(".jp-mlops-monitor-breach").count() == 1  # x1 drifted on its last day
    assert "churn@1" in churn.inner_text() and "churn@2" in churn.inner_text()  # the shadow
    steady = page.locator(".jp-mlops-monitor-row[data-monitor='steady']")
    assert steady.locator(".jp-mlops-monitor-ok").count() == 1
    shot(page, "monitoring")
    churn.click()
    detail = page.locator(".jp-mlops-monitor-detail[data-monitor='churn']")
    drifted = detail.locator(".jp-mlops-drift-table tr.jp-mlops-drifted")
    drifted.first.wait_for()
    assert drifted.evaluate_all("rs => rs.map(r => r.dataset.column)") == ["x1"]
    assert "x2" in detail.locator(".jp-mlops-drift-table").inner_text()  # not drifted, listed
    # The drift chart: the max_share threshold line and a breach marker on the last batch.
    # (the chart is a canvas or SVG drawn by ECharts: its container says what it draws)
    chart = detail.locator(".jp-mlops-monitor-chart[data-kind='drift'] .jp-mlops-chart")
    chart.wait_for()
    assert chart.get_attribute("data-thresholds") == "0"
    assert chart.get_attribute("data-breaches") == "1"
    perf = detail.locator(".jp-mlops-monitor-chart[data-kind='performance'] .jp-mlops-chart")
    perf.wait_for()
    assert perf.get_attribute("data-thresholds") == "0.8"
    events = detail.locator(".jp-mlops-monitor-events").inner_text()
    assert "notify" in events and "breach" in events
    # Charting one column: its own statistic and threshold.
    detail.get_by_label("Drift chart column").select_option("x1")
    column_chart = page.locator(".jp-mlops-monitor-chart[data-what='x1']")
    column_chart.locator(".jp-mlops-chart").wait_for()
    assert column_chart.locator(".jp-mlops-chart").get_attribute("data-thresholds")
    assert column_chart.locator(".jp-mlops-chart").get_attribute("data-breaches") == "1"
    assert "x1: adjusted p" in column_chart.inner_text()  # a KS test: p drifts below alpha
    shot(page, "monitoring-detail")
    set_theme(page, THEMES[1])
    shot(page, "monitoring-detail-dark")
    set_theme(page, THEMES[0])
