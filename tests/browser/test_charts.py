"""The panel's charts (ECharts) in a real JupyterLab and headless Chromium: the run detail's
curve (hover values, log scale, zoom; no step-0 point for a final value) and compare's curves,
bars, param scatter and parallel coordinates, labelled by run name, following the theme."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.processes import stop_process

from .conftest import TOKEN, open_lab, set_theme, shot, start_lab

pytestmark = pytest.mark.slow

ROWS = ".jp-mlops-run-row"
STEPS = 300


@dataclass
class ChartsLab:
    url: str
    token: str
    curve: str  # loss at steps 1..STEPS, then a final loss logged without a step
    sweep: list[str]  # four runs sweep-0..3: params lr, depth; val_loss curves, acc scalar


@pytest.fixture(scope="module")
def charts_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChartsLab]:
    import jupyter_mlops as mlops
    from tests.server.conftest import building_in

    root = tmp_path_factory.mktemp("charts")
    with building_in(root):
        with mlops.start_run(experiment="charts", name="curve", seed=None) as run:
            for step in range(1, STEPS + 1):
                run.log_metric("loss", 1.0 / step, step=step)
            run.log_metric("loss", 0.0005)  # the final value: ends the curve, no step-0 point
        curve = run.id
        sweep = []
        for i in range(4):
            with mlops.start_run(experiment="sweep", name=f"sweep-{i}", seed=None) as run:
                run.log_params({"lr": 10.0**-i, "depth": i + 2})
                for step in range(1, 11):
                    run.log_metric("val_loss", 1.0 / (step + i), step=step)
                run.log_metric("acc", 0.6 + 0.1 * i)
            sweep.append(run.id)
    proc, url = start_lab(root, tmp_path_factory.mktemp("charts-lab"))
    try:
        yield ChartsLab(url, TOKEN, curve, sweep)
    finally:
        stop_process(proc, timeout=20)


@pytest.fixture
def page(browser: Any, charts_lab: ChartsLab) -> Iterator[Any]:
    p = open_lab(browser, charts_lab.url, charts_lab.token)
    yield p
    p.close()


def _show_run(page: Any, run_id: str) -> None:
    page.evaluate(
        "id => window.jupyterapp.commands.execute('jupyter-mlops:show-run', {id})", run_id
    )


def _compare(page: Any, ids: list[str]) -> Any:
    page.locator(ROWS).first.wait_for()
    for rid in ids:
        page.locator(f"{ROWS}[data-run-id='{rid}'] input[type=checkbox]").check()
    page.get_by_role("button", name=f"Compare ({len(ids)})").click()
    charts = page.locator(".jp-mlops-compare-charts")
    charts.wait_for()
    return charts


def _svg_texts(locator: Any) -> list[str]:
    return locator.locator("svg text").evaluate_all("ts => ts.map(t => t.textContent)")


def test_detail_curve_hover_log_scale_and_zoom(page: Any, charts_lab: ChartsLab) -> None:
    _show_run(page, charts_lab.curve)
    chart = page.locator(".jp-mlops-detail .jp-mlops-chart").first
    chart.wait_for()
    # The final value ends the curve: no point at step 0, the last step holds it.
    assert chart.get_attribute("data-x-range") == f"1 {STEPS}"
    canvas = chart.locator(".jp-mlops-echart")
    page.wait_for_function("el => el.dataset.yType === 'value'", arg=canvas.element_handle())
    box = canvas.bounding_box()
    assert box["width"] > 300  # it follows the sidebar's width, not a fixed 280 px
    # Hover: the tooltip shows the step and the value under the pointer.
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    tooltip = page.locator(".jp-mlops-chart-tooltip")
    tooltip.wait_for()
    assert "loss" in tooltip.inner_text()
    assert any(c.isdigit() for c in tooltip.inner_text().split("loss")[-1])
    shot(page, "chart-detail-hover")
    # Log scale: ECharts now holds a log y axis.
    chart.get_by_label("log scale").check()
    page.wait_for_function("el => el.dataset.yType === 'log'", arg=canvas.element_handle())
    assert chart.get_attribute("data-y-scale") == "log"
    # Zoom with the wheel; "reset zoom" undoes it.
    assert chart.get_attribute("data-zoom") == "0-100"
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.wheel(0, -600)
    page.wait_for_function(
        "el => el.dataset.zoom !== '0-100'", arg=chart.element_handle(), timeout=60_000
    )
    shot(page, "chart-detail-zoomed")
    chart.get_by_role("button", name="reset zoom").click()
    page.wait_for_function("el => el.dataset.zoom === '0-100'", arg=chart.element_handle())


def test_compare_charts_are_labelled_by_run_name(page: Any, charts_lab: ChartsLab) -> None:
    names = [f"sweep-{i}" for i in range(4)]
    charts = _compare(page, charts_lab.sweep)
    # A stepped metric exists: curves are the default, one per run, before the table.
    assert charts.get_attribute("data-chart") == "curves"
    assert charts.get_by_label("metric", exact=True).input_value() == "val_loss"
    order = page.evaluate(
        "() => { const c = document.querySelector('.jp-mlops-compare-charts');"
        " const t = document.querySelector('.jp-mlops-compare-table');"
        " return !!(c.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING); }"
    )
    assert order, "the charts come before the param table"
    curves = charts.locator(".jp-mlops-echart")
    page.wait_for_function("el => el.dataset.series === '4'", arg=curves.element_handle())
    page.wait_for_function(
        "names => names.every(n => [...document.querySelectorAll("
        "'.jp-mlops-compare-charts svg text')].some(t => t.textContent === n))",
        arg=names,
    )
    shot(page, "compare-curves")
    # The scalar metric: a bar per run, named.
    charts.get_by_label("chart", exact=True).select_option("bars")
    charts.get_by_label("metric", exact=True).select_option("acc")
    page.wait_for_selector(".jp-mlops-compare-charts .jp-mlops-chart[data-kind='bars'] svg text")
    bars = charts.locator(".jp-mlops-chart[data-kind='bars']")
    page.wait_for_function(
        "el => el.querySelector('.jp-mlops-echart').dataset.yType === 'value'",
        arg=bars.element_handle(),
    )
    assert set(names) <= set(_svg_texts(bars))
    shot(page, "compare-bars")
    # A param against a metric: a named point per run.
    charts.get_by_label("chart", exact=True).select_option("scatter")
    charts.get_by_label("param", exact=True).select_option("lr")
    scatter = charts.locator(".jp-mlops-chart[data-kind='scatter']")
    scatter.locator("svg text").first.wait_for()
    assert set(names) <= set(_svg_texts(scatter))
    assert "lr" in _svg_texts(scatter)
    shot(page, "compare-scatter")
    # A sweep of 4 runs: parallel coordinates over the differing params and the metrics.
    charts.get_by_label("chart", exact=True).select_option("parallel")
    parallel = charts.locator(".jp-mlops-chart[data-kind='parallel']")
    parallel.locator("svg text").first.wait_for()
    texts = _svg_texts(parallel)
    assert set(names) <= set(texts)
    assert {"lr", "depth", "acc", "val_loss"} <= set(texts)
    shot(page, "compare-parallel")


def test_compare_charts_follow_the_theme_and_a_narrow_sidebar(
    page: Any, charts_lab: ChartsLab
) -> None:
    charts = _compare(page, charts_lab.sweep[:2])
    charts.get_by_label("chart", exact=True).select_option("bars")
    bars = charts.locator(".jp-mlops-chart[data-kind='bars']")
    label = bars.locator("svg text", has_text="sweep-0").first
    label.wait_for()
    light = label.get_attribute("fill")
    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
    page.wait_for_function(
        "light => { const t = [...document.querySelectorAll("
        "'.jp-mlops-chart[data-kind=bars] svg text')].find(t => t.textContent === 'sweep-0');"
        " return t && t.getAttribute('fill') !== light; }",
        arg=light,
    )
    page.wait_for_selector("#jupyterlab-splash", state="detached")
    shot(page, "compare-bars-dark")
    # Back to Light, and wait for the theme's splash to go: a drag under it moves nothing.
    set_theme(page, "JupyterLab Light")
    # Narrowed to the sidebar's default 250 px, the chart shrinks with the panel and stays in it.
    from .conftest import widen_sidebar

    canvas = bars.locator(".jp-mlops-echart")
    wide = canvas.bounding_box()["width"]
    widen_sidebar(page, 250)
    page.wait_for_function(
        "wide => { const p = document.querySelector('#jupyter-mlops-panel')"
        ".getBoundingClientRect();"
        " const c = document.querySelector('.jp-mlops-chart[data-kind=bars] .jp-mlops-echart');"
        " const r = c.getBoundingClientRect(), s = c.querySelector('svg').getBoundingClientRect();"
        " return r.width < wide - 100 && r.right <= p.right + 1 && s.width <= r.width + 1; }",
        arg=wide,
    )
    shot(page, "compare-bars-250")
