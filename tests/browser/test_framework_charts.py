"""What framework cells record, in the panel of a real JupyterLab and a headless Chromium (issue
21, item 5): a run's detail draws every stepped metric (a chart per metric, a line per eval
set; a picker when there are many) from 1,000-point curves downsampled by the server, its
importance table as the top 20 features in bars, and compare overlays the first five runs.
Light, dark and high-contrast themes at 250 px: axe-core clean, nothing wider than the panel."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.processes import stop_process

from .conftest import (
    PANEL,
    THEMES,
    TOKEN,
    axe_violations,
    describe_violations,
    open_lab,
    set_panel_width,
    set_theme,
    settle,
    shot,
    start_lab,
)

pytestmark = pytest.mark.slow

ROUNDS = 1000
FEATURES = [f"feature_{i:02d}" for i in range(30)]
GAIN = {f: float((i * 11) % 30) + 0.25 for i, f in enumerate(FEATURES)}
TOP_BY_GAIN = sorted(FEATURES, key=lambda f: -GAIN[f])[:20]
MANY = ("logloss", "auc", "error", "rmse", "mae", "aucpr")
ROWS = ".jp-mlops-run-row"


@dataclass
class FrameworkLab:
    url: str
    token: str
    boosted: str  # 2 eval sets x (logloss, auc), 1,000 rounds; importance table; a summary
    many: str  # six metrics on one eval set: a picker
    sweep: list[str]  # six runs with a train_loss curve


def _built_extension(tmp: Path) -> dict[str, str]:
    """JUPYTER_PATH leading to this checkout's built panel (jupyter_mlops/labextension, by
    ``jlpm build``), which JupyterLab then prefers to an installed copy of the same name."""
    import jupyter_mlops

    built = Path(jupyter_mlops.__file__).parent / "labextension"
    if not (built / "package.json").exists():
        return {}
    link = tmp / "jupyter-path" / "labextensions" / "jupyter-mlops"
    link.parent.mkdir(parents=True)
    link.symlink_to(built, target_is_directory=True)
    return {"JUPYTER_PATH": str(tmp / "jupyter-path")}


def _record(root: Path) -> FrameworkLab:
    import jupyter_mlops as mlops

    table = {
        "columns": ["feature", "gain", "weight"],
        "rows": [[f, GAIN[f], i + 1] for i, f in enumerate(FEATURES)],
    }
    with mlops.start_run(experiment="gbm", name="boosted", seed=None) as run:
        for step in range(ROUNDS):
            loss = 0.6 * math.exp(-step / 150) + 0.1
            run.log_metrics(
                {
                    "validation_0-logloss": loss,
                    "validation_1-logloss": loss + 0.05,
                    "validation_0-auc": 1 - loss / 2,
                    "validation_1-auc": 0.98 - loss / 2,
                },
                step=step,
            )
        run.log_metric("best_iteration", ROUNDS - 1)
        run.log_bytes(json.dumps(table).encode(), "clf.importance.json", kind="table")
        run.log_bytes(b"OLS Regression Results\n R-squared: 0.93\n", "res.summary.txt", kind="text")
    boosted = run.id
    with mlops.start_run(experiment="gbm", name="many-metrics", seed=None) as run:
        for step in range(50):
            run.log_metrics({f"validation_0-{m}": 1 / (step + 1) for m in MANY}, step=step)
    many = run.id
    sweep = []
    for i in range(6):
        with mlops.start_run(experiment="lightning", name=f"lr-{i}", seed=None) as run:
            for step in range(200):
                run.log_metric("train_loss", 1 / (step + 1 + i), step=step)
        sweep.append(run.id)
    return FrameworkLab("", "", boosted, many, sweep)


@pytest.fixture(scope="module")
def fw_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrameworkLab]:
    from tests.server.conftest import building_in

    root = tmp_path_factory.mktemp("frameworks")
    with building_in(root):
        lab = _record(root)
    tmp = tmp_path_factory.mktemp("frameworks-lab")
    proc, url = start_lab(root, tmp, _built_extension(tmp))
    lab.url, lab.token = url, TOKEN
    try:
        yield lab
    finally:
        stop_process(proc, timeout=20)


@pytest.fixture
def page(browser: Any, fw_lab: FrameworkLab) -> Iterator[Any]:
    p = open_lab(browser, fw_lab.url, fw_lab.token)
    yield p
    p.close()


def _open_run(page: Any, run_id: str) -> Any:
    page.evaluate(
        "id => window.jupyterapp.commands.execute('jupyter-mlops:show-run', {id})", run_id
    )
    detail = page.locator(".jp-mlops-detail")
    detail.locator(".jp-mlops-detail-status").wait_for()
    return detail


def _svg_texts(locator: Any) -> list[str]:
    return locator.locator("svg text").evaluate_all("ts => ts.map(t => t.textContent)")


def test_every_curve_downsampled_and_importance_bars(page: Any, fw_lab: FrameworkLab) -> None:
    detail = _open_run(page, fw_lab.boosted)
    groups = detail.locator(".jp-mlops-curve-group")
    groups.first.wait_for()
    # A chart per metric, a line per eval set; best_iteration is a number, not a chart.
    assert groups.evaluate_all("gs => gs.map(g => g.dataset.group)") == ["auc", "logloss"]
    logloss = detail.locator(".jp-mlops-curve-group[data-group='logloss']")
    chart = logloss.locator(".jp-mlops-chart")
    # The exact first and last rounds, from far fewer points than 1,000.
    assert chart.get_attribute("data-x-range") == f"0 {ROUNDS - 1}"
    page.wait_for_function(
        "el => el.dataset.series === '2'", arg=chart.locator(".jp-mlops-echart").element_handle()
    )
    note = logloss.locator(".jp-mlops-downsampled").inner_text()
    assert note.endswith("of 1,000 points shown (min and max per bucket; the last point exact)")
    assert int(note.split(" of ")[0]) <= 600
    page.wait_for_function(
        "el => ['validation_0-logloss', 'validation_1-logloss'].every(n =>"
        " [...el.querySelectorAll('svg text')].some(t => t.textContent === n))",
        arg=logloss.element_handle(),
    )
    # The importance table: the top 20 by gain as bars, largest first, and its rows.
    item = detail.locator(".jp-mlops-artifact[data-artifact='clf.importance.json']")
    bars = item.locator(".jp-mlops-importance")
    bars.wait_for()
    assert bars.get_attribute("data-column") == "gain"
    assert bars.get_attribute("data-features").split() == TOP_BY_GAIN
    assert "top 20 of 30 features" in bars.inner_text()
    page.wait_for_function(
        "([el, n]) => [...el.querySelectorAll('svg text')].some(t => t.textContent === n)",
        arg=[bars.element_handle(), TOP_BY_GAIN[0]],
    )
    assert item.locator(".jp-mlops-preview-table thead th").all_inner_texts() == [
        "feature",
        "gain",
        "weight",
    ]
    assert item.locator(".jp-mlops-preview-table tbody tr").count() == 30
    # By weight instead: the last feature (weight 30) comes first.
    bars.get_by_label("importance").select_option("weight")
    page.wait_for_function("el => el.dataset.column === 'weight'", arg=bars.element_handle())
    assert bars.get_attribute("data-features").split()[0] == FEATURES[-1]
    # A text artifact, previewed as text.
    text = detail.locator(".jp-mlops-artifact[data-artifact='res.summary.txt']")
    text.locator("summary").click()
    text.locator(".jp-mlops-preview-text").wait_for()
    assert text.locator(".jp-mlops-preview-text").inner_text().startswith("OLS Regression")
    shot(page, "frameworks-detail")


def test_many_metrics_are_picked_one_at_a_time(page: Any, fw_lab: FrameworkLab) -> None:
    detail = _open_run(page, fw_lab.many)
    pick = detail.locator("select.jp-mlops-curve-pick")
    pick.wait_for()
    options = pick.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert sorted(options) == sorted(MANY)
    assert detail.locator(".jp-mlops-curve-group").count() == 1
    pick.select_option("rmse")
    detail.locator(".jp-mlops-curve-group[data-group='rmse']").wait_for()
    assert detail.locator(".jp-mlops-curve-group").count() == 1


def test_compare_overlays_the_first_five_runs(page: Any, fw_lab: FrameworkLab) -> None:
    page.locator(ROWS).first.wait_for()
    for rid in fw_lab.sweep:
        page.locator(f"{ROWS}[data-run-id='{rid}'] input[type=checkbox]").check()
    page.get_by_role("button", name="Compare (6)").click()
    charts = page.locator(".jp-mlops-compare-charts")
    charts.wait_for()
    assert charts.get_attribute("data-chart") == "curves"
    curves = charts.locator(".jp-mlops-echart")
    page.wait_for_function("el => el.dataset.series === '5'", arg=curves.element_handle())
    note = charts.locator(".jp-mlops-overlay-note").inner_text()
    assert note.startswith("6 runs: the first 5 are charted (not lr-")
    shot(page, "frameworks-compare")


@pytest.mark.parametrize("theme", THEMES)
def test_themes_at_250_px(page: Any, fw_lab: FrameworkLab, theme: str) -> None:
    set_theme(page, theme)
    detail = _open_run(page, fw_lab.boosted)
    detail.locator(".jp-mlops-importance").wait_for()
    detail.locator(".jp-mlops-curve-group").first.wait_for()
    width = set_panel_width(page, 250)
    assert abs(width - 250) <= 2, width
    settle(page)
    # Nothing in the detail is wider than the detail: no sideways scroll of the whole view.
    assert detail.evaluate("d => d.scrollWidth <= d.clientWidth + 1")
    for chart in detail.locator(".jp-mlops-curve-group, .jp-mlops-importance").all():
        box, panel = chart.bounding_box(), page.locator(PANEL).bounding_box()
        assert box["x"] + box["width"] <= panel["x"] + panel["width"] + 1
    found = axe_violations(page, ".jp-mlops-detail")
    blocking = [
        v
        for v in found
        if v["id"] in ("color-contrast", "color-contrast-enhanced")
        or v["impact"] in ("serious", "critical")
    ]
    assert not blocking, describe_violations(blocking)
    slug = theme.lower().replace("jupyterlab ", "").replace(" ", "-")
    shot(page, f"frameworks-detail-{slug}-250", page.locator(PANEL))
    importance = detail.locator(".jp-mlops-importance")
    importance.scroll_into_view_if_needed()
    shot(page, f"frameworks-importance-{slug}-250", importance)
