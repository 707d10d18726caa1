"""``jupyter-mlops sweep --on dask://...`` on a real ``distributed.LocalCluster`` (2 worker
processes, started here on loopback), with real parameterised notebooks and the test's store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import EXIT_USAGE, main
from jupyter_mlops.pipeline import promote
from jupyter_mlops.store import open_store
from tests.conftest import PYTHON, python_env
from tests.processes import free_port, kill_if_running

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")  # in the dev extra: CI has it
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, host="127.0.0.1",
        scheduler_port=0, dashboard_address=None, silence_logs=40,
    )  # fmt: skip
    try:
        yield cluster.scheduler_address.replace("tcp://", "dask://")
    finally:
        cluster.close()


def _project(tmp_path: Path, notebook: str, gates: str | None = None) -> None:
    shutil.copy(NOTEBOOKS / f"{notebook}.ipynb", tmp_path / f"{notebook}.ipynb")
    if gates is not None:
        (tmp_path / "gates.yaml").write_text(gates)
    promote(tmp_path / f"{notebook}.ipynb", gates=tmp_path / "gates.yaml" if gates else None)


def test_a_dask_sweep_records_every_run_and_ranks_like_the_local_pool(
    tmp_path: Path, dask_address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(tmp_path, "train_ok", "- {kind: metric, metric: accuracy, min: 0.8}\n")
    grid = ["--grid", "C=0.001,1", "--grid", "noise=0.1,3"]
    argv = ["sweep", "train_ok", *grid, "--metric", "accuracy", "--maximize", "--json"]
    assert main([*argv, "--on", dask_address]) == 3  # some runs failed their gate
    on_dask = json.loads(capsys.readouterr().out)
    assert main([*argv, "--parallel", "2"]) == 3
    local = json.loads(capsys.readouterr().out)

    def ranked(out: dict) -> list[tuple]:  # type: ignore[type-arg]
        return [(r["params"], r["outcome"], r["value"]) for r in out["runs"]]

    assert ranked(on_dask) == ranked(local)
    assert {r["outcome"] for r in on_dask["runs"]} == {"passed", "gate_failed"}  # both kinds
    assert on_dask["counts"] == local["counts"] and on_dask["blessed"] is None
    assert {m.stage.value for m in open_store(tmp_path / ".mlops").list_models()} == {"candidate"}
    store = open_store(tmp_path / ".mlops")
    swept = [r for r in on_dask["runs"]]
    assert len({r["run_id"] for r in swept}) == 4
    for r in swept:
        run = mlops.get_run(r["run_id"])
        assert run.tags["sweep"] == on_dask["sweep"]  # grouped under the dask sweep's id
        assert run.params["C"] == float(r["params"]["C"])  # typed params
        assert run.metrics["accuracy"] == r["value"]
        gates = store.gate_results(run.id)
        assert [g.status.value for g in gates] == (
            ["pass"] if r["outcome"] == "passed" else ["fail"]
        )
    assert len(mlops.runs(experiment="train_ok")) == 8


def test_a_bad_address_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project(tmp_path, "train_ok")
    port = free_port()
    assert main(["sweep", "train_ok", "--grid", "C=1", "--on", f"dask://127.0.0.1:{port}"]) != 0
    err = capsys.readouterr().err.strip()
    assert f"Cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: " in err
    assert "dask scheduler" in err and "\n" not in err
    assert main(["sweep", "train_ok", "--grid", "C=1", "--on", "http://x:1"]) == EXIT_USAGE
    assert "Invalid --on 'http://x:1'" in capsys.readouterr().err
    assert mlops.runs().empty  # nothing ran


def _statuses(store: Path, executing: bool = False) -> dict[str, tuple[str, int | None]]:
    """run id -> (status, pid of the process that runs it); with ``executing``, only the runs
    whose notebook runs in its kernel (the injected first cell recorded the environment)."""
    if not (store / "mlops.db").exists():
        return {}
    con = sqlite3.connect(store / "mlops.db", timeout=30)
    sql = "SELECT id, status, pid FROM runs"
    try:
        rows = con.execute(sql + " WHERE environment_id IS NOT NULL" if executing else sql)
        return {i: (s, p) for i, s, p in rows}
    except sqlite3.OperationalError:  # tables not created yet
        return {}
    finally:
        con.close()


def _wait_running(store: Path, n: int) -> dict[str, tuple[str, int | None]]:
    """Once ``n`` runs execute their notebooks (waited for, not slept: a loaded machine starts
    kernels slowly)."""
    deadline = time.monotonic() + 240
    while sum(s == "running" for s, _ in _statuses(store, executing=True).values()) < n:
        assert time.monotonic() < deadline, f"{n} runs never started: {_statuses(store)}"
        time.sleep(0.2)
    return _statuses(store)


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


@pytest.mark.fixture_restarts_processes  # the cluster's nanny restarts the killed worker
def test_a_dead_worker_leaves_its_run_interrupted_and_the_sweep_says_so(
    tmp_path: Path, isolated_store: Path, dask_address: str
) -> None:
    _project(tmp_path, "hangs")
    cmd = [PYTHON, "-m", "jupyter_mlops", "sweep", "hangs", "--grid", "seconds=600,20",
           "--parallel", "2", "--on", dask_address, "--json"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=python_env(), stdout=subprocess.PIPE)
    try:
        running = _wait_running(isolated_store, 2)
        long_run = max(running, key=lambda rid: mlops.get_run(rid).params["seconds"])
        child = running[long_run][1]
        assert child is not None
        os.kill(_parent(child), signal.SIGKILL)  # the Dask worker running the 600 s run
        out, _ = proc.communicate(timeout=120)
    finally:
        kill_if_running(proc)
    assert proc.returncode == 130  # a run was interrupted
    runs = {r["params"]["seconds"]: r for r in json.loads(out)["runs"]}
    assert runs["600"]["status"] == "interrupted" and runs["600"]["run_id"] == long_run
    assert runs["20"]["status"] == "finished"
    assert {s for s, _ in _statuses(isolated_store).values()} == {"interrupted", "finished"}
    assert len(_statuses(isolated_store)) == 2  # the resubmitted task did not run it again


def test_ctrl_c_interrupts_the_runs_under_way_and_starts_no_more(
    tmp_path: Path, isolated_store: Path, dask_address: str
) -> None:
    _project(tmp_path, "hangs")
    cmd = [PYTHON, "-m", "jupyter_mlops", "sweep", "hangs", "--grid", "seconds=600,601,602",
           "--parallel", "2", "--on", dask_address, "--json"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=python_env(), stdout=subprocess.PIPE)
    try:
        _wait_running(isolated_store, 2)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        kill_if_running(proc)
    assert proc.returncode == 130
    statuses = [s for s, _ in _statuses(isolated_store).values()]
    assert statuses == ["interrupted", "interrupted"]  # the third never started
    reported = json.loads(out)
    assert reported["interrupted"] is True
    assert sorted(r["status"] for r in reported["runs"]) == [
        "interrupted", "interrupted", "not started"
    ]  # fmt: skip
