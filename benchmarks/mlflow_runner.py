"""MLflow in its own venv (it is not a dependency of ours): made once, with the same XGBoost,
torch and Lightning as our venv, so that both sides train the same way.

The venv lives in ``benchmarks/.venvs/mlflow`` (git-ignored); ``mlflow_side.py`` runs there and
hands its timings back as JSON. When the venv cannot be made (no network, no wheel),
:func:`mlflow_python` says why in one line and the benchmark goes on without MLflow's rows.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from peer_venv import PeerVenv

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venvs" / "mlflow"
SIDE = HERE / "mlflow_side.py"
FRAMEWORKS = ("xgboost", "torch", "lightning")
_PEER: PeerVenv | None = None  # made once, on first use


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
    global _PEER
    if _PEER is None:
        _PEER = PeerVenv(
            VENV, "MLflow", _requirements(), "import mlflow, xgboost, torch, lightning"
        )
    return _PEER.python()


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
