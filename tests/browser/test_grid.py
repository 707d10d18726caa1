"""The runs grid in a real JupyterLab and headless Chromium: column chooser (saved across a
reload), text search, status and gate filters, pinned columns after a sideways scroll at the
sidebar's 250 px, and relative times with the full time on hover."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import Lab, shot, widen_sidebar

pytestmark = pytest.mark.slow

ROWS = ".jp-mlops-run-row"
SHOWN_IDS = "rs => rs.map(r => r.dataset.runId)"


def shown(page: Any) -> set[str]:
    return set(page.locator(ROWS).evaluate_all(SHOWN_IDS))


def wait_for_rows(page: Any, expected: set[str]) -> None:
    """Wait until the grid shows exactly the runs ``expected``."""
    page.wait_for_function(
        "ids => { const s = [...document.querySelectorAll('.jp-mlops-run-row')]"
        ".map(r => r.dataset.runId).sort(); return JSON.stringify(s) === JSON.stringify(ids); }",
        arg=sorted(expected),
        timeout=60_000,
    )


def headers(page: Any) -> list[str]:
    return page.locator(".jp-mlops-grid thead th").evaluate_all(
        "hs => hs.map(h => h.getAttribute('title') || h.textContent.trim())"
    )


def reload_lab(page: Any) -> None:
    """Reload JupyterLab in the same page (same browser storage) and open the panel again."""
    page.reload()
    page.wait_for_selector("#jupyter-mlops-panel", state="attached")
    page.evaluate(
        "async () => { await window.jupyterapp.restored;"
        " await window.jupyterapp.commands.execute('jupyter-mlops:open'); }"
    )
    page.locator(ROWS).first.wait_for()


def test_column_chooser_adds_a_column_and_keeps_it_across_a_reload(page: Any, lab: Lab) -> None:
    page.locator(ROWS).first.wait_for()
    columns = lab.api("runs")["columns"]
    # A column the default leaves out: a constant param, else a rarer metric.
    extra = [("params", k) for k in columns["all_params"] if k not in columns["params"]]
    extra += [("metrics", k) for k in columns["all_metrics"] if k not in columns["metrics"]]
    group, key = extra[0]
    assert f"{group}.{key}" not in headers(page)
    chooser = page.locator(".jp-mlops-chooser")
    chooser.locator("summary").click()
    box = chooser.locator(f"fieldset[data-group='{group}']").get_by_label(key, exact=True)
    box.check()
    page.locator(f".jp-mlops-grid thead th[title='{group}.{key}']").wait_for()
    shot(page, "grid-chooser")
    # Saved in the browser: the reloaded Lab shows it too, until reset to the default.
    reload_lab(page)
    header = page.locator(f".jp-mlops-grid thead th[title='{group}.{key}']")
    header.wait_for()
    page.locator(".jp-mlops-chooser summary").click()
    page.get_by_role("button", name="Reset to default").click()
    header.wait_for(state="detached")


def test_text_search_status_and_gate_filters(page: Any, lab: Lab) -> None:
    ids = lab.ids
    page.locator(ROWS).first.wait_for()
    search = page.get_by_label("Search runs")
    search.fill("try-2")
    wait_for_rows(page, {ids.script[2]})
    search.fill("VISION")  # a tag value, any case
    wait_for_rows(page, {ids.script[i] for i in (1, 3, 5)})
    shot(page, "grid-search")
    search.fill("")
    page.get_by_label("Status filter").select_option("failed")
    wait_for_rows(page, {ids.failed})
    page.get_by_label("Status filter").select_option("")
    page.get_by_label("Gate filter").select_option("passed")
    wait_for_rows(page, {*ids.pipeline, ids.changed})
    assert set(page.locator(f"{ROWS} .jp-mlops-chip").all_inner_texts()) >= {"passed"}
    page.get_by_label("Gate filter").select_option("failed")
    page.get_by_text("No runs match.").wait_for()
    shot(page, "grid-gate-filter")


def test_pinned_columns_stay_after_a_sideways_scroll_at_250px(page: Any, lab: Lab) -> None:
    page.locator(ROWS).first.wait_for()
    panel = page.locator("#jupyter-mlops-panel")
    left = panel.bounding_box()["x"]
    widen_sidebar(page, int(left + 250))
    wrap = page.locator(".jp-mlops-grid-wrap")
    page.wait_for_function(
        "() => { const w = document.querySelector('.jp-mlops-grid-wrap');"
        " return w.scrollWidth > w.clientWidth; }"
    )
    row = page.locator(f"{ROWS}[data-run-id='{lab.ids.changed}']")
    name = row.locator("td.jp-mlops-pinned-last")
    later = row.locator("td").nth(4)  # the gates column, not pinned
    before = {"name": name.bounding_box()["x"], "later": later.bounding_box()["x"]}
    wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    page.wait_for_function("() => document.querySelector('.jp-mlops-grid-wrap').scrollLeft > 100")
    box = wrap.bounding_box()
    after = {"name": name.bounding_box()["x"], "later": later.bounding_box()["x"]}
    assert after["name"] == pytest.approx(before["name"], abs=1)  # stayed
    assert after["later"] < before["later"] - 100  # scrolled away
    checkbox = row.locator("input[type=checkbox]")
    cb = checkbox.bounding_box()
    assert box["x"] <= cb["x"] and cb["x"] + cb["width"] <= box["x"] + box["width"]
    # Still usable: the pinned checkbox selects the run after the scroll.
    checkbox.check()
    page.get_by_role("button", name="Compare (1)").wait_for()
    name_box = name.bounding_box()
    assert name_box["x"] + name_box["width"] <= box["x"] + box["width"] + 1
    assert (name.inner_text().strip() or "x") in row.inner_text()
    shot(page, "grid-250px-scrolled")


def test_started_is_relative_with_the_full_time_on_hover(page: Any, lab: Lab) -> None:
    page.locator(ROWS).first.wait_for()
    cell = page.locator(f"{ROWS}[data-run-id='{lab.ids.changed}'] time")
    text = cell.inner_text().strip()
    assert re.fullmatch(r"just now|\d+ (s|min|h|d|mo|y) ago", text), text
    title = cell.get_attribute("title") or ""
    started = lab.api(f"runs/{lab.ids.changed}")["started"]
    assert started[:4] in title and re.search(r"\d{1,2}:\d{2}:\d{2}", title), title
    assert cell.get_attribute("datetime") == started
    # Numbers are right-aligned, each column with one precision.
    nums = page.locator(".jp-mlops-grid thead th.jp-mlops-num[title^='metrics.']")
    assert nums.count() > 0
    col = nums.first.get_attribute("title")
    index = headers(page).index(col)
    cells = page.locator(f"{ROWS} td:nth-child({index + 1})").all_inner_texts()
    decimals = {len(c.split(".")[1]) for c in cells if re.fullmatch(r"-?\d+\.\d+", c)}
    assert len(decimals) <= 1, cells
    align = page.locator(f"{ROWS} td:nth-child({index + 1})").first.evaluate(
        "td => getComputedStyle(td).textAlign"
    )
    assert align == "right"
