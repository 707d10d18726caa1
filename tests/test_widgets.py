"""``%mlops runs`` / ``%mlops compare`` as anywidgets in a real kernel (nbclient): the grid
pages and sorts through the view layer, its selection reaches compare, compare carries real
chart data, and the static HTML version travels in the same output and is what nbconvert
renders when the widget model is gone."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

import jupyter_mlops as mlops
from jupyter_mlops.notebook.cells import format_duration, format_value, number_format
from jupyter_mlops.notebook.widgets import FALLBACK_METADATA, WIDGET_MIME, CompareFrame, RunsFrame
from tests.notebook_files import python_notebook

STATE_MIME = "application/vnd.jupyter.widget-state+json"
STATIC = Path(mlops.__file__).parent / "notebook" / "static"


@pytest.fixture
def runs(tracker: mlops.Tracker) -> list[str]:
    """Seven runs, oldest first; params namespaced like a pipeline's."""
    ids = []
    for i in range(7):
        tags = {"team": "vision"} if i == 1 else {}
        with mlops.start_run(experiment="w", name=f"run{i}", tags=tags, seed=None) as run:
            run.log_params({"C": 10.0**i, "solver": "lbfgs", "clf.depth": i, "clf.seed": 0})
            for step in range(3):
                run.log_metric("loss", (i + 1) / (step + 1), step=step)
            run.log_metric("acc", 0.5 + 0.01 * ((i * 3) % 7))  # not in start order
        ids.append(run.id)
    return ids


def _execute(tmp_path: Path, *sources: str, store_state: bool = True) -> nbformat.NotebookNode:
    nb = python_notebook(*sources)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        store_widget_state=store_state,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    return nb


def _bundle(cell: nbformat.NotebookNode) -> dict:
    return _output(cell).data


