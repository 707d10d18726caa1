"""The scheduler's lease: taken atomically, renewed, taken over after expiry; two scheduler
processes on one store never start the same firing twice; kill -9 leaves the run interrupted
and the next scheduler goes on."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from jupyter_mlops.pipeline import promote
from jupyter_mlops.schedule.lease import leased
from jupyter_mlops.store import RunStore
from tests.conftest import PYTHON, python_env
from tests.notebook_files import write_python_notebook

T = 1_000_000.0  # lease times are explicit: no test reads the wall clock for them


def test_a_lease_has_one_holder_until_it_expires(store: RunStore) -> None:
    assert store.acquire_lease("schedule:p", "a", ttl=10, now=T)
    assert not store.acquire_lease("schedule:p", "b", ttl=10, now=T + 9.9)
    assert store.lease_holder("schedule:p", T + 5) == "a"
    assert store.acquire_lease("schedule:p", "a", ttl=10, now=T + 5)  # its own: kept
    assert store.renew_lease("schedule:p", "a", ttl=10, now=T + 14)  # now until T + 24
    assert not store.acquire_lease("schedule:p", "b", ttl=10, now=T + 23)
    assert store.acquire_lease("schedule:p", "b", ttl=10, now=T + 24)  # expired: taken over
    assert not store.renew_lease("schedule:p", "a", ttl=10, now=T + 25)  # a has lost it
    store.release_lease("schedule:p", "a")  # not a's any more: a no-op
    assert store.lease_holder("schedule:p", T + 25) == "b"
    store.release_lease("schedule:p", "b")
    assert store.lease_holder("schedule:p", T + 25) is None
    assert store.acquire_lease("schedule:p", "a", ttl=10, now=T + 25)
    assert store.acquire_lease("schedule:q", "b", ttl=10, now=T + 25)  # leases are per name


def test_a_stop_landing_inside_the_release_still_releases_the_lease(store: RunStore) -> None:
    """SIGTERM is KeyboardInterrupt in the CLI; one arriving as a firing ends can interrupt
    the release itself (seen with two schedulers on PostgreSQL under load)."""
    release = store.release_lease
    stops = iter([True])

    def interrupted_once(name: str, holder: str) -> None:
        if next(stops, False):  # the signal lands before the release's statement runs
            raise KeyboardInterrupt
        release(name, holder)

    store.release_lease = interrupted_once  # type: ignore[method-assign]
    try:
        with pytest.raises(KeyboardInterrupt), leased(store, "schedule:p", "a", 10.0, lambda: T):
            pass
    finally:
        store.release_lease = release  # type: ignore[method-assign]
    assert store.lease_holder("schedule:p", T + 1) is None
    assert store.acquire_lease("schedule:p", "b", ttl=10, now=T + 1)  # free at once


def _notebook(path: Path, source: str) -> Path:
    return write_python_notebook(path, source)


def _env(host: str | None) -> dict[str, str]:
    """A subprocess's environment; ``host`` makes it another machine for the store."""
    env = python_env()
    if host:
        env["JUPYTER_MLOPS_HOST"] = host
    return env


def _scheduler(
    tmp_path: Path, now: str, *args: str, host: str | None = None
) -> subprocess.Popen[bytes]:
    cmd = [PYTHON, "-m", "jupyter_mlops", "scheduler", "--now", now, *args]
    return subprocess.Popen(
        cmd, cwd=tmp_path, env=_env(host), start_new_session=True, stderr=subprocess.PIPE
    )


def _query(store: RunStore, sql: str) -> list[tuple[object, ...]]:
    with store._read() as con:  # type: ignore[attr-defined]
        return [tuple(r) for r in con.execute(sql).fetchall()]


