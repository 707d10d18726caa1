"""Real kernels: example notebooks end to end, and a kernel killed mid-cell."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import jupyter_mlops as mlops
from jupyter_mlops.entities import RunStatus
from jupyter_mlops.store import close_stores
from jupyter_mlops.tracking import reset_default_tracker

from .conftest import ROOT

pytestmark = pytest.mark.slow


def _execute(path: Path, cwd: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return nb


def _git_repo(path: Path) -> str:
    def git(*a: str) -> str:
        return subprocess.run(
            ["git", *a], cwd=path, check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x")
    return git("rev-parse", "HEAD")


def test_example_tracking_notebook_runs_end_to_end(tmp_path: Path) -> None:
    # Inside a git repo: the kernel's run must record the commit (MLflow's looks at argv[0]).
    head = _git_repo(tmp_path)
    nb = _execute(ROOT / "example_notebooks" / "01_track_experiments.ipynb", tmp_path)
    text = "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    assert "first run of this cell" in text
    assert "C 0.01 → 0.1" in text
    runs = mlops.runs(experiment="breast-cancer")
    assert len(runs) == 3
    assert (runs["status"] == "finished").all()
    assert sorted(runs["params.C"]) == [0.01, 0.1, 1.0]
    assert runs["metrics.roc_auc"].between(0.9, 1.0).all()
    latest = mlops.get_run(runs["id"].iloc[0])
    assert {d.name for d in latest.inputs} >= {"X_train", "y_train", "X_test", "y_test"}
    assert any(a.kind == "model" for a in latest.artifacts)
    assert latest.execution_count is not None
    deadline = time.monotonic() + 120  # the git probe runs in the background: a loaded machine
    while mlops.get_run(latest.id).git.commit is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert mlops.get_run(latest.id).git.commit == head


def test_kernel_killed_mid_cell_leaves_run_interrupted(tmp_path: Path) -> None:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=dict(os.environ))
    try:
        kc.execute_interactive("%load_ext jupyter_mlops", timeout=60)
        kc.execute("%%track -e killed\nlr = 0.3\nimport time\ntime.sleep(120)")
        deadline = time.monotonic() + 240
        mlops.default_tracker()  # reads never create the store, nor know an experiment early
        runs = mlops.runs(where="experiment == 'killed'")
        while runs.empty and time.monotonic() < deadline:
            time.sleep(0.1)
            runs = mlops.runs(where="experiment == 'killed'")
        assert not runs.empty and runs["status"].iloc[0] == "running"
        pid = km.provisioner.process.pid
        os.kill(pid, signal.SIGKILL)
        km.provisioner.process.wait(timeout=120)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    reset_default_tracker()
    close_stores()
    run = mlops.get_run(runs["id"].iloc[0])
    assert run.status is RunStatus.INTERRUPTED