def _output(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    (out,) = [o for o in cell.outputs if o.output_type in ("execute_result", "display_data")]
    return out


def _state(nb: nbformat.NotebookNode) -> dict:
    return nb.metadata["widgets"][STATE_MIME]["state"]


def _descendants(state: dict, model_id: str) -> list[dict]:
    """The model and every model reachable from its children (IPY_MODEL_ references)."""
    out, todo = [], [model_id]
    while todo:
        model = state[todo.pop(0)]
        out.append(model)
        for child in model["state"].get("children", []):
            todo.append(child.removeprefix("IPY_MODEL_"))
    return out


PROBE = """\
import json
from jupyter_mlops.notebook.widgets import RunsView
from jupyter_mlops.views import RunsQuery

view = RunsView(RunsQuery("w"), page_size=3)
grid = view.grid
ids = lambda: [r["id"] for r in grid.rows]
pages = [ids()]
grid.page = 1; pages.append(ids())
grid.page = 2; pages.append(ids()); last_has_more = grid.has_more
grid.page = 3  # past the last page: stays on it
stays = grid.page
grid.order_by = "metrics.acc"  # what clicking the header does: back to page one, sorted
sorted_page, sorted_at = ids(), grid.page
acc = [r["cells"]["metrics.acc"] for r in grid.rows]
grid.order_by = "-metrics.acc"
desc = ids()
grid.selected = desc[:2]
grid._message(grid, {"action": "compare"}, [])  # what the Compare button sends
print(json.dumps({
    "pages": pages, "last_has_more": last_has_more, "stays": stays, "sorted": sorted_page,
    "sorted_at": sorted_at, "acc": acc, "desc": desc,
    "columns": [c["key"] for c in grid.columns],
    "compared": [r["id"] for r in view.compare.runs],
    "labels": [r["label"] for r in view.compare.runs],
    "charts": view.compare.charts,
}))
"""


@pytest.mark.slow
def test_grid_pages_sorts_and_hands_its_selection_to_compare(
    tmp_path: Path, runs: list[str]
) -> None:
    nb = _execute(tmp_path, "%load_ext jupyter_mlops", PROBE)
    got = json.loads(nb.cells[1].outputs[0]["text"])
    newest = runs[::-1]
    assert got["pages"] == [newest[0:3], newest[3:6], newest[6:7]]
    assert got["last_has_more"] is False and got["stays"] == 2
    by_acc = sorted(runs, key=lambda r: mlops.get_run(r).metrics["acc"])
    assert got["sorted"] == by_acc[:3] and got["sorted_at"] == 0
    assert all(re.fullmatch(r"0\.\d{4}", a) for a in got["acc"])  # one precision
    assert got["desc"] == by_acc[::-1][:3]
    # The panel's column rule: varying params, shallow ones first, the constant clf.seed left out.
    params = [c for c in got["columns"] if c.startswith("params.")]
    assert params[:2] == ["params.C", "params.clf.depth"]
    assert "params.clf.seed" not in got["columns"]
    assert got["compared"] == by_acc[::-1][:2]
    labels = [mlops.get_run(r).name for r in got["compared"]]
    assert got["labels"] == labels
    (curve,) = got["charts"]["curves"]
    assert curve["key"] == "loss" and [s["label"] for s in curve["series"]] == labels
    assert all([p[0] for p in s["points"]] == [0, 1, 2] for s in curve["series"])
    (bar,) = got["charts"]["bars"]
    assert bar["key"] == "acc" and [b["label"] for b in bar["bars"]] == labels


@pytest.mark.slow
def test_runs_and_compare_outputs_carry_widget_and_static_html(
    tmp_path: Path, runs: list[str]
) -> None:
    a, b = runs[0][:8], runs[2][:8]
    nb = _execute(
        tmp_path,
        "%load_ext jupyter_mlops",
        "%mlops runs -e w",
        "frame = _\ntype(frame).__name__, len(frame)",
        f"%mlops compare {a} {b}",
    )
    out = _bundle(nb.cells[1])
    state = _state(nb)
    box, grid, compare = _descendants(state, out[WIDGET_MIME]["model_id"])
    assert box["model_name"] == "VBoxModel"
    assert grid["model_name"] == compare["model_name"] == "AnyModel"
    # Only a page reaches the browser; the saved state holds the module, so a notebook saved
    # with widget state renders the grid with no kernel at all.
    assert len(grid["state"]["rows"]) == 7 and grid["state"]["page_size"] == 25
    assert grid["state"]["_esm"] == (STATIC / "widgets.js").read_text()
    assert "--jp-" in grid["state"]["_css"]
    html = out["text/html"]
    assert all(f'data-jupyter-mlops-run="{r}"' in html for r in runs)
    assert '<th scope="col" class="num">acc</th>' in html and "runs 1–7" in html
    assert "run1" in out["text/plain"]
    assert _bundle(nb.cells[2])["text/plain"] == "('RunsFrame', 7)"

    # The lab extension knows our widget outputs by this mark (widgetFallback.ts).
    assert _output(nb.cells[1]).metadata == _output(nb.cells[3]).metadata == FALLBACK_METADATA
    cmp = _bundle(nb.cells[3])
    (model,) = _descendants(state, cmp[WIDGET_MIME]["model_id"])
    assert [r["label"] for r in model["state"]["runs"]] == ["run0", "run2"]
    assert [c["key"] for c in model["state"]["charts"]["curves"]] == ["loss"]
    differs = {r["key"] for r in model["state"]["table"] if r["differs"]}
    assert {"params.C", "metrics.loss"} <= differs and "params.solver" not in differs
    svgs = re.findall(r'alt="([^"]+)" src="data:image/svg\+xml;base64,([^"]+)"', cmp["text/html"])
    assert [alt for alt, _ in svgs] == ["loss by step", "acc by run"]
    assert all(base64.b64decode(svg).startswith(b"<?xml") for _, svg in svgs)
    assert "<svg" in base64.b64decode(svgs[0][1]).decode() and "run2" in cmp["text/html"]


@pytest.mark.slow
def test_a_notebook_saved_without_widget_state_exports_the_static_table(
    tmp_path: Path, runs: list[str]
) -> None:
    """nbconvert shows a widget only when the notebook holds its model's state; without it
    (JupyterLab saves none by default) the export shows the HTML table, not an error."""
    nb = _execute(tmp_path, "%load_ext jupyter_mlops", "%mlops runs -e w", store_state=False)
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(path, as_version=4))
    assert "widgets" not in nbformat.read(path, as_version=4).metadata
    assert all(f'data-jupyter-mlops-run="{r}"' in body for r in runs)
    assert "model not found" not in body and WIDGET_MIME not in body

    saved = _execute(tmp_path, "%load_ext jupyter_mlops", "%mlops runs -e w")
    body, _ = HTMLExporter().from_notebook_node(saved)
    assert WIDGET_MIME in body  # with the state, the export embeds the widget itself


