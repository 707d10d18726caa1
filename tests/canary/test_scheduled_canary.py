"""The embedded scheduler steps running canaries: each look is due one interval after the
last change, taken under the canary's lease, so two schedulers (two store handles, as two
processes) ticking at once take it once; a restarted scheduler resumes at the stored step."""

from __future__ import annotations

import datetime as dt
import threading

import jupyter_mlops as mlops
from jupyter_mlops.monitoring.canary import start_canary
from jupyter_mlops.monitoring.canary_spec import make_plan
from jupyter_mlops.schedule.scheduler import Scheduler
from jupyter_mlops.store.sqlite import SQLiteStore
from tests.canary.helpers import NAME, T0, Traffic, register


def _at(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc)


def _scheduler(store, when: list[float], holder: str) -> Scheduler:
    tracker = mlops.Tracker(store)
    return Scheduler(tracker=tracker, clock=lambda: _at(when[0]), holder=holder,
                     lease_clock=lambda: when[0])  # fmt: skip


def test_two_schedulers_look_once_and_a_restart_resumes(lite_tracker: mlops.Tracker) -> None:
    store = lite_tracker.store
    register(lite_tracker, "x1", bless=True)
    traffic = Traffic(store)
    traffic.serve(100, T0)
    v2 = register(lite_tracker, "good")
    start_canary(store, NAME, v2, make_plan("10,50,100", (), "1m", min_labels=100), T0)
    when = [T0 + 30]
    a = _scheduler(store, when, "a")
    b = _scheduler(SQLiteStore(store.workdir), when, "b")
    assert a.tick() == [] and b.tick() == []  # not due yet
    for minute in range(1, 30):
        traffic.serve(400, T0 + 60 * minute - 1)
        when[0] = T0 + 60 * minute
        found: list[list[dict]] = []
        ticks = [threading.Thread(target=lambda s=s, f=found: f.append(s.tick())) for s in (a, b)]
        for t in ticks:
            t.start()
        for t in ticks:
            t.join()
        looks = [e for events in found for e in events if e.get("kind") == "canary"]
        assert len(looks) == 1, found  # taken by one scheduler, never both
        assert len(store.rollout_looks(NAME, v2)) == minute
        if looks[0]["outcome"] == "advance":
            break
    # A restart: a new scheduler on a new handle resumes at the stored step.
    resumed = SQLiteStore(store.workdir).active_rollout(NAME)
    assert resumed is not None and resumed.step == 1 and resumed.share == 0.5
    c = _scheduler(SQLiteStore(store.workdir), when, "c")
    when[0] += 30
    assert c.tick() == []  # half an interval later: not due
    when[0] += 30
    traffic.serve(400, when[0] - 1)
    (look,) = c.tick()
    assert look["outcome"] in ("advance", "promote", "hold")
    assert store.rollout_looks(NAME, v2)[-1].evidence["candidate"]["share"] == 0.5
