"""MLflow in its own venv (it is not a dependency of ours): made once, with the same XGBoost,
torch and Lightning as our venv, so that both sides train the same way.

The venv lives in ``benchmarks/.venvs/mlflow`` (git-ignored); ``mlflow_side.py`` runs there and
hands its timings back as JSON. When the venv cannot be made (no network, no wheel),
:func:`mlflow_python` says why in one line and the benchmark goes on without MLflow's rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venvs" / "mlflow"
SIDE = HERE / "mlflow_side.py"
FRAMEWORKS = ("xgboost", "torch", "lightning")
_WHY_NOT: list[str] = []  # the reason, once, when the venv could not be made


def _requirements() -> list[str]:
    """mlflow, and our venv's versions of the frameworks the cells train with (torch's local
    version, ``+cpu``, dropped: pip finds the CPU build by its find-links)."""
    pins = []
    for name in FRAMEWORKS:
        try:
            pins.append(f"{name}=={version(name).split('+')[0]}")
        except PackageNotFoundError:
            pins.append(name)
    return ["mlflow", *pins]


def mlflow_python() -> Path | None:
    """The venv's interpreter, making the venv on first use; ``None`` (and a printed reason)
    when that fails."""
    python = VENV / "bin" / "python"
    if _WHY_NOT:
        return None
    if python.exists() and _imports(python):
        return python
    print(f"making MLflow's venv in {VENV} (once) ...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(VENV)],
        [str(python), "-m", "pip", "install", "-q", *_requirements()],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            _WHY_NOT.append(f"MLflow not run: {' '.join(step[2:4])} failed ({last[:120]})")
            print(_WHY_NOT[0])
            return None
    return python if _imports(python) else None


def _imports(python: Path) -> bool:
    code = "import mlflow, xgboost, torch, lightning"
    return subprocess.run([str(python), "-c", code], capture_output=True).returncode == 0


def run_mlflow_side(
    cases: list[dict[str, Any]], variants: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """MLflow's timings of ``cases`` (each ``{"key", "setup", "cell", "pairs"}``) under each
    autolog variant, or None (and a printed reason) when MLflow could not run."""
    python = mlflow_python()
    if python is None:
        return None
    with tempfile.TemporaryDirectory(prefix="mlflow-bench-") as tmp:
        spec = {
            "cases": cases,
            "variants": variants,
            "tracking_uri": f"sqlite:///{Path(tmp) / 'mlflow.db'}",
        }
        (Path(tmp) / "spec.json").write_text(json.dumps(spec))
        out = Path(tmp) / "out.json"
        done = subprocess.run(
            [str(python), str(SIDE), str(Path(tmp) / "spec.json"), str(out)],
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"MLflow's side failed: {last[:200]}")
            return None
        found: dict[str, Any] = json.loads(out.read_text())
        return found
