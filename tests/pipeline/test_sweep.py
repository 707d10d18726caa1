"""``jupyter-mlops sweep``: one pipeline run per combination, grouped, ranked, on warm kernels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.pool import KernelPool, shutdown
from jupyter_mlops.pipeline.sweep import combinations, parse_grid
from tests.notebook_files import write_python_notebook
from tests.processes import kill_if_running

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
            client.start_channels(hb=False)  # a heartbeat thread can outlive stop_channels()
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
        kill_if_running(proc)
    assert statuses() == ["interrupted"]  # the other two never started


# -- exit code, blessing and killed kernels -----------------------------------------------------


def _score_notebook(tmp_path: Path, name: str = "score") -> str:
    """A pipeline whose metric ``score`` is its parameter C; C < 0 fails its cell; gate: C >= 4."""
    write_python_notebook(
        tmp_path / f"{name}.ipynb",
        "import jupyter_mlops as mlops\n"
        "if C < 0:\n"
        "    raise ValueError(f'negative C {C}')\n"
        "mlops.log_metric('score', C)\n"
        "mlops.log_model({'C': C})",
        parameters="C: float = 1.0",
    )
    gates = [{"kind": "metric", "metric": "score", "min": 4}]
    return promote(tmp_path / f"{name}.ipynb", gates=gates, timeout="5m").spec.name


def _last_json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_a_sweep_exits_by_its_gates_and_blesses_only_the_best_with_bless_best(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = _score_notebook(tmp_path)
    store = mlops.default_tracker().store
    assert main(["run", name, "-p", "C=5", "--json"]) == 0  # blessed: the user's version
    by_hand = store.get_model(name)
    capsys.readouterr()

    # 3 of 4 runs fail their gate: exit 3, a summary line, the user's version still blessed.
    assert main(["sweep", name, "--grid", "C=1,2,3,4", "--metric", "score"]) == 3
    out = capsys.readouterr().out.strip().splitlines()
    sweep_id = out[0].split()[1]
    assert out[-1] == f"sweep {sweep_id}: 4 runs: 1 passed, 3 gate failed"
    assert store.get_model(name).version == by_hand.version
    swept = [m for m in store.list_models(name) if m.version != by_hand.version]
    assert len(swept) == 4 and {m.stage.value for m in swept} == {"candidate"}

    # --bless-best: the best passing run's model, by the sweep's metric.
    argv = ["sweep", name, "--grid", "C=4,6,7", "--metric", "score", "--maximize"]
    assert main([*argv, "--bless-best", "--json"]) == 0
    res = _last_json(capsys)
    assert res["exit_code"] == 0 and res["counts"] == {"passed": 3}
    best = res["runs"][0]
    assert best["params"] == {"C": "7"} and res["blessed"] == store.get_model(name).ref
    assert store.get_model(name).run_id == best["run_id"]

    # After a rollback the model is pinned: --bless-best blesses nothing, and says why.
    assert main(["models", "rollback", name, "--reason", "sweep pick was bad"]) == 0
    blessed = store.get_model(name)
    capsys.readouterr()
    assert (
        main(["sweep", name, "--grid", "C=8", "--metric", "score", "--bless-best", "--json"]) == 0
    )
    res = _last_json(capsys)
    assert res["blessed"] is None
    assert f"pinned by rollback at v{blessed.version}; not blessed" in res["held"]
    assert store.get_model(name).version == blessed.version

    capsys.readouterr()
    # --bless-best without a ranking is a usage error, before any run.
    assert main(["sweep", name, "--grid", "C=8", "--bless-best"]) == 2
    assert "--bless-best needs --metric" in capsys.readouterr().err
    assert len(store.list_models(name)) == 9


@pytest.mark.slow
def test_a_failing_cell_fails_its_run_and_the_sweep_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = _score_notebook(tmp_path)
    assert main(["sweep", name, "--grid", "C=-1,1,5", "--json"]) == 1  # execution beats gates
    res = _last_json(capsys)
    assert res["counts"] == {"passed": 1, "gate_failed": 1, "failed": 1}
    failed = next(r for r in res["runs"] if r["outcome"] == "failed")
    run = mlops.get_run(failed["run_id"])
    assert run.status.value == "failed" and "ValueError: negative C -1" in run.error
    assert res["blessed"] is None
    assert not [
        m for m in mlops.default_tracker().store.list_models() if m.stage.value == "blessed"
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    "warm, signum", [(True, "SIGKILL"), (False, "SIGTERM")], ids=["forked-kill", "cold-term"]
)
def test_a_kernel_killed_mid_sweep_is_interrupted_and_the_sweep_goes_on(
    tmp_path: Path, warm: bool, signum: str
) -> None:
    import os
    import signal
    import threading
    import time

    from jupyter_mlops.pipeline.spec import load_pipeline
    from jupyter_mlops.pipeline.sweep import run_sweep

    write_python_notebook(
        tmp_path / "sleeps.ipynb",
        "import os, pathlib, time\n"
        "pathlib.Path(f'kernel-{seconds:g}.pid').write_text(str(os.getpid()))\n"
        "time.sleep(seconds)",
        parameters="seconds: float = 0",
    )
    promote(tmp_path / "sleeps.ipynb", timeout="10m")
    spec = load_pipeline("sleeps")
    result: list[object] = []
    t = threading.Thread(
        target=lambda: result.append(
            run_sweep(spec, [{"seconds": "600"}, {"seconds": "0"}], progress=False, warm=warm)
        )
    )
    t.start()
    pid_file = tmp_path / "kernel-600.pid"
    try:
        deadline = time.monotonic() + 120
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and t.is_alive(), "the first run never started"
            time.sleep(0.1)
        os.kill(int(pid_file.read_text()), getattr(signal, signum))
    finally:
        t.join(timeout=180)
    assert not t.is_alive()
    (sweep,) = result
    killed, after = sweep.runs  # type: ignore[attr-defined]
    assert (killed.status, killed.outcome) == ("interrupted", "interrupted")
    error = mlops.get_run(killed.run_id).error
    assert f"killed by {signum}" in error and "\n" not in error.strip()
    assert (after.status, after.outcome) == ("finished", "passed")  # the sweep went on
    assert sweep.exit_code == 130 and not sweep.interrupted  # type: ignore[attr-defined]
