"""The Models view in a real JupyterLab: *Bless* on a version whose gates failed (a real
pipeline run with too much label noise) says which gates failed and needs a reason and an
explicit confirmation; aliases, tags and a description are edited and shown; at the sidebar's
250 px the versions reflow inside their card."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import Lab, open_lab, shot, widen_sidebar

pytestmark = pytest.mark.slow

CARD = ".jp-mlops-model[data-model='train_ok']"


@pytest.fixture(scope="module")
def failed_version(lab: Lab) -> int:
    """A version of train_ok whose accuracy gate failed: the pipeline run with label noise 5
    (accuracy near 0.6 < 0.8), run as the scheduler would, next to the running Lab."""
    from jupyter_mlops.pipeline.runner import run_pipeline
    from tests.server.conftest import building_in

    with building_in(lab.root):
        result = run_pipeline("train_ok", {"noise": "5"}, progress=False, seed=4)
    assert result.exit_code == 3  # a gate failed; the model is kept as a candidate
    gates = lab.api("models/train_ok")["gates"]
    (failed,) = [g for g in gates if g["outcome"] == "failed"]
    return int(failed["version"])


@pytest.fixture
def models_page(browser: Any, lab: Lab) -> Iterator[Any]:
    page = open_lab(browser, lab.url, lab.token)
    page.locator(".jp-mlops-tab", has_text="Models").click()
    page.locator(f"{CARD} tr[data-version='1']").wait_for()
    yield page
    page.close()


def _row(page: Any, version: int) -> Any:
    return page.locator(f"{CARD} tr[data-version='{version}']")


def test_bless_of_a_gate_failed_version_warns_and_needs_confirmation(
    models_page: Any, lab: Lab, failed_version: int
) -> None:
    page = models_page  # opened after the failing run (a module fixture, set up first)
    row = _row(page, failed_version)
    row.wait_for()
    failed_text = next(
        g["failed_text"] for g in lab.api("models/train_ok")["gates"] if g["outcome"] == "failed"
    )
    assert failed_text.startswith(f"train_ok@{failed_version} failed its gates: metric:accuracy")
    facts = page.locator(f"{CARD} tr[data-meta-version='{failed_version}']")
    assert failed_text in facts.inner_text()
    assert "failed" in row.inner_text()  # the gates column
    # Cancel: nothing changes.
    row.get_by_role("button", name="Bless").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_role("alert").wait_for()
    assert dialog.get_by_role("alert").inner_text().strip() == failed_text
    dialog.get_by_role("button", name="Cancel").click()
    dialog.wait_for(state="detached")
    stages = {v["version"]: v["stage"] for v in lab.api("models/train_ok")["versions"]}
    assert stages[failed_version] == "candidate"
    # A reason alone is not enough: the box must be ticked too.
    row.get_by_role("button", name="Bless").click()
    bless_anyway = dialog.get_by_role("button", name="Bless anyway")
    assert bless_anyway.is_disabled()
    dialog.locator("input[name=reason]").fill("the gate's validation data was stale")
    assert bless_anyway.is_disabled()
    dialog.locator("input[name=confirm]").check()
    assert bless_anyway.is_enabled()
    shot(page, "models-bless-gate-failed")
    bless_anyway.click()
    row.locator(".jp-mlops-stage-blessed").wait_for()
    event = lab.api("models/train_ok")["events"][-1]
    assert event["action"] == "bless" and event["version"] == failed_version
    assert event["reason"] == (
        f"the gate's validation data was stale [gates overridden: {failed_text}]"
    )


def test_aliases_tags_and_description_are_edited_and_shown(models_page: Any, lab: Lab) -> None:
    page = models_page
    row = _row(page, 1)
    row.get_by_role("button", name="Edit").click()
    meta = page.locator(f"{CARD} tr[data-meta-version='1']")
    meta.get_by_label("Alias for train_ok v1").fill("42")
    meta.get_by_role("button", name="Set alias").click()
    error = meta.locator(".jp-mlops-error")
    error.wait_for()
    assert "starting with a letter" in error.inner_text()  # the server's one line
    meta.get_by_label("Alias for train_ok v1").fill("champion")
    meta.get_by_role("button", name="Set alias").click()
    meta.locator(".jp-mlops-alias", has_text="@champion").wait_for()
    meta.get_by_label("Tag for train_ok v1").fill("owner=ana")
    meta.get_by_role("button", name="Add tag").click()
    meta.locator(".jp-mlops-tag", has_text="owner=ana").wait_for()
    text = "First model.\nTrained on 400 rows."
    meta.get_by_label("Description of train_ok v1").fill(text)
    meta.get_by_role("button", name="Save description").click()
    meta.locator(".jp-mlops-description", has_text="Trained on 400 rows.").wait_for()
    shot(page, "models-version-edit")
    v1 = next(v for v in lab.api("models/train_ok")["versions"] if v["version"] == 1)
    assert (v1["aliases"], v1["tags"], v1["description"]) == (["champion"], {"owner": "ana"}, text)
    assert [e["action"] for e in lab.api("models/train_ok")["events"]][-3:] == [
        "alias",
        "tag",
        "describe",
    ]
    # Removed again from the same form.
    meta.get_by_role("button", name="Remove tag owner of train_ok v1").click()
    meta.locator(".jp-mlops-tag").wait_for(state="detached")
    assert lab.api("models/train_ok@champion")["versions"][0]["tags"] == {}


def test_versions_reflow_inside_the_card_at_250_px(models_page: Any) -> None:
    page = models_page
    widen_sidebar(page, 250)
    card = page.locator(CARD)
    row = _row(page, 1)
    page.wait_for_function(
        f"() => getComputedStyle(document.querySelector(\"{CARD} tr[data-version='1']\"))"
        ".display === 'block'",
        timeout=30_000,
    )
    box = card.bounding_box()
    table = card.locator("table.jp-mlops-versions").bounding_box()
    assert table["x"] + table["width"] <= box["x"] + box["width"] + 1
    edit = row.get_by_role("button", name="Edit")
    eb = edit.bounding_box()
    assert eb["x"] + eb["width"] <= box["x"] + box["width"] + 1  # the action is not cut off
    edit.click()
    page.locator(f"{CARD} tr[data-meta-version='1'] textarea").wait_for()
    shot(page, "models-250px")