def _wait(check, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _runs(store: RunStore) -> list[tuple[object, ...]]:
    return _query(
        store,
        "SELECT r.status, t.value FROM runs r JOIN tags t ON t.run_id = r.id"
        " WHERE t.key = 'scheduled_for' ORDER BY t.value",
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=120)


def _seed(tmp_path: Path) -> None:
    """State: the pipeline last fired at 10:02 (first seen then)."""
    first = _scheduler(tmp_path, "2026-11-23T10:02:00Z", "--once")
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""


def test_two_scheduler_processes_start_each_firing_once(tmp_path: Path, store: RunStore) -> None:
    _notebook(tmp_path / "quick.ipynb", "import time\ntime.sleep(1)")
    promote(tmp_path / "quick.ipynb", name="quick", schedule="0 * * * *")
    _seed(tmp_path)
    # Both wake at 11:00:30 and tick every 0.1 s: the 11:00 firing is due for both of them.
    # Two "hosts": neither can see the other's processes, only the store.
    procs = [
        _scheduler(tmp_path, "2026-11-23T11:00:30Z", "--poll", "0.1", host=f"host-{i}")
        for i in range(2)
    ]
    try:
        _wait(lambda: any(s == "finished" for s, _ in _runs(store)))
        time.sleep(3)  # many more ticks of both: none may fire 11:00 again
    finally:
        for p in procs:
            _stop(p)
    assert _runs(store) == [("finished", "2026-11-23T11:00:00+00:00")]
    log = _query(store, "SELECT outcome FROM schedule_log WHERE outcome != 'missed'")
    assert log == [("passed",)]  # no second start, not even one refused as "skipped"
    assert _query(store, "SELECT * FROM leases") == []  # released after the run


_TICK_AT_GO = """
import datetime as dt, sys, time
from pathlib import Path
from jupyter_mlops.schedule.scheduler import Scheduler
from jupyter_mlops.pipeline import runner  # imported now, not inside the race

now = dt.datetime(2026, 11, 23, 11, 0, 30, tzinfo=dt.timezone.utc)
s = Scheduler(clock=lambda: now)
s.up_since = now - dt.timedelta(seconds=60)
Path(sys.argv[1]).touch()  # ready
while not Path("go").exists():
    time.sleep(0.001)
print([e["outcome"] for e in s.tick()])
"""


def test_two_schedulers_ticking_at_the_same_instant_start_the_firing_once(
    tmp_path: Path, store: RunStore
) -> None:
    # Both processes wait for the same file, then tick at once: both read the firing as due
    # unless the lease serialises them.
    _notebook(tmp_path / "quick.ipynb", "x = 1")
    promote(tmp_path / "quick.ipynb", name="quick", schedule="0 * * * *")
    _seed(tmp_path)
    (tmp_path / "tick.py").write_text(_TICK_AT_GO)
    procs = [
        subprocess.Popen(
            [PYTHON, "tick.py", f"ready{i}"],
            cwd=tmp_path,
            env=_env(f"host-{i}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    try:
        _wait(lambda: all((tmp_path / f"ready{i}").exists() for i in range(2)))
        (tmp_path / "go").touch()
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert all(p.returncode == 0 for p in procs), outs
    assert sorted(out for out, _ in outs) == ["['passed']\n", "[]\n"]  # one fired, one saw it done
    assert _runs(store) == [("finished", "2026-11-23T11:00:00+00:00")]


def test_kill_9_mid_run_leaves_it_interrupted_and_the_next_scheduler_goes_on(
    tmp_path: Path, store: RunStore
) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    _notebook(
        tmp_path / "slow.ipynb",
        f"import os, time\nwhile os.path.exists({str(hold)!r}):\n    time.sleep(0.1)",
    )
    promote(tmp_path / "slow.ipynb", name="slow", schedule="0 * * * *")
    _seed(tmp_path)
    a = _scheduler(tmp_path, "2026-11-23T11:00:30Z", "--once", "--lease-ttl", "2")
    try:
        _wait(lambda: _runs(store) == [("running", "2026-11-23T11:00:00+00:00")])
        (holder,) = _query(store, "SELECT holder FROM leases WHERE name = 'schedule:slow'")
        assert f":{a.pid}:" in str(holder[0])
        time.sleep(2.5)  # past one TTL: only A's heartbeat keeps the lease
        assert _query(store, "SELECT holder FROM leases") == [holder]
        os.kill(a.pid, signal.SIGKILL)
        a.wait(timeout=30)
    finally:
        hold.unlink()  # lets an orphaned kernel's cell end
        _stop(a)
    b = _scheduler(tmp_path, "2026-11-23T12:00:30Z", "--poll", "0.1", "--lease-ttl", "2")
    try:
        _wait(lambda: ("finished", "2026-11-23T12:00:00+00:00") in _runs(store))
    finally:
        _stop(b)
    assert _runs(store) == [
        ("interrupted", "2026-11-23T11:00:00+00:00"),  # marked by the store's liveness sweep
        ("finished", "2026-11-23T12:00:00+00:00"),  # B took the expired lease and went on
    ]
    fired = _query(store, "SELECT outcome FROM schedule_log WHERE outcome != 'missed'")
    assert fired == [("passed",)]  # 11:00 was not started again


@pytest.mark.parametrize("ttl", ["0", "-1"])
def test_a_lease_ttl_must_be_positive(tmp_path: Path, ttl: str) -> None:
    p = subprocess.run(
        [PYTHON, "-m", "jupyter_mlops", "scheduler", "--once", "--lease-ttl", ttl],
        cwd=tmp_path,
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    err = p.stderr.strip()
    assert p.returncode == 2 and "--lease-ttl must be" in err and "\n" not in err
