"""The background writer's bounded queue: a flood of metrics keeps memory bounded, and every
record reaches the store exactly once, through the spill journal when the queue is full, even
when the process is killed before the journal was written."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import psutil
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.entities import RunKind, RunStatus
from jupyter_mlops.exceptions import StoreUnavailableError
from jupyter_mlops.store import close_stores, journal, open_store
from jupyter_mlops.tracking import reset_default_tracker
from tests.processes import kill_if_running

from .conftest import PYTHON, python_env
from .test_writer import lock_held

FLOOD = 1_000_000
# RSS growth allowed for FLOOD metrics logged while the store is locked. An unbounded queue
# holds every row (~185 MB for 1M here); the bounded one holds MAX_QUEUED_ITEMS rows (~15 MB)
# plus the batch being written and the journal's buffers (~21 MB measured).
RSS_BOUND = 64 * 2**20


def _metric_rows(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT COUNT(*), COUNT(DISTINCT step) FROM metrics").fetchone()
    finally:
        con.close()


def _journal_files(store_dir: Path) -> list[Path]:
    return sorted((store_dir / "journal").glob("*.jsonl"))


@pytest.mark.slow
def test_a_flood_of_metrics_on_a_locked_store_keeps_memory_bounded_and_loses_nothing(
    isolated_store: Path,
) -> None:
    tracker = mlops.default_tracker()
    run = tracker.start_run(experiment="flood", seed=None, probe_git=False)
    assert tracker.flush()
    proc = psutil.Process()
    before = peak = proc.memory_info().rss
    # Nothing drains while another process holds the lock: without a bound, all of it queues.
    with lock_held(isolated_store / "mlops.db", seconds=600):
        for i in range(FLOOD):
            run.log_metric("m", i, step=i)
            if i % 50_000 == 0:
                peak = max(peak, proc.memory_info().rss)
        peak = max(peak, proc.memory_info().rss)
        assert tracker.writer.spilled > 0 and _journal_files(isolated_store)
    assert peak - before < RSS_BOUND, f"RSS grew {(peak - before) / 2**20:.0f} MiB"
    run.end()
    assert tracker.flush()
    assert _metric_rows(isolated_store / "mlops.db") == (FLOOD, FLOOD)  # all, once each
    assert mlops.get_run(run.id).metrics == {"m": FLOOD - 1}
    assert mlops.get_run(run.id).status is RunStatus.FINISHED
    assert not _journal_files(isolated_store)  # written: gone, and its mark too
    assert open_store(isolated_store).journal_mark("any") is None


CHILD = textwrap.dedent("""
    import sys
    import jupyter_mlops as mlops
    tracker = mlops.default_tracker()
    tracker.writer.max_queued = 1000  # spill soon
    tracker.writer.block_seconds = 0.01
    run = tracker.start_run(experiment="killed", seed=None, probe_git=False)
    assert tracker.flush()
    print(run.id, flush=True)
    sys.stdin.readline()  # the parent holds the store's lock now
    for i in range(int(sys.argv[1])):
        run.log_metric("m", i, step=i)
    run.log_params({"done": True})
    run._send()
    print(tracker.writer.spilled, flush=True)
    if sys.stdin.readline() == "end\\n":  # else killed while waiting here
        run.end(wait=False)  # and exit, while the store is still locked
