"""``%mlops runs`` / ``%mlops compare`` as widgets in a real kernel (nbclient), and their HTML and
text fallbacks where no widget can be shown (terminal IPython, static outputs)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import jupyter_mlops as mlops
from jupyter_mlops.notebook.widgets import WIDGET_MIME, CompareFrame, RunsFrame
from tests.notebook_files import python_notebook

STATE_MIME = "application/vnd.jupyter.widget-state+json"


@pytest.fixture
def runs(tracker: mlops.Tracker) -> list[str]:
    ids = []
    for i in range(3):
        tags = {"team": "vision"} if i == 1 else {}
        with mlops.start_run(experiment="w", name=f"run{i}", tags=tags, seed=None) as run:
            run.log_params({"C": 10.0**i, "solver": "lbfgs"})
            for step in range(3):
                run.log_metric("loss", (i + 1) / (step + 1), step=step)
            run.log_metric("acc", 0.5 + 0.1 * i)
        ids.append(run.id)
    return ids


def _execute(tmp_path: Path, *sources: str) -> nbformat.NotebookNode:
    nb = python_notebook(*sources)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    return nb


def _bundle(cell: nbformat.NotebookNode) -> dict:
    (out,) = [o for o in cell.outputs if o.output_type in ("execute_result", "display_data")]
    return out.data


def _state(nb: nbformat.NotebookNode) -> dict:
    return nb.metadata["widgets"][STATE_MIME]["state"]


def _descendants(state: dict, model_id: str) -> list[dict]:
    """The model and every model reachable from its children (IPY_MODEL_ references)."""
    out, todo = [], [model_id]
    while todo:
        model = state[todo.pop()]
        out.append(model)
        for child in model["state"].get("children", []):
            todo.append(child.removeprefix("IPY_MODEL_"))
    return out


@pytest.mark.slow
def test_runs_and_compare_render_as_widgets_in_a_kernel(tmp_path: Path, runs: list[str]) -> None:
    a, b = runs[0][:8], runs[2][:8]
    probe = (
        "import json\nfrom jupyter_mlops.notebook.widgets import RunsTable\n"
        "t = RunsTable(frame)\n"
        "t.filter.value = 'RUN1'\nshown = list(t.visible()['id'])\n"
        "t.filter.value = ''\nt.sort.value = 'metrics.acc'\nt.descending.value = False\n"
        "order = list(t.visible()['id'])\n"
        "t.select.value = tuple(order[:2])\n"
        "print(json.dumps({'shown': shown, 'order': order, 'options': len(t.select.options),\n"
        "                  'can_compare': not t.compare_button.disabled,\n"
        "                  'table_has_runs': all(i in t.table.value for i in order)}))"
    )
    nb = _execute(
        tmp_path,
        "%load_ext jupyter_mlops",
        "%mlops runs -e w",
        "frame = _\ntype(frame).__name__, len(frame)",
        probe,
        f"%mlops compare {a} {b}",
    )
    runs_out = _bundle(nb.cells[1])
    model_id = runs_out[WIDGET_MIME]["model_id"]
    models = _descendants(_state(nb), model_id)
    assert models[0]["model_name"] == "VBoxModel"
    html_models = [m for m in models if m["model_name"] == "HTMLModel"]
    assert html_models and all(r in html_models[0]["state"]["value"] for r in runs)
    select = next(m for m in models if m["model_name"] == "SelectMultipleModel")
    assert len(select["state"]["_options_labels"]) == 3
    # The fallback travels in the same bundle.
    assert "<table>" in runs_out["text/html"]
    assert all(f'data-jupyter-mlops-run="{r}"' in runs_out["text/html"] for r in runs)
    assert "run1" in runs_out["text/plain"]
    assert _bundle(nb.cells[2])["text/plain"] == "('RunsFrame', 3)"
    probe_out = json.loads(nb.cells[3].outputs[0]["text"])
    assert probe_out["shown"] == [runs[1]]
    assert probe_out["order"] == runs and probe_out["options"] == 3
    assert probe_out["can_compare"] and probe_out["table_has_runs"]

    cmp_out = _bundle(nb.cells[4])
    models = _descendants(_state(nb), cmp_out[WIDGET_MIME]["model_id"])
    table = next(m for m in models if m["model_name"] == "HTMLModel")["state"]["value"]
    assert 'class="differs"' in table and "params.C" in table
    dropdown = next(m for m in models if m["model_name"] == "DropdownModel")
    assert set(dropdown["state"]["_options_labels"]) == {"acc", "loss"}
    assert any(m["model_name"] == "ImageModel" for m in models)
    assert 'class="differs"' in cmp_out["text/html"]
    assert '<img alt="acc" src="data:image/png;base64,' in cmp_out["text/html"]


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
    differs = data["text/html"].split('class="differs"')
    assert len(differs) == 1 + int(cmp["differs"].sum())  # one highlighted row per difference
    assert type(frame.head(1)).__name__ == "DataFrame"  # slices are plain frames


def test_track_summary_html_names_its_run_for_the_sidebar(shell) -> None:
    from jupyter_mlops.tracking.compare import diff_runs
    from jupyter_mlops.tracking.summary import RunSummary

    shell.run("%%track -e s\nacc = 0.5")
    run = mlops.get_run(mlops.runs(experiment="s")["id"].iloc[0])
    page = RunSummary(run, diff_runs(None, run))._repr_html_()
    assert f"data-jupyter-mlops-run='{run.id}'" in page
