"""The embedded scheduler: pure due(), state that survives restarts, locks, real runs."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli import main
from jupyter_mlops.pipeline import CronSchedule, promote
from jupyter_mlops.pipeline.scheduler import Scheduler, due, pipeline_lock

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 23, 10, 2, tzinfo=UTC)
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_due_runs_the_latest_firing_and_reports_the_missed_ones() -> None:
    every5 = CronSchedule.parse("*/5 * * * *")
    hourly = CronSchedule.parse("@hourly")
    last = {"a": T0, "b": T0}
    assert due({"a": every5, "b": hourly}, last, T0 + dt.timedelta(minutes=2)) == []
    got = due({"a": every5, "b": hourly}, last, T0 + dt.timedelta(minutes=14))
    assert [d.pipeline for d in got] == ["a"]
    assert got[0].fire_at == dt.datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
    assert got[0].missed == (
        dt.datetime(2026, 11, 23, 10, 5, tzinfo=UTC),
        dt.datetime(2026, 11, 23, 10, 10, tzinfo=UTC),
    )
    assert due({"new": every5}, {}, T0) == []  # never seen: no backfill


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.mark.slow
def test_scheduler_runs_due_pipelines_once_and_survives_a_restart(tmp_path: Path) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    promote(tmp_path / "train_ok.ipynb", name="nightly", schedule="*/5 * * * *")
    promote(tmp_path / "train_ok.ipynb", name="manual")  # no schedule: never started
    clock = Clock(T0)
    assert Scheduler(clock=clock).tick() == []  # first sight: starts counting now
    clock.now = T0 + dt.timedelta(minutes=14)
    events = Scheduler(clock=clock).tick()
    assert [e["outcome"] for e in events] == ["missed", "missed", "exit 0"]
    run = mlops.get_run(events[-1]["run_id"])
    assert run.tags["scheduled_for"] == "2026-11-23T10:15:00+00:00"
    assert run.experiment == "nightly"
    assert Scheduler(clock=clock).tick() == []  # a restarted scheduler does not repeat it
    log = mlops.default_tracker().store.schedule_log("nightly")
    assert [e["outcome"] for e in log] == ["exit 0", "missed", "missed"]
    assert len(mlops.runs()) == 1


def test_a_pipeline_still_running_is_skipped_not_doubled(tmp_path: Path) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    promote(tmp_path / "train_ok.ipynb", name="busy", schedule="* * * * *")
    clock = Clock(T0)
    scheduler = Scheduler(clock=clock)
    scheduler.tick()
    clock.now = T0 + dt.timedelta(minutes=1)
    with pipeline_lock(scheduler.lock_dir, "busy") as held:
        assert held
        events = scheduler.tick()
    assert [e["outcome"] for e in events] == ["skipped"]
    assert mlops.runs().empty


def test_a_broken_pipeline_is_logged_and_the_scheduler_goes_on(tmp_path: Path, capsys) -> None:
    import nbformat

    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    promote(tmp_path / "train_ok.ipynb", name="changed", schedule="* * * * *")
    nb = nbformat.read(tmp_path / "train_ok.ipynb", as_version=4)
    nb.cells[1].source += "\nprint('edited')"
    nbformat.write(nb, tmp_path / "train_ok.ipynb")
    clock = Clock(T0)
    scheduler = Scheduler(clock=clock)
    scheduler.tick()
    clock.now = T0 + dt.timedelta(minutes=1)
    (event,) = scheduler.tick()
    assert event["outcome"] == "error" and "re-promote" in event["message"]
    assert main(["scheduler", "--status"]) == 0
    out = capsys.readouterr().out
    assert "next  changed" in out and "error" in out
    assert main(["scheduler", "--once"]) == 0  # the real clock is before T0: nothing due
    assert "nothing due" in capsys.readouterr().out
