from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.exceptions import NotebookChangedError, NotebookError, ValidationError
from jupyter_mlops.pipeline.notebook import (
    NO_PARAMETERS_HINT,
    check_notebook_unchanged,
    diff_cells,
    notebook_code,
    notebook_code_hash,
    parse_parameters,
    read_notebook,
    read_notebook_parameters,
)
from jupyter_mlops.pipeline.promotion import promote, sanitize_name
from jupyter_mlops.pipeline.spec import Parameter, load_pipeline, load_spec

FIXTURES = Path(__file__).resolve().parents[1] / "notebooks"


def cell(source: str, kind: str = "code", tags: list[str] | None = None, **extra: Any) -> dict:
    c: dict[str, Any] = {"cell_type": kind, "metadata": {"tags": tags or []}, "source": source}
    if kind == "code":
        c |= {"outputs": [], "execution_count": None}
    return c | extra


def write_notebook(path: Path, cells: list[dict], kernel: str | None = "python3") -> Path:
    meta = {"kernelspec": {"name": kernel, "display_name": kernel}} if kernel else {}
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": meta, "cells": cells}
    path.write_text(json.dumps(nb))
    return path


def test_annotated_fixture_parameters() -> None:
    params = read_notebook_parameters(FIXTURES / "params_annotated.ipynb")
    assert params == [
        Parameter("learning_rate", "float", 0.1, "Learning rate of the optimiser"),
        Parameter("n_estimators", "int", 100, "number of trees"),
        Parameter("features", "list[str]", ["age", "income"], "columns to train on"),
        Parameter("class_weights", "dict[str, float]", {"yes": 2.0, "no": 1.0}, ""),
        Parameter("max_depth", "int | None", None, "None grows full trees"),
        Parameter("min_gain", "float | None", 0.0, ""),
        Parameter("model", "Literal['rf', 'gbm']", "rf", "which estimator"),
        Parameter("shape", "tuple[int, ...]", (3, 4), ""),
        Parameter("verbose", "bool", False, ""),
        Parameter("run_label", "str", "nightly", ""),
        Parameter("extra", "Any", None, ""),
    ]


def test_annotated_fixture_runs_as_python() -> None:
    # The fixture is meant for real papermill runs too; its code must at least execute.
    nb = read_notebook(FIXTURES / "params_annotated.ipynb")
    namespace: dict[str, Any] = {}
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            exec("".join(c["source"]), namespace)
    assert namespace["score"] == pytest.approx(10.0)


def test_parse_parameters_details() -> None:
    source = (
        "import os  # not a parameter\n"
        '"""docstring"""\n'
        "a = 1\n"
        "b: float = 2  # int literal widened by the annotation\n"
        "c: str = None\n"
        "d = -1.5e-3\n"
        "e = {\n"
        "    'x': [1, 2],\n"
        "}  # spans lines\n"
        "a = 'again'  # the later assignment wins\n"
    )
    params = {p.name: p for p in parse_parameters(source)}
    assert list(params) == ["b", "c", "d", "e", "a"]
    assert params["a"] == Parameter("a", "str", "again", "the later assignment wins")
    assert params["b"] == Parameter("b", "float", 2, "int literal widened by the annotation")
    assert params["c"].type == "str | None"
    assert params["d"].default == -1.5e-3
    assert params["e"] == Parameter("e", "dict[str, list[int]]", {"x": [1, 2]}, "spans lines")


@pytest.mark.parametrize(
    ("source", "needles"),
    [
        ("x: int\n", ["parameter 'x' has no default"]),
        ("n: int = 'ten'\n", ["default 'ten', which is not a int"]),
        ("def f(:\n", ["line 1", "cannot parse the parameters cell", "plain Python assignments"]),
    ],
)
def test_parse_parameters_errors(source: str, needles: list[str]) -> None:
    with pytest.raises(NotebookError) as info:
        parse_parameters(source, notebook="train.ipynb", cell_index=2)
    message = str(info.value)
    assert message.startswith("train.ipynb: the cell tagged 'parameters' (cell 3)")
    for needle in needles:
        assert needle in message
    assert info.value.cell_index == 2
    assert info.value.line is not None


