"""The issue's proof, end to end on real kernels: a pipeline-trained model is blessed, daily
production batches go through mlops.predict with drift injected on day 5, the monitor (run as its
own `jupyter-mlops monitor --evaluate` process) fires `retrain` and the pipeline runs with its
gates; a degraded model blessed by hand is rolled back by the `rollback` action on labelled
batches; every step shows in `runs`, `models show` and the monitor report. The clock is injected
(batch times and `--now`); evaluations are driven directly, not by the scheduler's clock."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.monitoring import evaluate
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.runner import run_pipeline
from jupyter_mlops.registry import ModelRegistry
from tests.conftest import ROOT, python_env

from .helpers import DAY, T0

pytestmark = pytest.mark.slow
NOTEBOOKS = ROOT / "tests" / "notebooks"
GATES = [
    {"kind": "metric", "metric": "accuracy", "min": 0.8},
    {"kind": "no_regression", "metric": "accuracy", "abs_tolerance": 0.02},
]
MONITOR = """\
pipeline: {name}
window: daily
cooldown: 1d
checks:
  - {{kind: drift, max_share: 0.0, action: retrain}}
  - {{kind: performance, metric: accuracy, min: 0.8, min_labels: 100, action: rollback}}
"""


def production(day: int, n: int = 300, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(1000 + day)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    X["a"] += shift
    return X


def serve(name: str, day: int, shift: float = 0.0) -> None:
    """One day of traffic at noon, its labels arriving the same evening."""
    X = production(day, shift=shift)
    ids = [f"{day}-{i}" for i in range(len(X))]
    y = mlops.predict(name, X, ids=ids, now=T0 + day * DAY + DAY / 2)
    assert len(y) == len(X)
    mlops.log_labels(name, ids, (X["a"] + X["b"] > 0).astype(int), now=T0 + day * DAY + 0.8 * DAY)


def test_drift_retrains_and_a_degraded_model_is_rolled_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    name = promote(tmp_path / "train_ok.ipynb", gates=GATES, timeout="5m").spec.name
    first = run_pipeline(name, progress=False, seed=1)
    assert first.blessed
    (tmp_path / "monitors").mkdir()
    (tmp_path / "monitors" / f"{name}.yaml").write_text(MONITOR.format(name=name))
    store = mlops.default_tracker().store

    for day in range(5):  # a quiet week: no breach, no action
        serve(name, day)
        ev = evaluate(name, now=T0 + (day + 1) * DAY)
        assert not ev.breached and not ev.actions, [c.to_dict() for c in ev.checks]

    serve(name, 5, shift=1.5)  # day 5: the inputs drift
    monitor = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops", "monitor", name, "--evaluate", "--json",
         "--now", str(T0 + 6 * DAY)],
        capture_output=True, text=True, env=python_env(), timeout=300,
    )  # fmt: skip
    assert monitor.returncode == 0, monitor.stderr
    events = json.loads(monitor.stdout)["events"]
    (retrain,) = [e for e in events if e["kind"] == "action"]
    assert retrain["status"] == "done" and retrain["detail"]["action"] == "retrain"
    assert "drift:drift 0.333 breaches share drifted <= 0" in retrain["detail"]["reason"]
    run = store.get_run(retrain["detail"]["run_id"])
    assert run.kind.value == "pipeline" and run.tags["trigger"].startswith(f"monitor {name}: ")
    gates = store.gate_results(run.id)
    assert [g.status.value for g in gates] == ["pass", "pass"]  # the gates decided
    second = store.get_model(name)
    assert second.version == 2 and second.run_id == run.id  # the retrained model is blessed

    # A human blesses a worse candidate (trained on labels drowned in noise): the labelled
    # batches of the next day show it, and the monitor rolls it back.
    bad = run_pipeline(name, {"noise": "30"}, progress=False, seed=1)
    assert not bad.blessed  # its gates kept it a candidate ...
    # ... and someone blessed it anyway, overriding its failed gates
    ModelRegistry().bless(bad.model.ref, reason="hotfix", override_gates=True)
    serve(name, 7)
    ev = evaluate(name, now=T0 + 8 * DAY)
    perf = next(c for c in ev.checks if c.kind == "performance")
    assert perf.breached and perf.value is not None and perf.value < 0.8
    (rollback,) = ev.actions
    assert (rollback["action"], rollback["status"]) == ("rollback", "done")
    assert (rollback["from"], rollback["to"]) == (bad.model.version, 2)
    assert store.get_model(name).version == 2

    # Visible everywhere: runs, models show, the monitor report.
    assert main(["runs", "--json"]) == 0
    ids = {r["id"] for r in json.loads(capsys.readouterr().out)["runs"]}
    assert {first.run.id, run.id, bad.run.id} <= ids
    assert main(["models", "show", name]) == 0
    shown = capsys.readouterr().out
    assert f"rollback  {name}@2" in shown and f"monitor {name}: performance:accuracy" in shown
    assert "monitor actions:\n  done      retrain: drift:drift 0.333" in shown
    assert main(["monitor", name, "--now", str(T0 + 8 * DAY)]) == 0
    report = capsys.readouterr().out
    assert "retrain: " in report and f"-> run {run.id[:8]} finished, model blessed" in report
    assert "rollback: performance:accuracy" in report and "@3 archived, @2 blessed" in report
    assert "evaluations: 7, breaches: 2" in report