def test_terminal_ipython_gets_html_and_text_but_no_widget(shell, runs: list[str]) -> None:
    frame = shell.run("%mlops runs -e w")
    assert isinstance(frame, RunsFrame)
    assert list(frame["id"]) == runs[::-1]  # still the runs() DataFrame
    data, _ = shell.display_formatter.format(frame)
    assert WIDGET_MIME not in data
    assert all(f'data-jupyter-mlops-run="{r}"' in data["text/html"] for r in runs)
    assert "run2" in data["text/plain"]
    cmp = shell.run(f"%mlops compare {runs[0][:8]} {runs[1][:8]}")
    assert isinstance(cmp, CompareFrame) and bool(cmp.loc["params.C", "differs"])
    data, _ = shell.display_formatter.format(cmp)
    assert WIDGET_MIME not in data
    differs = data["text/html"].split("class=differs")
    assert len(differs) == 1 + int(cmp["differs"].sum())  # one marked row per difference
    assert type(frame.head(1)).__name__ == "DataFrame"  # slices are plain frames


def test_cells_read_as_numbers_durations_and_times() -> None:
    assert [format_duration(s) for s in (0.0001456, 0.25, 4.23, 185, 7400, None)] == [
        "<1 ms", "250 ms", "4.2 s", "3 min 05 s", "2 h 03 min", "",
    ]  # fmt: skip
    spec = number_format([0.5, 0.8531, 0.9])
    assert [format_value(v, spec) for v in (0.5, 0.8531, None)] == ["0.5000", "0.8531", ""]
    assert number_format([12.3456, 0.5]) == ",.2f" and number_format([3, 10_000]) == ",.0f"
    assert number_format([1.0, 1e-9]) == ".3e"  # 0.00 would hide a value
    assert number_format(["lbfgs"]) == ""


def test_track_summary_html_names_its_run_for_the_sidebar(shell) -> None:
    from jupyter_mlops.tracking.compare import diff_runs
    from jupyter_mlops.tracking.summary import RunSummary

    shell.run("%%track -e s\nacc = 0.5")
    run = mlops.get_run(mlops.runs(experiment="s")["id"].iloc[0])
    page = RunSummary(run, diff_runs(None, run))._repr_html_()
    assert f"data-jupyter-mlops-run='{run.id}'" in page


def test_grid_keeps_to_the_limit_and_says_what_is_wrong(runs: list[str]) -> None:
    """``%mlops runs --limit 4`` pages through four runs at most; a bad sort key set by code
    is said in the grid, and the page it had stays."""
    from jupyter_mlops.notebook.widgets import RunsView
    from jupyter_mlops.views import RunsQuery

    grid = RunsView(RunsQuery("w"), limit=4, page_size=3).grid
    assert len(grid.rows) == 3 and grid.has_more
    grid.page = 1
    assert [r["id"] for r in grid.rows] == [runs[::-1][3]] and not grid.has_more
    grid.order_by = "metrics.acc DESC LIMIT"
    assert grid.error.startswith("Bad order") and len(grid.rows) == 1
    grid.order_by = "-metrics.acc"
    assert grid.error == "" and grid.page == 0 and len(grid.rows) == 3
    assert "runs 1–3 of more" in grid.html()
