"""The background writer: a store locked by another process never holds up a tracked cell, and
every record still reaches the store, in order, or is reported, never half-written."""

from __future__ import annotations

import contextlib
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.codec import to_jsonable
from jupyter_mlops.config import load_settings
from jupyter_mlops.entities import RunStatus
from jupyter_mlops.exceptions import ConfigError
from jupyter_mlops.store import close_stores, open_store
from jupyter_mlops.tracking import TrackingWarning, reset_default_tracker
from jupyter_mlops.tracking.compare import diff_runs
from jupyter_mlops.tracking.summary import format_summary

from .conftest import PYTHON, python_env

HOLDER = textwrap.dedent("""
    import select, sqlite3, sys
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    select.select([sys.stdin], [], [], float(sys.argv[2]))  # until told, or the time is up
    con.execute("ROLLBACK")
    print("released", flush=True)
""")


class Holder:
    """Another process holding the store's write lock (plain python + sqlite3)."""

    def __init__(self, db: Path, seconds: float) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, "-c", HOLDER, str(db), str(seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline() == "locked\n"

    @property
    def holding(self) -> bool:
        return self.proc.poll() is None

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            # On a loaded machine its own time may run out between poll() and the write.
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.write("\n")
                self.proc.stdin.flush()
        self.proc.wait(timeout=30)


@contextmanager
def lock_held(db: Path, seconds: float = 10.0) -> Iterator[Holder]:
    holder = Holder(db, seconds)
    try:
        yield holder
    finally:
        holder.release()


def _stored_status(db: Path, run_id_prefix: str) -> str | None:
    """A run's status read with a plain sqlite3 connection (no jupyter-mlops in between)."""
    con = sqlite3.connect(db)
    try:
        row = con.execute(
            "SELECT status FROM runs WHERE id >= ? AND id < ?", (run_id_prefix, run_id_prefix + "g")
        ).fetchone()
    finally:
        con.close()
    return row[0] if row else None


def _poll_status(db: Path, run_id: str, want: str, timeout: float = 30.0) -> str | None:
    deadline = time.monotonic() + timeout
    status = _stored_status(db, run_id)
    while status != want and time.monotonic() < deadline:
        time.sleep(0.02)
        status = _stored_status(db, run_id)
    return status


@pytest.mark.slow
def test_tracked_cell_does_not_wait_for_a_store_locked_by_another_process(
    shell, isolated_store: Path, capsys
) -> None:
    shell.run("%%track -e busy\nC = 1.0\nacc = 0.25")
    first = re.findall(r"● run ([0-9a-f]{8})", capsys.readouterr().out)[-1]
    db = isolated_store / "mlops.db"
    with lock_held(db, seconds=10) as holder:
        start = time.perf_counter()
        shell.run("%%track -e busy\nimport time\ntime.sleep(0.2)\nC = 2.0\nacc = 0.5")
        elapsed = time.perf_counter() - start
        # Its own 0.2 s plus a bound that is generous for a loaded machine; the old code
        # waited for the lock (10 s). The precise figure is in benchmarks/bench_tracking.py.
        assert elapsed < 0.2 + 1.0, elapsed
        assert holder.holding  # the lock was held the whole time
        out = capsys.readouterr().out
        run_id = re.findall(r"● run ([0-9a-f]{8})", out)[-1]
        assert _stored_status(db, run_id) is None  # nothing written yet: it is queued
        # The summary comes from memory: params, metrics and the change since the last run.
        assert "acc=0.5" in out and f"vs {first}: C 1 → 2" in out
    assert _poll_status(db, run_id, "finished") == "finished"
    stored = mlops.get_run(run_id)
    assert stored.params == {"C": 2.0} and stored.metrics == {"acc": 0.5}


def test_summary_from_memory_is_what_the_store_gives(shell, capsys) -> None:
    shell.run("import numpy as np\nX = np.arange(12.0).reshape(3, 4)")
    # The same literal names make it the same cell (no Jupyter cell id here), so the summary
    # shows the change since the first run.
    shell.run(
        "%%track -e same\nk = 3\nlayers = {'a': [1]}\n"
        "import jupyter_mlops as mlops\nmlops.log_metric('loss', 0.5)"
    )
    shell.run(
        "%%track -e same --tags team=a\nk = (4, 5)\nlayers = {'a': [1, 2]}\n"
        "import jupyter_mlops as mlops\nmlops.log_metric('loss', 0.9, step=0)\n"
        "mlops.log_metric('loss', 0.3, step=2)\nmlops.log_metric('loss', 0.7, step=1)\n"
        "Z = X * 2\nprint('hello')"
    )
    out = capsys.readouterr().out
    ids = mlops.runs(experiment="same")["id"].tolist()  # newest first
    stored, previous = mlops.get_run(ids[0]), mlops.get_run(ids[1])
    assert stored.metrics == {"loss": 0.3} and stored.params["k"] == [4, 5]
    assert format_summary(stored, diff_runs(previous, stored)) in out


def test_snapshot_matches_the_stored_run(tmp_path: Path, tracker: mlops.Tracker) -> None:
    import numpy as np

    f = tmp_path / "notes.txt"
    f.write_text("x")
    with mlops.start_run(experiment="snap", name="n", tags={"t": 1}) as run:
        run.log_params({"C": np.float64(0.5), "shape": (2, 3), "opts": {1: "a"}, "none": None})
        run.log_metric("loss", float("nan"), step=0)
        run.log_metric("loss", 0.5, step=3)
        run.log_metric("loss", 0.9, step=1)
        run.log_metric("acc", 0.1)
        run.log_metric("acc", 0.2)
        run.log_dataset("X", np.arange(6.0))
        run.log_dataset("X", np.arange(7.0))
        run.log_dataset("out", np.ones(3), role="output")
        run.log_artifact(f)
        run.warn("careful")
        run.warn("careful")
        run._send()  # a mid-run write, then more on top of it
        run.log_params({"C": 1.5})
        run.set_tags({"t": "2"})
        mid = run.snapshot()
    assert mid.status is RunStatus.RUNNING and mid.params["C"] == 1.5
    stored = to_jsonable(mlops.get_run(run.id))
    mine = to_jsonable(run.snapshot())
    for d in (stored, mine):
        d.pop("git")  # recorded late, when the probe finishes
    assert mine == stored


def test_script_with_block_is_durable_when_it_ends(isolated_store: Path, tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent("""
        import sqlite3, sys
        import jupyter_mlops as mlops
        with mlops.start_run(experiment="script") as run:
            run.log_params({"a": 1})
        con = sqlite3.connect(sys.argv[1])  # not through jupyter-mlops: is it really there?
        print(con.execute("SELECT status FROM runs WHERE id = ?", (run.id,)).fetchone()[0])
        print(len(mlops.runs(experiment="script")))
        """)
    )
    out = subprocess.run(
        [PYTHON, str(script), str(isolated_store / "mlops.db")],
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["finished", "1"]


def _sqlite_only(tracker: mlops.Tracker) -> None:
    if tracker.store.dialect.name != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("holds SQLite's database lock from another process")


def test_reads_wait_for_this_process_queued_writes(isolated_store: Path, tracker) -> None:
    _sqlite_only(tracker)
    db = isolated_store / "mlops.db"
    with lock_held(db) as holder:
        run = tracker.start_run(experiment="queued")
        run.log_params({"a": 1})
        run.end(wait=False)
        assert mlops.flush(timeout=0.2) is False  # still locked: not durable yet
        assert _stored_status(db, run.id) is None
        threading.Timer(0.3, holder.release).start()
        got = mlops.get_run(run.id)  # waits for our own queued records
    assert got.status is RunStatus.FINISHED and got.params == {"a": 1}
    assert mlops.flush() is True


def test_records_are_applied_in_order(isolated_store: Path, tracker) -> None:
    _sqlite_only(tracker)
    with lock_held(isolated_store / "mlops.db") as holder:
        runs = []
        for i in range(30):
            run = tracker.start_run(experiment="order", seed=None)
            run.log_params({"i": i, "x": "first"})
            run._send()
            run.log_params({"x": "second"})
            run.log_metric("m", 1.0, step=0)
            run._send()
            run.log_metric("m", 2.0, step=0)
            run.end(wait=False)
            runs.append(run)
        assert tracker.writer.pending > 0
        holder.release()
        assert mlops.flush(timeout=60)
    frame = mlops.runs(experiment="order")
    assert len(frame) == 30 and (frame["status"] == "finished").all()
    assert set(frame["params.x"]) == {"second"} and set(frame["metrics.m"]) == {2.0}


def test_opening_a_store_another_process_writes_to_does_not_wait(isolated_store: Path) -> None:
    mlops.default_tracker()  # the store exists
    close_stores()
    reset_default_tracker()
    with lock_held(isolated_store / "mlops.db"):
        start = time.perf_counter()
        open_store(isolated_store)
        assert time.perf_counter() - start < 5  # the old code waited for the lock (10 s)


def test_a_record_the_store_cannot_take_is_a_warning_not_a_thread_traceback(
    tracker: mlops.Tracker,
) -> None:
    bad_record = r"run \w{8} was not recorded: UnicodeEncodeError"
    with pytest.warns(TrackingWarning, match=bad_record), mlops.start_run(experiment="bad") as bad:
        bad.log_params({"name\ud800": 1})  # a lone surrogate: SQLite cannot store it
    with mlops.start_run(experiment="bad") as good:  # the writer goes on; the bad run is closed
        good.log_params({"ok": 1})
    assert mlops.get_run(good.id).params == {"ok": 1}
    closed = mlops.get_run(bad.id)
    assert closed.status is RunStatus.FINISHED and "details not recorded" in closed.error


EXITING = textwrap.dedent("""
    import atexit, sys, time
    import jupyter_mlops as mlops
    run = mlops.start_run(experiment="exit")
    run.log_params({"a": 1})
    run.flush()
    print(run.id, flush=True)
    sys.stdin.readline()  # the test now holds the store's write lock
    run.log_params({"b": 2})
    run.end(wait=False)
    writer = mlops.default_tracker().writer
    deadline = time.monotonic() + 30
    while not writer.busy and time.monotonic() < deadline:
        time.sleep(0.005)
    print("queued" if writer.busy else "not-busy", flush=True)
    if sys.argv[1] == "sleep":
        time.sleep(120)
    atexit.register(print, "exiting", flush=True)  # runs before jupyter-mlops' flush (LIFO)
""")


@contextmanager
def _exiting_script(
    tmp_path: Path, mode: str, **env: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    script = tmp_path / "exiting.py"
    script.write_text(EXITING)
    proc = subprocess.Popen(
        [PYTHON, str(script), mode],
        env={**python_env(), **env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        run_id = proc.stdout.readline().strip()
        assert run_id, proc.stderr.read() if proc.stderr else ""
        yield proc, run_id
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def _go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "queued\n"


def _reopened_run(run_id: str) -> mlops.Run:
    reset_default_tracker()
    close_stores()  # the next open of the store in this process
    return mlops.get_run(run_id)


@pytest.mark.slow
def test_records_queued_at_exit_are_written_before_the_process_ends(
    isolated_store: Path, tmp_path: Path
) -> None:
    with _exiting_script(tmp_path, "exit") as (proc, run_id):
        with lock_held(isolated_store / "mlops.db"):
            _go(proc)
            assert proc.stdout is not None and proc.stdout.readline() == "exiting\n"
            assert proc.poll() is None  # waiting for the store, not gone
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "not recorded" not in err
    run = _reopened_run(run_id)
    assert run.status is RunStatus.FINISHED and run.params == {"a": 1, "b": 2}


@pytest.mark.slow
def test_exit_waits_only_the_flush_timeout_and_says_what_was_not_recorded(
    isolated_store: Path, tmp_path: Path
) -> None:
    db = isolated_store / "mlops.db"
    with _exiting_script(tmp_path, "exit", JUPYTER_MLOPS_FLUSH_TIMEOUT="0.5") as (proc, run_id):
        with lock_held(db, seconds=120):
            _go(proc)
            _out, err = proc.communicate(timeout=60)  # ends while the lock is still held
            assert proc.returncode == 0, err
        assert f"TrackingWarning: jupyter-mlops: run {run_id[:8]} was not recorded" in err
        assert "JUPYTER_MLOPS_FLUSH_TIMEOUT" in err
    run = _reopened_run(run_id)
    # Never half-written: what was durable before, then 'interrupted' by the liveness sweep.
    assert run.status is RunStatus.INTERRUPTED and run.params == {"a": 1}
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


@pytest.mark.slow
def test_kill_during_a_contended_flush_leaves_the_run_interrupted(
    isolated_store: Path, tmp_path: Path
) -> None:
    db = isolated_store / "mlops.db"
    with _exiting_script(tmp_path, "sleep") as (proc, run_id), lock_held(db):
        _go(proc)  # its final records are queued, the writer is waiting for the lock
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    run = _reopened_run(run_id)
    assert run.status is RunStatus.INTERRUPTED and "killed or crashed" in run.error
    assert run.params == {"a": 1}
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_flush_timeout_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(start=tmp_path).flush_timeout == 10.0
    (tmp_path / "pyproject.toml").write_text("[tool.jupyter_mlops]\nflush_timeout = 3\n")
    assert load_settings(start=tmp_path).flush_timeout == 3.0
    monkeypatch.setenv("JUPYTER_MLOPS_FLUSH_TIMEOUT", "0.25")
    assert load_settings(start=tmp_path).flush_timeout == 0.25
    monkeypatch.setenv("JUPYTER_MLOPS_FLUSH_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="flush_timeout must be a number of seconds.*'soon'"):
        load_settings(start=tmp_path)


def test_flush_is_public_and_safe_with_nothing_queued() -> None:
    assert mlops.flush() is True
    assert mlops.flush(timeout=0) is True
    assert "flush" in mlops.__all__ and sys.modules["jupyter_mlops"].flush is mlops.flush


def test_a_record_waited_for_at_once_is_written_on_the_callers_thread(tracker) -> None:
    _sqlite_only(tracker)
    writer = tracker.writer
    writer.stop()
    run = tracker.start_run(experiment="here", seed=None, probe_git=False)
    assert writer.pending == 0 and writer._thread is None  # no hand-off to a writer thread
    run.log_params({"a": 1})
    run.end(wait=False, now=True)
    assert writer.pending == 0 and writer._thread is None
    got = tracker.store.get_run(run.id)
    assert got.status is RunStatus.FINISHED and got.params == {"a": 1}
    # The write polled the lock briefly (BUSY_POLL_MS); this thread's reads wait as long as ever.
    from jupyter_mlops.store.sqlite import BUSY_TIMEOUT_MS

    conn = tracker.store._conn()  # type: ignore[attr-defined]
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS


def test_a_locked_store_hands_the_callers_record_to_the_writer_thread(
    isolated_store: Path, tracker
) -> None:
    _sqlite_only(tracker)
    with lock_held(isolated_store / "mlops.db") as holder:
        run = tracker.start_run(experiment="handed", seed=None, probe_git=False)
        assert tracker.writer.busy and tracker.writer.pending == 1  # queued, first in line
        run.log_params({"a": 1})
        run.end(wait=False, now=True)  # queued behind it: the order is kept
        holder.release()
        assert mlops.flush(timeout=60)
    got = tracker.store.get_run(run.id)
    assert got.status is RunStatus.FINISHED and got.params == {"a": 1}