""")


def _journal_steps(files: list[Path]) -> list[int]:
    steps = []
    for f in files:
        for line in f.read_bytes().splitlines()[1:]:
            update = json.loads(line).get("update") or {}
            steps += [m[2] for m in update.get("metrics", [])]
    return steps


def _spilling_child(tmp_path: Path, stderr: int | None = None, **env: str) -> subprocess.Popen[str]:
    """A process running CHILD (50,000 metrics of one run), driven over its stdin and stdout."""
    return subprocess.Popen(
        [PYTHON, "-c", CHILD, "50000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**python_env(), **env},
        cwd=tmp_path,
    )


@pytest.mark.slow
def test_the_journal_of_a_killed_process_is_replayed_at_the_next_open_once(
    isolated_store: Path, tmp_path: Path
) -> None:
    db = isolated_store / "mlops.db"
    proc = _spilling_child(tmp_path)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        with lock_held(db, seconds=120):
            proc.stdin.write("\n")
            proc.stdin.flush()
            assert int(proc.stdout.readline()) > 0  # records went to the journal
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            spilled = _journal_steps(_journal_files(isolated_store))
    finally:
        kill_if_running(proc)
    # The records the child still held in memory died with it; those it spilled did not.
    assert len(spilled) >= 30_000 and _metric_rows(db) == (0, 0)
    close_stores()
    reset_default_tracker()
    got = open_store(isolated_store).get_run(run_id)  # the open replays the journal
    assert _metric_rows(db) == (len(spilled), len(spilled))
    assert got.params == {"done": True} and got.metrics == {"m": 49_999}
    assert got.status is RunStatus.INTERRUPTED  # replayed first, then its dead process seen
    assert not _journal_files(isolated_store)
    close_stores()
    open_store(isolated_store)
    assert _metric_rows(db) == (len(spilled), len(spilled))  # never twice


@pytest.mark.slow
def test_records_spilled_before_an_exit_on_a_locked_store_are_kept_and_said_so(
    isolated_store: Path, tmp_path: Path
) -> None:
    db = isolated_store / "mlops.db"
    proc = _spilling_child(tmp_path, stderr=subprocess.PIPE, JUPYTER_MLOPS_FLUSH_TIMEOUT="0.5")
    try:
        assert proc.stdin is not None and proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        with lock_held(db, seconds=120):
            proc.stdin.write("\n")
            proc.stdin.flush()
            assert int(proc.stdout.readline()) > 0
            _out, err = proc.communicate("end\n", timeout=120)  # exits with the lock held
            spilled = _journal_steps(_journal_files(isolated_store))
    finally:
        kill_if_running(proc)
    assert proc.returncode == 0, err
    assert "are kept in" in err and "written the next time the store is opened" in err
    close_stores()
    reset_default_tracker()
    got = open_store(isolated_store).get_run(run_id)
    assert _metric_rows(db) == (len(spilled), len(spilled))
    assert got.status is RunStatus.FINISHED and got.metrics == {"m": 49_999}  # its end, replayed


def test_a_replay_that_dies_half_way_resumes_after_its_last_committed_batch(
    store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal's mark is written in the transaction of each replayed batch."""
    from jupyter_mlops.store import RunStart, RunUpdate
    from jupyter_mlops.store.journal import Journal, encode_record

    start = RunStart("ab" * 16, "replay", RunKind.SCRIPT, 1.0)
    j = Journal(store)
    j.append(encode_record(1, start.id, start, None, False, True))
    for b in range(10):
        metrics = [("m", float(i), i, 1.0) for i in range(b * 100, (b + 1) * 100)]
        j.append(encode_record(2 + b, start.id, None, RunUpdate(metrics=metrics), False, True))
    j.close()  # as a killed process leaves it (its lock released)
    monkeypatch.setattr(journal, "REPLAY_BATCH_ITEMS", 250)
    real = type(store).write_batch
    calls = []

    def dies_after_two(self, writes, on_busy=None, journal_mark=None):
        real(self, writes, on_busy, journal_mark)
        calls.append(journal_mark)
        if len(calls) == 2:  # committed, then the process "dies"
            raise StoreUnavailableError("the process died here")

    monkeypatch.setattr(type(store), "write_batch", dies_after_two)
    assert journal.replay_journals(store) == 0  # kept for the next open
    monkeypatch.setattr(type(store), "write_batch", real)
    first = len(store.metric_history(start.id, "m"))
    assert 0 < first < 1000
    assert journal.replay_journals(store) == 10 - first // 100  # the updates left, only
    history = store.metric_history(start.id, "m")
    assert sorted(history["step"]) == list(range(1000))  # every row, once
    assert not list((Path(store.workdir) / "journal").glob("*.jsonl"))
