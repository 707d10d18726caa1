"""What the gradient-boosting tests share: the breast-cancer split, reading a run's curves and
tables, and loading a registered model in a fresh process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

import jupyter_mlops as mlops
from jupyter_mlops.entities import Run
from jupyter_mlops.model_format import format_of
from jupyter_mlops.registry import ModelRegistry

from ..conftest import ROOT, run_fresh

NOTEBOOKS = ROOT / "example_notebooks" / "frameworks"

# The cell every test runs first (as a notebook would): data, no tracking.
SETUP = """
from sklearn.datasets import load_breast_cancer
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, y_train, X_test, y_test = X[:400], y[:400], X[400:], y[400:]
"""


def latest_run() -> Run:
    return mlops.get_run(mlops.runs()["id"].iloc[0])


def curve(run_id: str, key: str) -> list[float]:
    """The stepped metric ``key``, step 0 first; its steps must be 0..n-1."""
    h = mlops.metric_history(run_id, key).sort_values("step")
    assert list(h["step"]) == list(range(len(h))), f"{key} steps {list(h['step'])}"
    return [float(v) for v in h["value"]]


def curve_keys(run_id: str) -> set[str]:
    return set(mlops.metric_history(run_id)["key"])


def artifact_bytes(run: Run, name: str) -> bytes:
    art = next(a for a in run.artifacts if a.name == name)
    return mlops.default_tracker().store.artifacts.read_bytes(art.uri, art.sha256)


def table(run: Run, name: str) -> dict[str, Any]:
    art = next(a for a in run.artifacts if a.name == name)
    assert art.kind == "table"
    return json.loads(artifact_bytes(run, name))  # type: ignore[no-any-return]


def register(run: Run, artifact: str, name: str) -> bytes:
    """Register ``artifact`` of ``run`` as model ``name``; its stored bytes."""
    ModelRegistry().register(name, run, artifact)
    return artifact_bytes(run, artifact)


def load_fresh(names: list[str]) -> dict[str, tuple[str, dict[str, list[Any]]]]:
    """Models ``names`` (version 1 of each) loaded WITHOUT trust in one fresh interpreter:
    for each, its class name and its predictions on the test rows: ``predict`` as
    ``mlops.predict`` calls it (the flavor's conversion), and ``predict_proba`` if it has one."""
    code = f"""
import json
import jupyter_mlops as mlops
from jupyter_mlops import frameworks
from sklearn.datasets import load_breast_cancer
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
out = {{}}
for name in {names!r}:
    model = mlops.load_model(name, 1)
    pred = {{"predict": frameworks.predict(model, X[400:]).tolist()}}
    if hasattr(model, "predict_proba"):
        pred["predict_proba"] = model.predict_proba(X[400:]).tolist()
    out[name] = (type(model).__name__, pred)
print(json.dumps(out))
"""
    loaded: dict[str, tuple[str, dict[str, list[Any]]]] = json.loads(
        run_fresh(code).strip().splitlines()[-1]
    )
    return loaded


def run_notebook(path: Path, cwd: Path) -> nbformat.NotebookNode:
    """``path`` executed top to bottom in a real kernel (this environment's, with the
    test's store), in ``cwd``."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return nb


def rows_by_feature(t: dict[str, Any]) -> dict[str, list[Any]]:
    return {r[0]: r[1:] for r in t["rows"]}


__all__ = [
    "NOTEBOOKS",
    "SETUP",
    "artifact_bytes",
    "curve",
    "curve_keys",
    "format_of",
    "latest_run",
    "load_fresh",
    "register",
    "rows_by_feature",
    "run_notebook",
    "table",
]
