"""Forked kernels (pipeline/zygote.py): fresh, reseeded, killable, and no process left behind."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import psutil
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.pool import KernelPool, shutdown
from jupyter_mlops.pipeline.spec import load_pipeline
from jupyter_mlops.pipeline.sweep import run_sweep
from jupyter_mlops.pipeline.zygote import SWITCH_ENV, WARM_IMPORTS, enabled

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
pytestmark = pytest.mark.skipif(not enabled(), reason="forked kernels are Linux-only")


def _run(km: object, code: str) -> tuple[int, str]:
    client = km.blocking_client()  # type: ignore[attr-defined]
    client.start_channels(hb=False)  # a heartbeat thread can outlive stop_channels()
    out: list[str] = []
    try:
        reply = client.execute_interactive(
            code, timeout=240, output_hook=lambda m: out.append(m["content"].get("text", ""))
        )
    finally:
        client.stop_channels()
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply["content"]["execution_count"], "".join(out).strip()


def test_a_forked_kernel_has_run_no_code_and_has_only_the_warm_imports(tmp_path: Path) -> None:
    pool = KernelPool("python3", tmp_path, 2)
    try:
        assert pool.zygote is not None
        a, b = pool.take(), pool.take()
        try:
            for km in (a, b):
                assert psutil.Process(km.provisioner.pid).ppid() == pool.zygote.proc.pid
            # User code in one kernel leaves nothing in the next.
            _run(a, "import wave, random; random.seed(1); x = 41")
            count, out = _run(
                b,
                "import sys, os; print(len(In), 'wave' in sys.modules, 'x' in dir(), "
                f"all(m in sys.modules for m in {list(WARM_IMPORTS)!r}), os.getcwd())",
            )
            assert count == 1  # nothing ran before
            assert out == f"2 False False True {tmp_path}"  # In: [''] and this cell
        finally:
            shutdown(a)
            shutdown(b)
    finally:
        pool.close()


def test_each_forked_kernel_draws_its_own_random_numbers(tmp_path: Path) -> None:
    pool = KernelPool("python3", tmp_path, 2)
    try:
        assert pool.zygote is not None
        kms = [pool.take(), pool.take()]
        try:
            code = "import random, numpy as np; print(random.random(), np.random.rand())"
            draws = [_run(km, code)[1].split() for km in kms]
            assert draws[0][0] != draws[1][0] and draws[0][1] != draws[1][1]
        finally:
            for km in kms:
                shutdown(km)
    finally:
        pool.close()


def test_the_switch_turns_forking_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SWITCH_ENV, "0")
    pool = KernelPool("python3", tmp_path, 1)
    try:
        assert pool.zygote is None
        km = pool.take()
        try:
            assert psutil.Process(km.provisioner.pid).ppid() == psutil.Process().pid
        finally:
            shutdown(km)
    finally:
        pool.close()


def _descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def _cmdline(p: psutil.Process) -> str:
    """A process's command line; '' for one that is a zombie or already gone (a killed kernel
    is one until its parent reaps it, which a loaded machine makes easy to catch)."""
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""


def test_a_killed_forked_kernel_interrupts_its_run_and_nothing_is_left(
    tmp_path: Path, isolated_store: Path
) -> None:
    shutil.copy(NOTEBOOKS / "hangs.ipynb", tmp_path / "hangs.ipynb")
    promote(tmp_path / "hangs.ipynb")
    spec = load_pipeline("hangs")
    before = _descendants()
    result: list[object] = []
    t = threading.Thread(
        target=lambda: result.append(
            run_sweep(spec, [{"seconds": "600"}], parallel=1, progress=False)
        )
    )
    t.start()

    def executing() -> bool:
        """The run's kernel has run the injected first cell (which records the environment),
        so the kernel is the run's, past its start, in the notebook's cells."""
        if not (isolated_store / "mlops.db").exists():
            return False
        con = sqlite3.connect(isolated_store / "mlops.db", timeout=30)
        try:
            rows = con.execute("SELECT status, environment_id FROM runs").fetchall()
        except sqlite3.OperationalError:
            return False
        finally:
            con.close()
        return len(rows) == 1 and rows[0][0] == "running" and rows[0][1] is not None

    try:
        deadline = time.monotonic() + 240
        while not executing():
            assert time.monotonic() < deadline and t.is_alive(), "the run never started"
            time.sleep(0.2)
        new = [p for p in psutil.Process().children() if p.pid not in before]
        zygotes = [p for p in new if "zygote" in _cmdline(p)]
        assert len(zygotes) == 1
        assert zygotes[0].children()  # the run's kernel and the pool's next ones
    finally:
        # Kill every kernel this test started, as an OOM killer might: the run must see its
        # kernel die. Forked kernels are the zygote's children; a kernel started by Popen (if
        # a fork failed) says ipykernel. Nothing that was running before the test is touched.
        for p in psutil.Process().children(recursive=True):
            if p.pid in before:
                continue
            try:
                if "ipykernel" in _cmdline(p) or p.ppid() != os.getpid():
                    p.kill()
            except psutil.Error:  # ended meanwhile
                pass
        t.join(timeout=240)
    assert not t.is_alive()
    (run,) = result[0].runs  # type: ignore[attr-defined]
    # Killed by a signal, not crashed: the zygote reaped it and told its exit code.
    assert run.status == "interrupted"
    assert "killed by SIGKILL" in (mlops.get_run(run.run_id).error or "")
    assert not _left_since(before)


def _left_since(before: set[int], timeout: float = 120) -> list[str]:
    """Processes started since ``before`` (our descendants' pids) still running after up to
    ``timeout`` seconds; our own zombies are reaped, a zombie grandchild is its parent's."""
    new = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    _, alive = psutil.wait_procs(new, timeout=timeout)
    left = []
    for p in alive:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{p.pid} {_cmdline(p)}")
        except psutil.NoSuchProcess:
            pass
    return left


def test_a_sweep_on_forked_kernels_records_the_environment_as_a_fresh_kernel(
    tmp_path: Path, isolated_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    promote(tmp_path / "train_ok.ipynb")
    spec = load_pipeline("train_ok")
    before = _descendants()
    forked = run_sweep(spec, [{}], parallel=1, progress=False)
    assert not _left_since(before)  # the zygote and its kernels are gone
    monkeypatch.setenv(SWITCH_ENV, "0")
    fresh = run_sweep(spec, [{}], parallel=1, progress=False)
    con = sqlite3.connect(isolated_store / "mlops.db", timeout=30)
    try:
        envs = [
            con.execute("SELECT environment_id FROM runs WHERE id = ?", (r.run_id,)).fetchone()[0]
            for r in (*forked.runs, *fresh.runs)
        ]
    finally:
        con.close()
    assert envs[0] is not None and envs[0] == envs[1]


def test_forked_kernels_end_with_their_zygote(tmp_path: Path) -> None:
    pool = KernelPool("python3", tmp_path, 1)
    try:
        assert pool.zygote is not None
        km = pool.take()
        kernel = psutil.Process(km.provisioner.pid)
        pool.zygote.proc.kill()  # as when the sweep itself is killed: its zygote sees EOF
        kernel.wait(timeout=120)
        assert not kernel.is_running()
    finally:
        pool.close()
