"""The run detail in a real JupyterLab and a headless Chromium (issue 19, item 6): a run whose
gates failed says so in its header, gates come failed first with their messages inline and
their values in units, artifacts are previewed (image, CSV head, HTML in a sandbox, text) with
sizes in kB and MB, a plot's axes are no dataset, and the detail reflows at 250 px."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import stop_process

from .conftest import TOKEN, Lab, shot, start_lab, widen_sidebar

pytestmark = pytest.mark.slow

SCRIPT_MARK = "script-ran"
REPORT = f"""<html><head><style>h1 {{ color: #1a7f37; }}</style></head><body>
<h1>Validation report</h1><p>All folds scored.</p>
<script>document.body.dataset.mark = "{SCRIPT_MARK}"; parent.document.title = "{SCRIPT_MARK}";
</script></body></html>"""


def _figure(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0.3, 0.6, 0.64])
    fig.savefig(path)
    plt.close(fig)


def _gated_run(root: Path) -> str:
    """A finished run whose gates failed (a stale input), with one artifact of each kind."""
    import jupyter_mlops as mlops
    from jupyter_mlops.entities import GateResult, GateStatus, Severity

    files = root / "made"
    files.mkdir()
    _figure(files / "curve.png")
    rows = "".join(f"{i},{i * 0.5},label-{i % 3}\n" for i in range(200))
    (files / "scores.csv").write_text("id,score,label\n" + rows)
    (files / "report.html").write_text(REPORT)
    (files / "notes.txt").write_text("".join(f"note line {i}\n" for i in range(60)))
    (files / "weights.bin").write_bytes(os.urandom(1_500_000))
    with mlops.start_run(experiment="reports", name="gated-report", seed=0) as run:
        run.log_metric("accuracy", 0.6433566433566433)
        for name in ("curve.png", "scores.csv", "report.html", "notes.txt", "weights.bin"):
            run.log_artifact(files / name)
    gates = [
        GateResult("accuracy", "metric", GateStatus.PASS, 0.6433566433566433, ">= 0.6",
                   "accuracy = 0.6434"),
        GateResult("nulls", "max_null_share", GateStatus.WARN, 0.041666, "<= 1%",
                   "age: 4.17% null", Severity.WARN),
        GateResult("fresh-input", "freshness", GateStatus.FAIL, 9 * 86400 + 3600.0, "<= 7d",
                   "newest event_time is 9 days old"),
    ]  # fmt: skip
    mlops.default_tracker().store.save_gate_results(run.id, gates)
    return run.id


def _plotting_cell() -> str:
    """A %%track cell in a real IPython shell that plots: its axes must not become datasets."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    import jupyter_mlops as mlops

    InteractiveShell.clear_instance()
    cfg = Config()
    cfg.HistoryManager.enabled = False
    ip = InteractiveShell.instance(config=cfg)
    try:
        ip.run_line_magic("load_ext", "jupyter_mlops")
        for code in (
            "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt",
            "import numpy as np",
            "%%track -e plots -n plotted\nfig, ax = plt.subplots(1, 2)\n"
            "ax[0].plot([1, 2, 3])\nscores = np.arange(5.0)",
            "plt.close('all')",
        ):
            ip.run_cell(code).raise_error()
        ip.run_line_magic("unload_ext", "jupyter_mlops")
    finally:
        InteractiveShell.clear_instance()
    return str(mlops.runs(experiment="plots", limit=1)["id"].iloc[0])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A project of its own: the server's template runs plus the two runs above."""
    from tests.server.conftest import _build, building_in

    root = tmp_path_factory.mktemp("detail-project")
    with building_in(root):
        ids = _build(root)
        ids.gated = _gated_run(root)
        ids.plotted = _plotting_cell()
    proc, url = start_lab(root, tmp_path_factory.mktemp("detail-lab"))
    try:
        yield Lab(url, TOKEN, root, ids)
    finally:
        stop_process(proc, timeout=20)


def _open_run(page: Any, run_id: str) -> Any:
    page.evaluate(
        f"window.jupyterapp.commands.execute('jupyter-mlops:show-run', {{id: '{run_id}'}})"
    )
    detail = page.locator(".jp-mlops-detail")
    detail.locator(".jp-mlops-detail-status").wait_for()
    return detail


def test_gate_failed_header_and_gates_in_order(page: Any, lab: Lab) -> None:
    detail = _open_run(page, lab.ids.gated)
    chip = detail.locator(".jp-mlops-detail-status")
    assert chip.inner_text().strip() == "finished · gates failed"
    # Not the green "finished" chip: the failure's colour, from the theme.
    assert "jp-mlops-status-finished" not in (chip.get_attribute("class") or "")
    lines = detail.locator(".jp-mlops-gate-line")
    assert lines.evaluate_all("ls => ls.map(l => l.dataset.status)") == ["fail", "warn", "pass"]
    first = lines.nth(0)
    assert first.locator(".jp-mlops-gate-observed").inner_text() == "9d1h"
    assert first.locator(".jp-mlops-gate-threshold").inner_text() == "<= 7d"
    # The message is on the page, not only in a tooltip.
    assert first.locator(".jp-mlops-gate-message").is_visible()
    assert "9 days old" in first.locator(".jp-mlops-gate-message").inner_text()
    assert lines.nth(1).locator(".jp-mlops-gate-observed").inner_text() == "4.17%"
    assert lines.nth(2).locator(".jp-mlops-gate-observed").inner_text() == "0.6434"
    # A pipeline run whose gates passed keeps its plain status.
    _open_run(page, lab.ids.pipeline[0])
    chip = page.locator(".jp-mlops-detail-status")
    chip.filter(has_text="finished").wait_for()
    assert chip.inner_text().strip() == "finished"
    shot(page, "detail-gates")


def _artifact(detail: Any, name: str) -> Any:
    item = detail.locator(f".jp-mlops-artifact[data-artifact='{name}']")
    if not item.locator("details").evaluate("d => d.open"):
        item.locator("summary").click()
    return item


def test_artifact_previews_and_sizes(page: Any, lab: Lab) -> None:
    detail = _open_run(page, lab.ids.gated)
    sizes = detail.locator(".jp-mlops-artifact-size").all_inner_texts()
    assert "file, 1.5 MB" in sizes  # weights.bin
    assert any(s.startswith("file, ") and s.endswith(" kB") for s in sizes)  # scores.csv
    assert not any(s.endswith("00 B") for s in sizes if "MB" not in s)
    # The image, drawn (a decoded PNG with a size), not a broken link.
    img = _artifact(detail, "curve.png").locator("img.jp-mlops-preview-image")
    img.wait_for()
    page.wait_for_function(
        "i => i.complete && i.naturalWidth > 100", arg=img.element_handle(), timeout=60_000
    )
    # The CSV head as a small table.
    table = _artifact(detail, "scores.csv").locator(".jp-mlops-preview-table table")
    table.wait_for()
    assert table.locator("thead th").all_inner_texts() == ["id", "score", "label"]
    assert table.locator("tbody tr").count() == 10
    assert "of 200 rows" in _artifact(detail, "scores.csv").inner_text()
    # The HTML report in a sandboxed iframe: shown, and its script never ran.
    frame_el = _artifact(detail, "report.html").locator("iframe.jp-mlops-preview-html")
    frame_el.wait_for()
    assert frame_el.get_attribute("sandbox") == ""
    frame = frame_el.content_frame
    frame.locator("h1", has_text="Validation report").wait_for()
    assert frame.locator("body").get_attribute("data-mark") is None
    assert page.title() != SCRIPT_MARK
    # The text file's first lines.
    text = _artifact(detail, "notes.txt").locator(".jp-mlops-preview-text")
    text.wait_for()
    assert text.inner_text().startswith("note line 0\nnote line 1")
    assert "note line 39" in text.inner_text() and "note line 40" not in text.inner_text()
    # A binary file says it has no preview, and can still be downloaded.
    weights = _artifact(detail, "weights.bin")
    weights.locator(".jp-mlops-muted", has_text="no preview").wait_for()
    assert weights.locator("a.jp-mlops-artifact-download").get_attribute("download") is not None
    shot(page, "detail-artifacts")


def test_plot_axes_are_not_datasets(page: Any, lab: Lab) -> None:
    detail = _open_run(page, lab.ids.plotted)
    rows = detail.locator(".jp-mlops-data-table tbody tr")
    rows.first.wait_for()
    names = rows.evaluate_all("rs => rs.map(r => r.dataset.name)")
    assert "scores" in names and "ax" not in names and "fig" not in names
    assert detail.locator(".jp-mlops-artifact[data-artifact^='figure']").count() >= 1


def test_detail_reflows_at_250_px(page: Any, lab: Lab) -> None:
    panel = page.locator("#jupyter-mlops-panel")
    left = panel.bounding_box()["x"]
    widen_sidebar(page, int(left) + 250)
    detail = _open_run(page, lab.ids.gated)
    page.wait_for_function(
        "() => document.querySelector('#jupyter-mlops-panel').getBoundingClientRect().width < 270"
    )
    view = detail.bounding_box()
    right = min(
        view["x"] + view["width"], panel.bounding_box()["x"] + panel.bounding_box()["width"]
    )
    for cell in detail.locator(".jp-mlops-gate-threshold, .jp-mlops-gate-message").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= right + 1, cell.inner_text()
    # Nothing in the detail is wider than the detail: no sideways scroll of the whole view.
    assert detail.evaluate("d => d.scrollWidth <= d.clientWidth + 1")
    shot(page, "detail-250px")


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_detail_passes_axe_in_light_and_dark(page: Any, lab: Lab, theme: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page.evaluate(
        f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})"
    )
    light = "true" if theme.endswith("Light") else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
    detail = _open_run(page, lab.ids.gated)
    for name in ("scores.csv", "notes.txt"):
        _artifact(detail, name).locator(
            ".jp-mlops-preview-table, .jp-mlops-preview-text"
        ).wait_for()
    # The chips' colours are the theme work's (tests/browser/test_a11y.py); the report in its
    # sandboxed frame is the notebook author's page.
    context = {"include": [[".jp-mlops-detail"]], "exclude": [[".jp-mlops-chip"], ["iframe"]]}
    results = Axe().run(page, context=context, options={"iframes": False})
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["id"] == "color-contrast" or v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad
    shot(page, f"detail-{theme.split()[-1].lower()}")
