"""``%%track`` changes nothing but the record: every notebook below runs twice through nbclient,
plain and with ``%%track`` on top of every code cell, and the two must agree cell by cell: the
same outputs (the run summary aside, told apart by its mimetype), the same errors with the same
traceback frames and cell labels, the same execution counts, and the same variables at the end.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_mlops.tracking.summary import SUMMARY_MIMETYPE

from .conftest import ROOT

pytestmark = pytest.mark.slow

NOTEBOOKS = ROOT / "tests" / "notebooks"
CASES = sorted(NOTEBOOKS.glob("transparency_*.ipynb")) + sorted(
    (NOTEBOOKS / "public").glob("*.ipynb")
)
MARKER = "__transparency_variables__"

# The user's variables at the end, as type and repr (addresses masked). Input history (_i*,
# In) legitimately differs: it holds the raw cells, %%track included.
VARIABLES = f"""
import json as __json, re as __re, types as __types
def __variables(ns):
    out = {{}}
    for k, v in ns.items():
        if (k.startswith('__') or k.startswith('_i') or k in ('In', '_dh', '_oh', 'exit', 'quit',
                'get_ipython') or isinstance(v, __types.ModuleType)):
            continue
        try:
            text = repr(v)
        except Exception as e:
            text = 'repr failed: ' + type(e).__name__
        out[k] = type(v).__qualname__ + ': ' + __re.sub('0x[0-9a-fA-F]+', '0x', text)[:3000]
    return out