def test_derived_and_multi_target_parameters() -> None:
    source = (
        "from pathlib import Path\n"
        "n: int = 100\n"
        "date = '2024-01-01'\n"
        "out_dir = f'runs/{date}'  # outputs\n"
        "n_test: int = int(n * 0.2)  # annotated, but derived: no declared type\n"
        "path = Path('data') / 'x.csv'\n"
        "a = b = 1\n"
        "lo, hi = 0.5, n * 2\n"
        "q, r = divmod(n, 7)\n"
        "cfg = {}\n"
        "cfg['k'] = 1  # not a parameter papermill could override\n"
        "first, *rest = [1, 2, 3]\n"
    )
    params = {p.name: p for p in parse_parameters(source)}
    assert list(params) == [
        "n", "date", "out_dir", "n_test", "path", "a", "b", "lo", "hi", "q", "r", "cfg",
    ]  # fmt: skip
    assert params["out_dir"] == Parameter("out_dir", help="outputs", expression="f'runs/{date}'")
    assert params["n_test"].expression == "int(n * 0.2)" and params["n_test"].derived
    assert params["path"].expression == "Path('data') / 'x.csv'"
    assert (params["a"].type, params["b"].type, params["b"].default) == ("int", "int", 1)
    assert (params["lo"].type, params["lo"].default) == ("float", 0.5)
    assert params["hi"].expression == "n * 2"
    assert (params["q"].expression, params["r"].expression) == (
        "divmod(n, 7)[0]",
        "divmod(n, 7)[1]",
    )
    assert not params["n"].derived and params["n"].expression is None


def test_type_comments_as_papermill_reads_them() -> None:
    source = "b = ['a']  # type: List[str] Nice list\nc = 1  # type: ignore\nd = 2  # type: int\n"
    params = {p.name: p for p in parse_parameters(source)}
    assert (params["b"].type, params["b"].help) == ("list[str]", "Nice list")
    assert (params["c"].type, params["c"].help) == ("int", "type: ignore")
    assert (params["d"].type, params["d"].help) == ("int", "")


def test_papermill_complex_parameters_cell_is_promoted(tmp_path: Path) -> None:
    nb = shutil.copy(FIXTURES / "params_derived.ipynb", tmp_path / "complex.ipynb")
    result = promote(nb, pipelines_dir=tmp_path / "pipelines")
    params = {p.name: p for p in result.spec.parameters}
    derived = [n for n, p in params.items() if p.derived]
    assert derived == ["d", "out_dir", "n_test", "path", "high"]
    assert params["d"].expression == "a == 3" and params["d"].help == "Not introspectable line"
    assert (params["a"].type, params["a"].default, params["a"].help) == (
        "float",
        2.25,
        "Variable a",
    )
    assert (params["b"].type, params["b"].help) == ("list[str]", "Nice list")
    assert (params["lo"].default, params["hi"].default, params["low"].default) == (0, 0, 0.5)
    assert any("derived parameter(s) d, out_dir, n_test, path, high" in m for m in result.messages)
    # Reviewable YAML: the expression, no type and no default; and it loads back the same.
    text = result.path.read_text()
    assert "- name: out_dir\n  expression: f'runs/{date}'\n  help: where outputs go\n" in text
    assert load_spec(result.path).parameters == result.spec.parameters
    # Re-promoting after turning a derived parameter into a literal reports the change.
    source = json.loads(nb.read_text())
    cell_src = "".join(source["cells"][1]["source"]).replace("int(n * 0.2)", "20")
    source["cells"][1]["source"] = cell_src
    nb.write_text(json.dumps(source))
    again = promote(nb, pipelines_dir=tmp_path / "pipelines")
    assert "parameter 'n_test': int(n * 0.2) (derived) -> int = 20" in again.changes


def test_kernel_metadata_missing_or_malformed(tmp_path: Path) -> None:
    bare = shutil.copy(FIXTURES / "no_kernelspec.ipynb", tmp_path / "bare.ipynb")
    result = promote(bare, pipelines_dir=tmp_path / "pipelines")
    assert result.spec.kernel == "python3"
    assert any("records no kernel" in m and "--kernel" in m for m in result.messages)
    nb = json.loads(Path(bare).read_text())
    nb["metadata"]["kernelspec"] = "python3"  # a hand-edited notebook
    Path(bare).write_text(json.dumps(nb))
    with pytest.raises(NotebookError) as info:
        promote(bare, pipelines_dir=tmp_path / "pipelines")
    message = str(info.value)
    assert message.startswith(f"'{bare}': metadata.kernelspec is 'python3'")
    assert '{"name": "python3"' in message and "\n" not in message
    assert promote(bare, kernel="python3", pipelines_dir=tmp_path / "p2").spec.kernel == "python3"


def test_unparsable_fixture_names_notebook_cell_line_and_fix() -> None:
    path = FIXTURES / "params_unparsable.ipynb"
    with pytest.raises(NotebookError) as info:
        read_notebook_parameters(path)
    message = str(info.value)
    assert str(path) in message and "(cell 1)" in message and "line 1" in message
    assert "move magics and other code to another cell" in message


