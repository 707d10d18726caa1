"""``jupyter-mlops export airflow``: the DAG file parses and keeps schedule, time zone, timeout,
retries and parameters, checked with ``ast``; test_airflow_real.py runs it in real Airflow."""

from __future__ import annotations

import ast
import contextlib
import shutil
from pathlib import Path

import pytest

from jupyter_mlops.cli.app import EXIT_USAGE, main
from jupyter_mlops.pipeline import promote

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _constants(tree: ast.Module) -> dict[str, object]:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            with contextlib.suppress(ValueError):
                out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def test_export_airflow_writes_a_dag_keeping_the_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    promote(
        tmp_path / "train_ok.ipynb", schedule="30 2 * * *", timezone="Europe/Berlin",
        timeout="10m", retries=2,
    )  # fmt: skip
    assert main(["export", "airflow", "train_ok", "-o", "dags"]) == 0
    assert "dags/jupyter_mlops_train_ok.py" in capsys.readouterr().out
    tree = ast.parse((tmp_path / "dags" / "jupyter_mlops_train_ok.py").read_text())
    c = _constants(tree)
    assert c["PIPELINE"] == "train_ok" and c["PROJECT"] == str(tmp_path.resolve())
    assert c["STORE"] == str((tmp_path / ".mlops").resolve())  # the store export used
    folders = c["FOLDERS"]  # and its project's folders
    assert folders["JUPYTER_MLOPS_PIPELINES_DIR"] == str(tmp_path / "pipelines")
    assert (c["SCHEDULE"], c["TIMEZONE"]) == ("30 2 * * *", "Europe/Berlin")
    assert (c["TIMEOUT_S"], c["RETRIES"]) == (600.0, 2)
    assert c["PARAMS"] == {"C": 1.0, "n_rows": 400, "features": ["a", "b", "c"], "noise": 0.1}
    dag = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "")
               == "DAG")  # fmt: skip
    kwargs = {k.arg: k.value for k in dag.keywords}
    assert ast.unparse(kwargs["schedule"]) == "SCHEDULE" and "params" in kwargs
    assert "tz=TIMEZONE" in ast.unparse(kwargs["start_date"])
    calls = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert "run(PIPELINE, raw, progress=False)" in calls  # the same runner as `run`


def test_export_of_an_unknown_pipeline_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "airflow", "nope"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert "nope" in err and "\n" not in err
