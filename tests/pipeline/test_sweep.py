"""``jupyter-mlops sweep``: one pipeline run per combination, grouped, ranked, on warm kernels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli import main
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.pool import KernelPool, shutdown
from jupyter_mlops.pipeline.sweep import combinations, parse_grid

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_grid_and_random_combinations() -> None:
    grid = parse_grid(["C=0.01,0.1,1", "penalty=l1,l2"])
    every = combinations(grid)
    assert len(every) == 6 and every[0] == {"C": "0.01", "penalty": "l1"}
    assert every[-1] == {"C": "1", "penalty": "l2"}
    drawn = combinations(grid, 3, seed=7)
    assert len(drawn) == 3 and all(d in every for d in drawn)
    assert drawn == combinations(grid, 3, seed=7)  # the seed fixes the draw
    assert len(combinations(grid, 50, seed=1)) == 6
    with pytest.raises(ValidationError, match="Invalid --grid 'C'"):
        parse_grid(["C"])


def test_sweep_runs_each_combination_as_a_ranked_pipeline_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    promote(tmp_path / "train_ok.ipynb")
    argv = ["sweep", "train_ok", "--grid", "C=0.001,1", "--grid", "noise=0.1,2"]
    assert main([*argv, "--parallel", "2", "--metric", "accuracy", "--maximize", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    runs = out["runs"]
    assert len(runs) == 4 and {r["outcome"] for r in runs} <= {"passed", "gate_failed"}
    values = [r["value"] for r in runs]
    assert values == sorted(values, reverse=True)  # ranked, best first
    frame = mlops.runs(experiment="train_ok")
    assert len(frame) == 4
    for r in runs:
        run = mlops.get_run(r["run_id"])
        assert run.tags["sweep"] == out["sweep"]  # grouped under one sweep id
        assert run.params["C"] == float(r["params"]["C"])  # typed params
        assert run.metrics["accuracy"] == r["value"]


def test_a_bad_value_stops_the_sweep_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    promote(tmp_path / "train_ok.ipynb")
    assert main(["sweep", "train_ok", "--grid", "C=1,abc"]) != 0
    err = capsys.readouterr().err.strip()
    assert "abc" in err and "\n" not in err


def test_a_pool_kernel_has_run_no_code_and_ports_differ(tmp_path: Path) -> None:
    pool = KernelPool("python3", tmp_path, 2)
    try:
        a, b = pool.take(), pool.take()
        try:
            ports = [(k.shell_port, k.iopub_port, k.stdin_port, k.hb_port, k.control_port)
                     for k in (a, b)]  # fmt: skip
            assert not set(ports[0]) & set(ports[1])
            client = a.blocking_client()
            client.start_channels()
            try:
                reply = client.execute_interactive("print(len(In))", timeout=60)
                assert reply["content"]["execution_count"] == 1  # nothing ran before
            finally:
                client.stop_channels()
        finally:
            shutdown(a)
            shutdown(b)
    finally:
        pool.close()


def test_ctrl_c_marks_the_run_under_way_interrupted_and_starts_no_more(
    tmp_path: Path, isolated_store: Path
) -> None:
    import signal
    import sqlite3
    import subprocess
    import time

    from tests.conftest import PYTHON, python_env

    shutil.copy(NOTEBOOKS / "hangs.ipynb", tmp_path / "hangs.ipynb")
    promote(tmp_path / "hangs.ipynb")
    cmd = [PYTHON, "-m", "jupyter_mlops", "sweep", "hangs", "--grid", "seconds=600,601,602"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=python_env(), stderr=subprocess.PIPE)

    def statuses() -> list[str]:
        if not (isolated_store / "mlops.db").exists():
            return []
        con = sqlite3.connect(isolated_store / "mlops.db", timeout=30)
        try:
            return [s for (s,) in con.execute("SELECT status FROM runs")]
        except sqlite3.OperationalError:  # tables not created yet
            return []
        finally:
            con.close()

    try:
        deadline = time.monotonic() + 120
        while statuses() != ["running"]:
            assert time.monotonic() < deadline, "the first run never started"
            time.sleep(0.2)
        time.sleep(1.0)  # into the cell
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert statuses() == ["interrupted"]  # the other two never started
