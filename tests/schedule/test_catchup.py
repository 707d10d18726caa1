"""Catch-up policies and time zones in the scheduler, with the injected clock."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cron import CronSchedule
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.spec import load_spec, save_spec
from jupyter_mlops.schedule.scheduler import Catchup, Due, Missed, Scheduler, due, pipeline_lock

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 23, 10, 2, tzinfo=UTC)  # a Monday
HOURLY = CronSchedule.parse("0 * * * *")
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def h(hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, 23, hour, tzinfo=UTC)


NOW = h(15) + dt.timedelta(minutes=10)  # firings 11:00 to 15:00 passed since T0


def plan(policy: str, limit: int = 10, up_since: dt.datetime | None = None) -> list[Due]:
    up = up_since or NOW - dt.timedelta(seconds=60)  # a scheduler that has just started
    return due({"p": HOURLY}, {"p": T0}, NOW, {"p": Catchup(policy, limit)}, up)


def test_catchup_none_runs_nothing_and_records_the_gap() -> None:
    assert plan("none") == [Due("p", None, Missed(5, h(11), h(15), "not run (catchup: none)"))]


def test_catchup_latest_runs_the_latest_and_records_the_rest() -> None:
    assert plan("latest") == [Due("p", h(15), Missed(4, h(11), h(14)))]


def test_catchup_all_runs_each_missed_firing_up_to_max_catchup() -> None:
    assert plan("all") == [Due("p", h(t)) for t in (11, 12, 13, 14, 15)]
    (first, *rest) = plan("all", limit=3)
    assert first == Due(
        "p", h(13), Missed(2, h(11), h(12), "running the latest 3 (catchup: all, max_catchup 3)")
    )
    assert rest == [Due("p", h(14)), Due("p", h(15))]


def test_a_firing_while_the_scheduler_was_up_runs_whatever_the_policy() -> None:
    # Up since 14:30 (busy, or asleep until 15:00): 15:00 is on time, 11:00-14:00 were missed.
    up = h(14) + dt.timedelta(minutes=30)
    assert plan("none", up_since=up) == [Due("p", h(15), Missed(4, h(11), h(14)))]
    assert plan("all", limit=2, up_since=up) == [
        Due(
            "p",
            h(13),
            Missed(2, h(11), h(12), "running the latest 2 (catchup: all, max_catchup 2)"),
        ),
        Due("p", h(14)),
        Due("p", h(15)),
    ]


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _scheduled(tmp_path: Path, name: str, cron: str, **fields: object) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    result = promote(tmp_path / "train_ok.ipynb", name=name, schedule=cron)
    save_spec(dataclasses.replace(load_spec(result.path), **fields), result.path)


def test_ticks_apply_the_policy_from_the_spec(tmp_path: Path) -> None:
    _scheduled(tmp_path, "none", "0 * * * *", catchup="none")
    _scheduled(tmp_path, "all", "0 * * * *", catchup="all", max_catchup=3)
    clock = Clock(T0)
    Scheduler(clock=clock).tick()
    clock.now = NOW
    scheduler = Scheduler(clock=clock)  # restarted after five hours down
    # The lock held: each firing that runs is logged 'skipped' at once, without a kernel.
    with pipeline_lock(scheduler.lock_dir, "all"):
        events = scheduler.tick()
    got = [(e["pipeline"], e["outcome"], e["at"]) for e in events]
    assert got == [
        ("all", "missed", h(11)),
        ("all", "skipped", h(13)),
        ("all", "skipped", h(14)),
        ("all", "skipped", h(15)),
        ("none", "missed", h(11)),
    ]
    store = mlops.default_tracker().store
    (row,) = store.schedule_log("none")
    assert row.message == (
        "5 firings missed between 2026-11-23T11:00:00+00:00 and 2026-11-23T15:00:00+00:00; "
        "not run (catchup: none)"
    )
    assert store.schedule_state()["none"] == h(15).timestamp()
    assert scheduler.tick() == []  # nothing new: no second gap row


def test_dst_days_fire_a_berlin_0230_once_each(tmp_path: Path) -> None:
    _scheduled(tmp_path, "berlin", "30 2 * * *", timezone="Europe/Berlin")
    clock = Clock(dt.datetime(2026, 3, 28, 12, tzinfo=UTC))
    scheduler = Scheduler(clock=clock)
    scheduler.tick()
    fired = []
    with pipeline_lock(scheduler.lock_dir, "berlin"):
        # Every ten minutes from Saturday noon to Monday noon (UTC), across the spring gap.
        while clock.now < dt.datetime(2026, 3, 30, 12, tzinfo=UTC):
            clock.now += dt.timedelta(minutes=10)
            fired += [e["at"] for e in scheduler.tick()]
        assert fired == [
            dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 03:00 CEST: 02:30 did not exist
            dt.datetime(2026, 3, 30, 0, 30, tzinfo=UTC),  # 02:30 CEST
        ]
        fired = []
        clock.now = dt.datetime(2026, 10, 24, 12, tzinfo=UTC)
        scheduler.resume("berlin")  # restart counting from here, nothing to catch up
        while clock.now < dt.datetime(2026, 10, 26, 12, tzinfo=UTC):
            clock.now += dt.timedelta(minutes=10)
            fired += [e["at"] for e in scheduler.tick()]
    assert fired == [
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST, and not again at 02:30 CET
        dt.datetime(2026, 10, 26, 1, 30, tzinfo=UTC),  # 02:30 CET
    ]
    log = mlops.default_tracker().store.schedule_log("berlin")
    assert {e.outcome for e in log} == {"skipped"}  # no gap, no double


def test_a_paused_pipeline_does_not_fire_and_resumes_without_catching_up(tmp_path: Path) -> None:
    _scheduled(tmp_path, "p", "0 * * * *")
    clock = Clock(T0)
    Scheduler(clock=clock).tick()
    Scheduler(clock=clock).pause("p")
    clock.now = NOW
    scheduler = Scheduler(clock=clock)  # the pause is in the store, not in the process
    assert scheduler.paused() == {"p"} and scheduler.tick() == []
    assert scheduler.next_fire() == {}
    scheduler.resume("p")
    assert scheduler.paused() == set() and scheduler.tick() == []  # 11:00-15:00 not run
    clock.now = h(16)
    with pipeline_lock(scheduler.lock_dir, "p"):
        assert [(e["outcome"], e["at"]) for e in scheduler.tick()] == [("skipped", h(16))]
    with pytest.raises(mlops.MLOpsError, match="Pipeline 'q' not found"):
        scheduler.pause("q")
