"""Every view of the panel, in each of JupyterLab's three themes and at three sidebar widths:
axe-core finds no contrast violation and nothing serious or critical inside the panel, every tab
and the view's primary action are on screen and clickable (not clipped by the panel), and a
screenshot of each view x theme x width lands in test-artifacts/.

One Lab and one page for the whole module: themes and widths change in place, as a user would.
The views are described by what a user sees (roles, names, texts), not by their DOM, in VIEWS
below; a view that changes its primary action changes one line here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from .conftest import (
    PANEL,
    THEMES,
    Lab,
    axe_violations,
    describe_violations,
    open_lab,
    set_panel_width,
    set_theme,
    settle,
    shot,
)

pytestmark = pytest.mark.slow

WIDTHS = (250, 400, 800)
TABS = ("Runs", "Compare", "Pipelines", "Models", "Monitoring")
# axe impacts that fail the test (besides any contrast finding, whatever its impact).
BLOCKING = {"serious", "critical"}
CONTRAST_RULES = {"color-contrast", "color-contrast-enhanced"}


def _tab(panel: Any, name: str) -> None:
    panel.get_by_role("tab", name=name).click()


def _show_run(page: Any, run_id: str) -> None:
    page.evaluate(
        "id => window.jupyterapp.commands.execute('jupyter-mlops:show-run', {id})", run_id
    )


def _compare(page: Any, ids: list[str]) -> None:
    """Compare runs through the panel's model, as the runs view's Compare button does."""
    page.evaluate(
        """ids => {
            const left = Array.from(window.jupyterapp.shell.widgets('left'));
            left.find(w => w.id === 'jupyter-mlops-panel').model.compare(ids);
        }""",
        ids,
    )


@dataclass(frozen=True)
class View:
    """How to reach a view from anywhere in the panel, and what must then be on screen."""

    name: str
    show: Callable[[Any, Any, Lab], None]  # (page, panel, lab)
    ready: Callable[[Any, Lab], Any]  # (panel, lab) -> a locator shown once its data is in
    action: Callable[[Any], Any]  # panel -> the view's primary action


def _text(panel: Any, text: str, exact: bool = False) -> Any:
    """Shown text: the runs view stays mounted (hidden) under the others."""
    return panel.get_by_text(text, exact=exact).filter(visible=True).first


def _button(name: str | re.Pattern[str]) -> Callable[[Any], Any]:
    return lambda panel: panel.get_by_role("button", name=name).first


VIEWS = (
    View(
        "runs",
        lambda page, panel, lab: _tab(panel, "Runs"),
        lambda panel, lab: _text(panel, "failed", exact=True),
        _button(re.compile(r"^Compare")),
    ),
    View(
        "run-detail",
        lambda page, panel, lab: _show_run(page, lab.ids.changed),
        lambda panel, lab: _text(panel, lab.ids.changed),
        _button("Reproduce"),
    ),
    View(
        "compare",
        lambda page, panel, lab: _compare(page, list(lab.ids.pipeline)),
        lambda panel, lab: _text(panel, "params.C", exact=True),
        lambda panel: panel.get_by_role("checkbox", name=re.compile("differences")).first,
    ),
    View(
        "pipelines",
        lambda page, panel, lab: _tab(panel, "Pipelines"),
        lambda panel, lab: _text(panel, "metric:accuracy"),
        _button("Run now"),
    ),
    View(
        "models",
        lambda page, panel, lab: _tab(panel, "Models"),
        lambda panel, lab: panel.get_by_role("button", name="Bless").first,
        _button("Bless"),
    ),
    View(
        "monitoring",
        lambda page, panel, lab: _tab(panel, "Monitoring"),
        lambda panel, lab: _text(panel, "steady"),
        _button("churn"),
    ),
    View(
        "monitor-detail",
        lambda page, panel, lab: (_tab(panel, "Monitoring"), _button("churn")(panel).click()),
        lambda panel, lab: _text(panel, "x1", exact=True),
        _button("Back"),
    ),
)


@pytest.fixture(scope="module")
def a11y_page(browser: Any, lab: Lab) -> Iterator[Any]:
    page = open_lab(browser, lab.url, lab.token)
    yield page
    set_theme(page, THEMES[0])  # the theme is a saved setting: leave the Lab as it came
    page.close()


# Runs in the browser: is the element inside the panel's box, hit first at its centre (nothing
# covers it), and reached without scrolling any container sideways?
_REACHABLE = """(el, panelSel) => {
    el.scrollIntoView({block: 'center', inline: 'nearest'});
    const r = el.getBoundingClientRect();
    const p = document.querySelector(panelSel).getBoundingClientRect();
    const problems = [];
    if (r.width < 1 || r.height < 1) problems.push('has no size');
    if (r.left < p.left - 0.5 || r.right > p.right + 0.5)
        problems.push(`spans x ${r.left.toFixed(0)}..${r.right.toFixed(0)}, the panel `
            + `${p.left.toFixed(0)}..${p.right.toFixed(0)}`);
    for (let a = el.parentElement; a; a = a.parentElement) {
        if (a.scrollLeft > 0) problems.push(`needs a sideways scroll of ${a.className}`);
    }
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!hit || !(el === hit || el.contains(hit)))
        problems.push(`is covered by ${hit ? hit.outerHTML.slice(0, 80) : 'nothing'}`);
    return problems;
}"""


def reachable(locator: Any) -> list[str]:
    """What keeps a user from seeing and clicking ``locator`` in the panel (empty: nothing)."""
    return locator.evaluate(_REACHABLE, PANEL) if locator.count() else ["is missing"]


def check_view(page: Any, view: View, theme: str, width: int) -> list[str]:
    """The failures of one view x theme x width, each as one line; saves its screenshot."""
    panel = page.locator(PANEL)
    where = f"{view.name} / {theme} / {width}px"
    failures = []
    got = set_panel_width(page, width)
    if abs(got - width) > 2:
        failures.append(f"{where}: the panel is {got:.0f}px wide")
    settle(page)
    for name in TABS:
        tab = panel.get_by_role("tab", name=name)
        failures += [f"{where}: tab {name} {p}" for p in reachable(tab)]
    failures += [f"{where}: primary action {p}" for p in reachable(view.action(panel))]
    found = axe_violations(page)
    blocking = [v for v in found if v["id"] in CONTRAST_RULES or v["impact"] in BLOCKING]
    if blocking:
        failures.append(f"{where}: axe:\n{describe_violations(blocking)}")
    slug = theme.lower().replace("jupyterlab ", "").replace(" ", "-")
    page.evaluate("sel => document.querySelector(sel).scrollTop = 0", f"{PANEL} .jp-mlops-body")
    shot(page, f"a11y-{view.name}-{slug}-{width}", panel)
    return failures


# Theme-major order: the theme changes three times in the module, the view 21 times.
CASES = [pytest.param(theme, view, id=f"{theme}-{view.name}") for theme in THEMES for view in VIEWS]


@pytest.mark.parametrize(("theme", "view"), CASES)
def test_view_is_readable_and_reachable(a11y_page: Any, lab: Lab, theme: str, view: View) -> None:
    page = a11y_page
    set_theme(page, theme)
    panel = page.locator(PANEL)
    view.show(page, panel, lab)
    view.ready(panel, lab).wait_for()
    failures: list[str] = []
    for width in WIDTHS:
        failures += check_view(page, view, theme, width)
    assert not failures, "\n".join(failures)


README_SHOTS = (("light", THEMES[0], VIEWS[0]), ("dark", THEMES[1], VIEWS[1]))


def test_readme_screenshots(a11y_page: Any, lab: Lab) -> None:
    """The README's two pictures of the panel, 400 px wide: the runs in Light, a run's detail in
    Dark, saved as test-artifacts/readme-panel-{light,dark}.png; copied to docs/panel-*.png."""
    page = a11y_page
    panel = page.locator(PANEL)
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 640})  # a short picture
    try:
        for slug, theme, view in README_SHOTS:
            set_theme(page, theme)
            view.show(page, panel, lab)
            view.ready(panel, lab).wait_for()
            assert abs(set_panel_width(page, 400) - 400) <= 2
            settle(page)
            path = shot(page, f"readme-panel-{slug}", panel)
            assert path.stat().st_size < 200_000, f"{path} is {path.stat().st_size} bytes"
    finally:
        page.set_viewport_size(size)