print('{MARKER}' + __json.dumps(__variables(get_ipython().user_ns), sort_keys=True))
"""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# IPython formats times with "%.3g", so a sub-microsecond time reads "1e+03 ns".
_TIMES = re.compile(r"\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\s*(?:ns|µs|\u03bcs|us|ms|s)\b")


def _execute(nb: nbformat.NotebookNode, cwd: Path, store: Path) -> nbformat.NotebookNode:
    import os

    env = dict(os.environ, JUPYTER_MLOPS_STORE=str(store))
    env.pop("JPY_SESSION_NAME", None)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=env)
    return nb


def _variant(source: nbformat.NotebookNode, tracked: bool) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(json.loads(json.dumps(source)))
    code = [c for c in nb.cells if c.cell_type == "code"]
    for c in code:
        if tracked and c.source.strip():
            c.source = "%%track\n" + c.source
        c.outputs, c.execution_count = [], None
    first = nbformat.v4.new_code_cell("%load_ext jupyter_mlops")
    last = nbformat.v4.new_code_cell(VARIABLES)
    nb.cells = [first, *code, last]
    return nb


def _normalize(text: Any, cwd: Path) -> str:
    text = "".join(text) if isinstance(text, list) else str(text)
    text = _ANSI.sub("", text).replace(str(cwd), "<cwd>")
    text = re.sub(r"0x[0-9a-fA-F]+", "0x", text)
    # A cell's file name hashes its raw text (%%track included) and the kernel's pid.
    text = re.sub(r"/tmp/ipykernel_\d+/\d+\.py", "<cell file>", text)
    text = re.sub(r"\(\d+\.py, line", "(<cell file>, line", text)
    if "CPU times" in text or "Wall time" in text:
        text = _TIMES.sub("<t>", text)
    return text


def _outputs(cell: nbformat.NotebookNode, cwd: Path) -> tuple[list[Any], int]:
    """The cell's outputs made comparable (streams joined, run-dependent details masked), and
    how many run summaries it showed."""
    out: list[Any] = []
    summaries = 0
    for o in cell.outputs:
        if o.output_type == "stream":
            text = _normalize(o.text, cwd)
            if out and out[-1][0] == "stream" and out[-1][1] == o.name:
                out[-1] = ("stream", o.name, out[-1][2] + text)
            else:
                out.append(("stream", o.name, text))
        elif o.output_type == "error":
            tb = [_normalize(line, cwd) for line in o.traceback]
            out.append(("error", o.ename, _normalize(o.evalue, cwd), tb))
        else:
            if SUMMARY_MIMETYPE in o.get("data", {}):
                summaries += 1
                continue
            data = {k: _normalize(v, cwd) for k, v in o.data.items()}
            out.append((o.output_type, data, dict(o.get("metadata", {}))))
    return out, summaries


def _variables(nb: nbformat.NotebookNode) -> dict[str, str]:
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert MARKER in text, nb.cells[-1].outputs
    return json.loads(text.split(MARKER, 1)[1])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_track_changes_nothing_in_the_notebook(path: Path, tmp_path: Path) -> None:
    source = nbformat.read(path, as_version=4)
    runs = {}
    for mode in ("plain", "tracked"):
        cwd = tmp_path / mode / "work"
        shutil.copytree(path.parent, cwd, ignore=shutil.ignore_patterns("*.ipynb", "public"))
        nb = _execute(_variant(source, mode == "tracked"), cwd, tmp_path / mode / ".mlops")
        runs[mode] = (nb, cwd)

    (plain, plain_cwd), (tracked, tracked_cwd) = runs["plain"], runs["tracked"]
    for i, (a, b) in enumerate(zip(plain.cells[:-1], tracked.cells[:-1], strict=True)):
        where = f"{path.name} cell {i}: {a.source[:60]!r}"
        assert a.execution_count == b.execution_count, where
        out_a, shown_a = _outputs(a, plain_cwd)
        out_b, shown_b = _outputs(b, tracked_cwd)
        assert out_a == out_b, where
        assert shown_a == 0, where
        expect = 1 if b.source.startswith("%%track") else 0
        assert shown_b == expect, f"{where}: {shown_b} run summaries, expected {expect}"
    assert _variables(plain) == _variables(tracked)


def test_the_fixtures_cover_the_cases_of_the_issue() -> None:
    """A guard against fixture drift: the cases above stay in the notebooks."""
    text = "\n".join(
        c.source
        for p in CASES
        for c in nbformat.read(p, as_version=4).cells
        if c.cell_type == "code"
    )
    for case in (
        "1 + 1;",
        "await ",
        "sys.stdout",
        "!echo",
        "= !echo",
        "%time ",
        "len?",
        "%debug",
        "%xmode",
        "redirect_stdout",
        "warnings.warn",
        "pickle.dumps",
        "plt.colorbar();",
        "  y = 2",
    ):
        assert case in text, case


def test_kernel_runs_store_the_displayed_png_and_know_their_cell(tmp_path: Path) -> None:
    """Under nbclient: a plot cell's run stores the very PNG the inline backend displayed (no
    second render), and runs are named after the working folder. nbclient sends no cell id
    (JupyterLab does; see test_magics), so the code lineage decides what a run compares with."""
    import base64
    import hashlib

    import jupyter_mlops as mlops

    cells = [
        "%load_ext jupyter_mlops",
        "%%track\nimport matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('t');",
        "%%track\nC = 1\nprint(C)",
        "%%track\nprint('no params')",
        "%%track\nC = 2\nprint(C)",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    cwd = tmp_path / "churn-study"
    cwd.mkdir()
    _execute(nb, cwd, tmp_path / ".mlops")
    png = next(o.data["image/png"] for o in nb.cells[1].outputs if "image/png" in o.get("data", {}))
    mlops.set_store(tmp_path / ".mlops")
    runs = [mlops.get_run(i) for i in mlops.runs()["id"]][::-1]  # oldest first
    assert [r.experiment for r in runs] == ["churn-study"] * 4
    figures = [a for a in runs[0].artifacts if a.kind == "figure"]
    assert [a.sha256 for a in figures] == [hashlib.sha256(base64.b64decode(png)).hexdigest()]
    summaries = [
        o.data["text/plain"]
        for c in nb.cells[3:]
        for o in c.outputs
        if SUMMARY_MIMETYPE in o.get("data", {})
    ]
    assert len(summaries) == 2
    assert "first run of this cell" in summaries[0]
    assert f"vs {runs[1].short_id}: C 1 → 2" in summaries[1]


def test_the_summary_follows_what_the_cell_printed_in_a_kernel(tmp_path: Path) -> None:
    # The summary skips ipykernel's stream flush only when nothing is waiting to be sent.
    cells = [
        "%load_ext jupyter_mlops",
        "%%track\nprint('out')",
        "%%track\nx = 1",
        "%%track\nimport sys\nprint('err', file=sys.stderr)\nprint('out')",
        "%%track\nimport sys\nsys.stdout.write('no newline');",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    _execute(nb, tmp_path, tmp_path / ".mlops")

    def kinds(cell: nbformat.NotebookNode) -> list[str]:
        return [
            "summary" if SUMMARY_MIMETYPE in o.get("data", {}) else o.get("name", o.output_type)
            for o in cell.outputs
        ]

    assert kinds(nb.cells[1]) == ["stdout", "summary"]
    assert kinds(nb.cells[2]) == ["summary"]
    *streams, last = kinds(nb.cells[3])  # ipykernel sends stdout before stderr, whatever came first
    assert sorted(streams) == ["stderr", "stdout"] and last == "summary"
    assert kinds(nb.cells[4]) == ["stdout", "summary"]
