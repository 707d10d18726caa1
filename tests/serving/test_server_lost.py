"""After a ``kill -9``, what a server answered and never recorded is counted as lost: by the
process ledger (serving/ledger.py) the next start reads, as a monitor event of kind ``lost`` and in
``/metrics`` (``why="killed"``), once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.monitoring.rendering import describe_event
from jupyter_mlops.serving import ServeOptions
from jupyter_mlops.serving.ledger import Ledger, Loss, claim, folder, recover
from jupyter_mlops.store import open_store

from .live import T0, free_port, load_until, register, running, train, wait_for

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "lost-test-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A live process other than this one (a server that is still running)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def _dead_ledger(directory: Path, child: subprocess.Popen[bytes], **counts: int) -> Path:
    ledger = Ledger(directory, pid=child.pid)
    ledger.answered("churn", counts.get("answered", 5), counts.get("rows", 50))
    ledger.settled("churn", counts.get("settled", 2), counts.get("settled_rows", 20))
    ledger.answered("fraud", 1, 3)
    ledger.settled("fraud", 1, 3)  # nothing lost: no event
    path = ledger.path
    ledger._map.close()  # the process dies holding it: the file stays, as after kill -9
    return path


def test_a_ledger_counts_answered_and_settled_and_is_removed_only_when_even(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path)
    assert ledger.path.name.startswith(f"{os.getpid()}-")
    ledger.answered("churn", 3, 30)
    ledger.answered("m" * 1000, 1, 1)  # the longest model name fits a slot
    ledger.settled("churn", 1, 10)
    assert ledger.pending() == [Loss("churn", 2, 20), Loss("m" * 1000, 1, 1)]
    ledger.settled("churn", 2, 20)
    ledger.settled("m" * 1000, 1, 1)
    assert ledger.pending() == []
    ledger.close()
    assert not ledger.path.exists()
    kept = Ledger(tmp_path / "kept")
    kept.answered("churn", 1, 1)
    kept.close()  # a record never landed: left for the next start to count
    assert kept.path.exists()


def test_a_live_process_ledger_is_never_claimed_a_dead_one_once(
    tmp_path: Path, child: subprocess.Popen[bytes]
) -> None:
    mine = Ledger(tmp_path)
    live = Ledger(tmp_path, pid=child.pid)
    assert list(claim(tmp_path)) == []  # both processes run
    child.kill()
    child.wait(30)
    claimed = list(claim(tmp_path))
    assert [dead for _, dead in claimed] == [live.path.stem]
    assert list(claim(tmp_path)) == []  # claimed by this process, which is alive
    assert mine.path.exists() and not live.path.exists()
    mine.close()
    live._map.close()


def test_two_claimers_at_once_never_share_a_ledger(
    tmp_path: Path, child: subprocess.Popen[bytes]
) -> None:
    dead = []
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "-c", "pass"])
        ledger = Ledger(tmp_path, pid=proc.pid)
        proc.wait(30)
        ledger._map.close()
        dead.append(ledger.path.stem)
    got: dict[int, list[str]] = {os.getpid(): [], child.pid: []}

    def run(me: int) -> None:
        got[me] = [d for _, d in claim(tmp_path, me=me)]

    threads = [threading.Thread(target=run, args=(me,)) for me in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    mine, theirs = got.values()
    assert sorted(mine + theirs) == sorted(dead)
    assert not set(mine) & set(theirs)


def test_recover_records_a_lost_event_once_and_calls_back(
    isolated_store: Path, child: subprocess.Popen[bytes]
) -> None:
    store = open_store(str(isolated_store))
    path = _dead_ledger(folder(store), child, answered=5, rows=50, settled=2, settled_rows=20)
    assert recover(store, lambda loss: None, lambda: T0) == []  # the process still runs
    child.kill()
    child.wait(30)
    seen: list[Loss] = []
    assert recover(store, seen.append, lambda: T0) == [Loss("churn", 3, 30)]
    assert seen == [Loss("churn", 3, 30)] and not path.exists()
    (event,) = [e for e in store.monitor_events("churn") if e.kind == "lost"]
    assert (event.time, event.status) == (T0, "killed")
    assert event.detail["batches"] == 3 and event.detail["rows"] == 30
    assert event.detail["process"] == child.pid and event.detail["ledger"] == path.stem
    assert "3 batch(es), 30 rows left out" in describe_event(event)
    assert [e for e in store.monitor_events("fraud") if e.kind == "lost"] == []
    assert recover(store, seen.append, lambda: T0) == []  # a third start counts nothing


def test_a_claimer_killed_after_recording_never_counts_twice(
    isolated_store: Path, child: subprocess.Popen[bytes]
) -> None:
    store = open_store(str(isolated_store))
    path = _dead_ledger(folder(store), child)
    child.kill()
    child.wait(30)
    data = path.read_bytes()
    assert recover(store, lambda loss: None, lambda: T0) == [Loss("churn", 3, 30)]
    # A claimer that died between writing the event and removing its claim left this:
    claimer = subprocess.Popen([sys.executable, "-c", "pass"])
    claimer.wait(30)
    path.with_name(f"{path.name}.claimed-{claimer.pid}-1").write_bytes(data)
    seen: list[Loss] = []
    assert recover(store, seen.append, lambda: T0) == [] and seen == []
    assert len([e for e in store.monitor_events("churn") if e.kind == "lost"]) == 1
    assert list(folder(store).iterdir()) == []


def test_a_started_server_shows_the_loss_in_metrics_and_the_monitor(
    isolated_store: Path, child: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    register(mlops.default_tracker(), "churn", train(0))
    store = open_store(str(isolated_store))
    _dead_ledger(folder(store), child)
    child.kill()
    child.wait(30)
    with running(store, ServeOptions(poll_seconds=0.05)) as url:
        text = httpx.get(f"{url}/metrics", timeout=10).text
        assert _killed(text) == 3
        r = httpx.post(f"{url}/models/churn/predict", json=[{"x1": 0.0, "x2": 1.0}], timeout=10)
        assert r.status_code == 200
    assert list(folder(store).iterdir()) == []  # stopped cleanly, everything recorded
    assert main(["monitor", "churn"]) == 0
    out = capsys.readouterr().out
    assert "lost" in out and "3 batch(es), 30 rows left out" in out


def _killed(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("mlops_serve_records_lost_total{") and 'why="killed"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _start(port: int, token: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "jupyter_mlops", "serve", "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--token-file", str(token)], env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}")
        try:
            return httpx.get(f"{url}/ready", headers=AUTH, timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    assert wait_for(ready, 60), "the server did not become ready"
    return proc, url


def _stop(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
    proc.wait(60)


@pytest.mark.slow  # three server processes, each importing the model stack
def test_kill_9_under_load_is_counted_lost_once_by_the_next_start(
    isolated_store: Path, tmp_path: Path
) -> None:
    register(mlops.default_tracker(), "churn", train(0))
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    proc, url = _start(free_port(), token)
    answered: dict[str, int] = {}
    stop = threading.Event()
    clients = 4
    threads = [
        threading.Thread(target=load_until, args=(url, AUTH, answered, stop, s))
        for s in range(clients)
    ]
    try:
        for t in threads:
            t.start()
        wait_for(lambda: len(answered) >= 100, 60)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        _stop(proc, signal.SIGKILL)
    store = open_store(str(isolated_store))
    batches = store.monitor_batches("churn")
    lost_batches = len(answered) - len(batches)
    lost_rows = sum(answered.values()) - sum(b.n_rows for b in batches)

    second, url = _start(free_port(), token)
    try:
        events = [e for e in store.monitor_events("churn") if e.kind == "lost"]
        counted = _killed(httpx.get(f"{url}/metrics", headers=AUTH, timeout=10).text)
    finally:
        _stop(second, signal.SIGTERM)
    # Exact but for the kill's own race: a response written and not yet read by its client
    # (one per client at most), a record committed and not yet counted (one at most). A kill
    # that came when every record had landed (an idle machine keeps up) loses nothing, and
    # then no loss is recorded at all.
    assert len(events) <= 1
    found = events[0].detail if events else {"batches": 0, "rows": 0}
    assert lost_batches <= found["batches"] <= lost_batches + clients + 1
    assert lost_rows <= found["rows"] <= lost_rows + 20 * (clients + 1)
    assert counted == found["batches"]
    if events:
        assert events[0].status == "killed" and found["process"] == proc.pid

    third, url = _start(free_port(), token)
    try:
        assert _killed(httpx.get(f"{url}/metrics", headers=AUTH, timeout=10).text) == 0
        assert len([e for e in store.monitor_events("churn") if e.kind == "lost"]) == len(events)
    finally:
        _stop(third, signal.SIGTERM)
    assert list(folder(store).iterdir()) == []
