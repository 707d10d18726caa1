"""What the gradient-boosting tests share: the breast-cancer split, reading a run's curves and
tables, and loading a registered model in a fresh process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
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


def predict_fresh(name: str, method: str = "predict") -> tuple[str, np.ndarray]:
    """Model ``name`` (version 1) loaded WITHOUT trust in a fresh interpreter: its class
    name, and its ``method`` on the test rows (``predict`` as ``mlops.predict`` calls it)."""
    code = f"""
import json, sys
import jupyter_mlops as mlops
from sklearn.datasets import load_breast_cancer
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
model = mlops.load_model({name!r}, 1)
print(type(model).__name__)
if {method!r} == "predict":  # what mlops.predict calls: the flavor's conversion
    from jupyter_mlops import frameworks
    out = frameworks.predict(model, X[400:])
else:
    out = getattr(model, {method!r})(X[400:])
print(json.dumps(out.tolist()))
"""
    kind, values = run_fresh(code).strip().splitlines()[-2:]
    return kind, np.asarray(json.loads(values))


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
    "predict_fresh",
    "register",
    "rows_by_feature",
    "run_notebook",
    "table",
]