def test_notebook_without_parameters_cell_promotes_with_hint(tmp_path: Path) -> None:
    nb = shutil.copy(FIXTURES / "params_none.ipynb", tmp_path / "explore.ipynb")
    result = promote(nb, pipelines_dir=tmp_path / "pipelines")
    assert result.spec.parameters == ()
    assert NO_PARAMETERS_HINT in result.messages
    assert "tag it 'parameters'" in NO_PARAMETERS_HINT


def test_read_notebook_errors(tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match="Notebook 'missing.ipynb' not found \\(looked at"):
        read_notebook("missing.ipynb")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(NotebookError, match="invalid JSON at line 1 column 2; open it in Jupyter"):
        read_notebook(bad)
    other = tmp_path / "other.ipynb"
    other.write_text('{"a": 1}')
    with pytest.raises(NotebookError, match="has no list of cells"):
        read_notebook(other)
    old = tmp_path / "old.ipynb"
    old.write_text('{"nbformat": 3, "cells": []}')
    with pytest.raises(NotebookError, match="nbformat 3; open and save it in Jupyter"):
        read_notebook(old)
    with pytest.raises(NotebookError, match="is a directory"):
        read_notebook(tmp_path)


def test_code_hash_ignores_outputs_markdown_metadata_and_whitespace(tmp_path: Path) -> None:
    base = [cell("# Title", "markdown"), cell("a = 1"), cell("print(a)")]
    h = notebook_code_hash(write_notebook(tmp_path / "a.ipynb", base))
    noisy = [
        cell("# Another title", "markdown"),
        cell("a = 1   \n\n", execution_count=7, outputs=[{"output_type": "stream", "text": "x"}]),
        cell(""),  # empty cells do not count
        cell(["print(", "a)"][0] + "a)", metadata={"collapsed": True}),
        cell("injected = 1", tags=["injected-parameters"]),  # papermill's cell
    ]
    assert notebook_code_hash(write_notebook(tmp_path / "b.ipynb", noisy)) == h
    changed = [cell("a = 2"), cell("print(a)")]
    assert notebook_code_hash(write_notebook(tmp_path / "c.ipynb", changed)) != h


def test_source_as_list_of_lines_hashes_like_a_string(tmp_path: Path) -> None:
    one = write_notebook(tmp_path / "one.ipynb", [cell("a = 1\nb = 2\n")])
    two = write_notebook(tmp_path / "two.ipynb", [cell(["a = 1\n", "b = 2\n"])])  # type: ignore[arg-type]
    assert notebook_code_hash(one) == notebook_code_hash(two)


def test_diff_cells() -> None:
    a, b, c, d, e = "abcde"
    assert diff_cells([a, b, c], [a, b, c]).unchanged
    diff = diff_cells([a, b, c, d], [a, e, c, d, b])
    assert diff.changed == (2,) and diff.added == (5,) and diff.removed == ()
    diff = diff_cells([a, b, c], [a, c])
    assert diff.removed == (2,) and not diff.changed and not diff.added
    assert diff.describe() == ["recorded code cell 2 removed"]


def test_promote_writes_reviewable_spec(tmp_path: Path) -> None:
    nb = shutil.copy(FIXTURES / "params_annotated.ipynb", tmp_path / "Train Model.ipynb")
    gates = tmp_path / "gates.yaml"
    gates.write_text("- {kind: metric, metric: accuracy, min: 0.8}\n")
    result = promote(
        nb, schedule="@daily", gates=gates, timeout="2h", retries=1, pipelines_dir="pipelines"
    )
    assert result.created and result.messages == () and result.changes == ()
    assert result.path == Path("pipelines/train-model.yaml")
    spec = load_pipeline("train-model")
    assert spec == result.spec
    assert spec.notebook == "../Train Model.ipynb"
    assert spec.notebook_path() == Path(nb).resolve()
    assert spec.kernel == "python3" and spec.schedule == "@daily" and spec.timeout == "2h"
    assert spec.retries == 1 and spec.gates[0].options == {"metric": "accuracy", "min": 0.8}
    assert spec.notebook_hash == notebook_code(read_notebook(nb)).hash
    assert len(spec.cell_hashes) == 3
    assert [p.name for p in spec.parameters][:2] == ["learning_rate", "n_estimators"]
    text = result.path.read_text()
    assert "# Pipeline spec written by `jupyter-mlops promote`" in text
    check_notebook_unchanged(spec)  # a fresh promote matches


