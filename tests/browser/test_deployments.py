"""The Deployments section of the Models view in a real JupyterLab, over a store with a real
canary: two real scikit-learn versions of ``churn``, the blessed one and a candidate canaried
on a real label stream (``mlops.predict`` and ``mlops.log_labels``, clock injected), one look
taken. The section shows the state, the share bar, each arm's evidence with its interval (a
table and a chart) and the trail; *Start canary* checks the plan in the browser as the server
does and shows the server's one line when it refuses; *Abort* asks a reason and rolls back;
axe-core finds nothing in the three themes; at 250 px the arms reflow inside the card."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import stop_process

from .conftest import (
    PANEL,
    THEMES,
    TOKEN,
    Lab,
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

CHURN = ".jp-mlops-model[data-model='churn']"
QUIET = ".jp-mlops-model[data-model='quiet']"
SECTION = f"{CHURN} .jp-mlops-deployment"


def _build_canary(root: Path) -> None:
    """``churn``: v1 blessed, v2 canaried at 10 % then looked at once; ``quiet``: v1 blessed
    and a v2 candidate, but no labels (a canary on it is refused)."""
    import jupyter_mlops as mlops
    from jupyter_mlops.monitoring.canary import start_canary, step
    from jupyter_mlops.monitoring.canary_spec import make_plan
    from tests.canary.helpers import NAME, T0, Traffic, register
    from tests.server.conftest import building_in

    with building_in(root):
        tracker = mlops.default_tracker()
        register(tracker, "x1", bless=True)
        traffic = Traffic(tracker.store)
        traffic.serve(200, T0)
        v2 = register(tracker, "good")
        plan = make_plan("10,50,100", ["p99<5s"], "1m", min_labels=1000, effect=0.05)
        start_canary(tracker.store, NAME, v2, plan, T0)
        traffic.serve(1500, T0 + 30)
        assert step(tracker.store, NAME, T0 + 61) is not None  # a hold: too few labels
        traffic.serve(500, T0 + 90)
        register(tracker, "x1", bless=True, name="quiet")
        register(tracker, "good", name="quiet")


@pytest.fixture(scope="module")
def deploy_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("deploy")
    _build_canary(root)
    proc, url = start_lab(root, tmp_path_factory.mktemp("deploy-lab"))
    try:
        yield Lab(url, TOKEN, root, None)
    finally:
        stop_process(proc, timeout=20)


@pytest.fixture(scope="module")
def models_page(browser: Any, deploy_lab: Lab) -> Iterator[Any]:
    page = open_lab(browser, deploy_lab.url, deploy_lab.token)
    page.locator(".jp-mlops-tab", has_text="Models").click()
    page.locator(SECTION).wait_for()
    yield page
    set_theme(page, THEMES[0])  # the theme is a saved setting: leave the Lab as it came
    page.close()


def test_the_running_canary_is_shown(models_page: Any, deploy_lab: Lab) -> None:
    page = models_page
    section = page.locator(SECTION)
    assert section.get_attribute("data-state") == "running"
    body = deploy_lab.api("models/churn/rollout")
    assert body["state"] == "running" and body["candidate"] == 2 and body["baseline"] == 1
    text = section.inner_text()
    assert "canary v2 vs blessed v1" in text
    assert "next look" in text
    legend = section.locator(".jp-mlops-share-legend").inner_text()
    assert "candidate v2: 10%" in legend and "blessed v1: 90%" in legend
    rows = section.locator(".jp-mlops-arms tbody tr")
    assert rows.count() == 2
    cand = next(a for a in body["arms"] if a["arm"] == "candidate")
    row = section.locator(".jp-mlops-arms tr[data-arm='candidate']")
    assert str(cand["rows"]) in row.inner_text()
    assert str(cand["labels"]) in row.inner_text()
    # The chart: a band per arm with an interval and the points, drawn by ECharts.
    chart = section.locator(".jp-mlops-band-chart .jp-mlops-echart")
    page.wait_for_function(
        "sel => document.querySelector(sel)?.dataset.series === '3'",
        arg=f"{SECTION} .jp-mlops-band-chart .jp-mlops-echart",
    )
    assert "always-valid interval" in (chart.get_attribute("aria-label") or "")
    # The trail, newest first: the look's hold.
    trail = section.locator(".jp-mlops-trail li")
    assert trail.count() == len(body["trail"]) >= 1
    assert "hold" in trail.first.inner_text()
    # Start canary is offered on a candidate only when no canary runs.
    assert page.locator(CHURN).get_by_role("button", name="Start canary").count() == 0
    assert page.locator(QUIET).get_by_role("button", name="Start canary").count() == 1
    shot(page, "deployments-running", page.locator(CHURN))


def test_start_canary_checks_the_plan_and_shows_the_refusal(
    models_page: Any, deploy_lab: Lab
) -> None:
    page = models_page
    card = page.locator(QUIET)
    card.get_by_role("button", name="Start canary").click()
    dialog = page.locator(".jp-Dialog")
    start = dialog.get_by_role("button", name="Start canary")
    assert start.is_enabled()  # the defaults are a valid plan
    dialog.locator("input[name=steps]").fill("5,50")
    error = dialog.locator("#jp-mlops-canary-steps-error")
    assert error.inner_text() == (
        "--steps must end at 100 (the candidate takes all traffic); got 50"
    )
    assert start.is_disabled()
    dialog.locator("input[name=guards]").fill("p99<50")
    assert "is not a guardrail" in dialog.locator("#jp-mlops-canary-guards-error").inner_text()
    dialog.locator("input[name=steps]").fill("5,50,100")
    dialog.locator("input[name=guards]").fill("p99<50ms, error_rate<1%")
    assert error.inner_text() == ""
    assert start.is_enabled()
    shot(page, "deployments-start-canary")
    start.click()
    dialog.wait_for(state="detached")
    # The server refuses (no labels): its one line in the card, nothing started.
    line = card.locator(".jp-mlops-error")
    line.wait_for()
    assert "quiet has no labels" in line.inner_text()
    assert deploy_lab.api("models/quiet/rollout")["state"] == "none"


def test_readable_in_every_theme_and_reflows_at_250_px(models_page: Any) -> None:
    page = models_page
    failures = []
    for theme in THEMES:
        set_theme(page, theme)
        for width in (250, 720):
            got = set_panel_width(page, width)
            settle(page)
            page.locator(SECTION).scroll_into_view_if_needed()
            found = [
                v
                for v in axe_violations(page, PANEL)
                if v["impact"] in {"serious", "critical"} or "contrast" in v["id"]
            ]
            if found:
                failures.append(f"{theme} / {got:.0f}px:\n{describe_violations(found)}")
            slug = theme.lower().replace("jupyterlab ", "").replace(" ", "-")
            shot(page, f"deployments-{slug}-{width}", page.locator(CHURN))
    assert not failures, "\n".join(failures)
    set_theme(page, THEMES[0])
    set_panel_width(page, 250)
    page.wait_for_function(
        "sel => getComputedStyle(document.querySelector(sel)).display === 'block'",
        arg=f"{SECTION} .jp-mlops-arms tr[data-arm='candidate']",
        timeout=30_000,
    )
    card = page.locator(CHURN).bounding_box()
    for part in (".jp-mlops-arms", ".jp-mlops-share-bar", ".jp-mlops-band-chart"):
        box = page.locator(f"{SECTION} {part}").bounding_box()
        assert box["x"] + box["width"] <= card["x"] + card["width"] + 1, part
    abort = page.locator(SECTION).get_by_role("button", name="Abort").bounding_box()
    assert abort["x"] + abort["width"] <= card["x"] + card["width"] + 1
    shot(page, "deployments-250px", page.locator(CHURN))


def test_abort_asks_a_reason_and_rolls_back(models_page: Any, deploy_lab: Lab) -> None:
    page = models_page
    set_panel_width(page, 720)
    section = page.locator(SECTION)
    section.get_by_role("button", name="Abort").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill("p99 looks worse on the dashboard")
    dialog.get_by_role("button", name="Confirm").click()
    page.locator(f"{SECTION}[data-state='aborted']").wait_for()
    body = deploy_lab.api("models/churn/rollout")
    assert body["state"] == "aborted"
    assert body["trail"][-1]["decision"] == "abort"
    first = section.locator(".jp-mlops-trail li").first.inner_text()
    assert "abort" in first and "p99 looks worse on the dashboard" in first
    # No canary runs any more: Start canary is offered again on the candidate.
    page.locator(CHURN).get_by_role("button", name="Start canary").wait_for()


def test_start_canary_from_the_panel(models_page: Any, deploy_lab: Lab) -> None:
    """After the abort: v2 canaried again from its row, with the plan typed in the dialog."""
    page = models_page
    card = page.locator(CHURN)
    card.get_by_role("button", name="Start canary").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input[name=steps]").fill("50,100")
    dialog.locator("input[name=minLabels]").fill("100")
    dialog.locator("input[name=guards]").fill("error_rate<5%")
    dialog.locator("input[name=interval]").fill("30m")
    dialog.get_by_role("button", name="Start canary").click()
    page.locator(f"{SECTION}[data-state='running']").wait_for()
    body = deploy_lab.api("models/churn/rollout")
    assert (body["state"], body["candidate"], body["share"]) == ("running", 2, 0.5)
    plan = body["plan"]
    assert (plan["steps"], plan["min_labels"], plan["guards"], plan["interval"]) == (
        [50.0, 100.0],
        100,
        ["error_rate<5%"],
        1800.0,
    )
    legend = page.locator(SECTION).locator(".jp-mlops-share-legend").inner_text()
    assert "candidate v2: 50%" in legend
