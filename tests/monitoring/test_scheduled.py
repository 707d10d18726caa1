"""The monitor driven by a real scheduler process: a scheduled pipeline whose notebook evaluates
the monitor at the scheduler's (pinned) clock; the drift it finds makes it retrain the model
through that model's own gated pipeline."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.runner import run_pipeline
from jupyter_mlops.schedule.scheduler import NOW_ENV, parse_now
from tests.conftest import ROOT, python_env

from .test_end_to_end import GATES, MONITOR, serve

pytestmark = pytest.mark.slow
DAY0 = "2026-11-23T00:00:00Z"
T = parse_now(DAY0).timestamp()


def scheduler(now: str) -> subprocess.CompletedProcess[str]:
    env = python_env() | {NOW_ENV: now}
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops", "scheduler", "--once"],
        capture_output=True, text=True, env=env, timeout=400,
    )  # fmt: skip


def test_scheduler_process_runs_the_monitor_which_retrains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from . import test_end_to_end

    monkeypatch.setattr(test_end_to_end, "T0", T)  # serve() puts day d's traffic at T + d days
    shutil.copy(ROOT / "tests" / "notebooks" / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    name = promote(tmp_path / "train_ok.ipynb", gates=GATES, timeout="5m").spec.name
    assert run_pipeline(name, progress=False, seed=1).blessed
    (tmp_path / "monitors").mkdir()
    (tmp_path / "monitors" / f"{name}.yaml").write_text(MONITOR.format(name=name))
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"model = {name!r}", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import os\n"
            "from jupyter_mlops.monitoring import evaluate\n"
            "from jupyter_mlops.schedule.scheduler import parse_now\n"
            "# the scheduler's clock, pinned for the test, is the evaluation's\n"
            "ev = evaluate(model, now=parse_now(os.environ['JUPYTER_MLOPS_NOW']).timestamp())\n"
            "print('actions', [(a['action'], a['status']) for a in ev.actions])\n"
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, tmp_path / "monitor_job.ipynb")
    promote(tmp_path / "monitor_job.ipynb", schedule="0 0 * * *", timeout="10m")

    first = scheduler(DAY0)  # first sight: counting starts now
    assert first.returncode == 0, first.stderr
    for day in range(5):
        serve(name, day, shift=1.5 if day == 4 else 0.0)
    fired = scheduler("2026-11-28T00:00:30Z")  # midnight after day 4 (the drifted day)
    assert fired.returncode == 0, fired.stderr + fired.stdout
    store = mlops.default_tracker().store
    actions = [e for e in store.monitor_events(name) if e.kind == "action"]
    assert len(actions) == 1, fired.stdout
    (retrain,) = actions
    assert retrain.status == "done" and retrain.detail["action"] == "retrain"
    assert retrain.time == parse_now("2026-11-28T00:00:30Z").timestamp()  # the pinned clock
    run = store.get_run(retrain.detail["run_id"])
    assert run.tags["trigger"].startswith(f"monitor {name}: drift:drift")
    assert [g.status.value for g in store.gate_results(run.id)] == ["pass", "pass"]
    assert store.get_model(name).run_id == run.id
    jobs = [e for e in store.schedule_log("monitor_job") if e.outcome not in ("missed",)]
    assert jobs and jobs[0].run_id is not None