def test_promote_kernel_from_metadata_or_argument(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "k.ipynb", [cell("a = 1")], kernel="ir")
    assert promote(nb, pipelines_dir=tmp_path).spec.kernel == "ir"
    assert promote(nb, kernel="py311", pipelines_dir=tmp_path).spec.kernel == "py311"
    bare = write_notebook(tmp_path / "bare.ipynb", [cell("a = 1")], kernel=None)
    assert promote(bare, pipelines_dir=tmp_path).spec.kernel == "python3"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"schedule": "0 25 * * *"}, "hour field has '25' out of range; allowed 0-23"),
        ({"timeout": "30x"}, "Invalid duration '30x'; use seconds or units"),
        ({"timeout": 0}, "Timeout must be more than zero"),
        ({"retries": -1}, "Retries must be a whole number >= 0"),
        ({"name": "my pipeline"}, "Invalid pipeline name 'my pipeline'"),
        ({"gates": [{"kind": "nope"}]}, "Gate #1 has unknown kind 'nope'"),
    ],
)
def test_promote_validation_errors(tmp_path: Path, kwargs: dict[str, Any], needle: str) -> None:
    nb = write_notebook(tmp_path / "t.ipynb", [cell("a = 1", tags=["parameters"])])
    with pytest.raises(ValidationError) as info:
        promote(nb, pipelines_dir=tmp_path / "p", **kwargs)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)  # one line
    assert not (tmp_path / "p").exists()  # nothing written


def test_promote_missing_notebook(tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match="Notebook 'nope.ipynb' not found"):
        promote("nope.ipynb")


def test_changed_notebook_is_refused_with_which_cells_and_fix(tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "train.ipynb",
        [cell("alpha = 0.5", tags=["parameters"]), cell("model = fit(alpha)"), cell("save()")],
    )
    spec = promote(nb, pipelines_dir="pipelines").spec
    write_notebook(
        nb,
        [cell("alpha = 0.5", tags=["parameters"]), cell("model = fit(alpha * 2)"), cell("save()")],
    )
    with pytest.raises(NotebookChangedError) as info:
        check_notebook_unchanged(load_spec("pipelines/train.yaml"))
    message = str(info.value)
    assert "Notebook 'train.ipynb' changed since pipeline 'train' was promoted" in message
    assert "code cell 2 changed (`model = fit(alpha * 2)`)" in message
    assert "jupyter-mlops promote train.ipynb --name train" in message
    assert "--allow-changed" in message
    assert info.value.changes == ["code cell 2 changed (`model = fit(alpha * 2)`)"]
    hand_written = type(spec)(name="x", notebook=str(nb))
    with pytest.raises(NotebookChangedError, match="records no code hash"):
        check_notebook_unchanged(hand_written)


def test_repromote_keeps_edited_settings_and_reports_changes(tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "train.ipynb", [cell("alpha = 0.5\nbeta = 1", tags=["parameters"]), cell("x")]
    )
    first = promote(nb, schedule="0 3 * * *", gates=[{"kind": "metric", "metric": "m", "max": 1}])
    assert first.created
    write_notebook(nb, [cell("alpha: float = 1\ngamma = 'g'", tags=["parameters"]), cell("x")])
    second = promote(nb, retries=3)
    assert not second.created
    assert second.spec.schedule == "0 3 * * *" and len(second.spec.gates) == 1
    assert second.spec.retries == 3 and second.spec.timeout == "1h"
    assert second.changes == (
        "notebook code: code cell 1 changed",
        "parameter 'gamma' added",
        "parameter 'beta' removed",
        "parameter 'alpha': float = 0.5 -> float = 1.0",
        "retries: 0 -> 3",
    )


def test_repromote_over_an_invalid_spec_replaces_it(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "t.ipynb", [cell("a = 1")])
    Path("pipelines").mkdir()
    Path("pipelines/t.yaml").write_text("name: [\n")
    result = promote(nb)
    assert result.created
    assert any("which was invalid" in m for m in result.messages)


def test_multiple_parameters_cells_use_the_first(tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "m.ipynb",
        [cell("a = 1", tags=["parameters"]), cell("b = 2", tags=["parameters"])],
    )
    result = promote(nb)
    assert [p.name for p in result.spec.parameters] == ["a"]
    assert any("2 cells are tagged 'parameters'" in m for m in result.messages)


@pytest.mark.parametrize(
    ("stem", "name"),
    [("Train Model", "train-model"), ("01_train", "01_train"), ("é!!", "pipeline"), ("a.b", "a.b")],
)
def test_sanitize_name(stem: str, name: str) -> None:
    assert sanitize_name(stem) == name
