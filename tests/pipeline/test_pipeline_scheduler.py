"""The embedded scheduler: pure due(), state that survives restarts, locks, real runs."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import EXIT_USAGE, main
from jupyter_mlops.pipeline import CronSchedule, promote
from jupyter_mlops.schedule.scheduler import NOW_ENV, Missed, Scheduler, due, pipeline_lock

UTC = dt.timezone.utc
# Every test injects "now" (a Clock, --now or $JUPYTER_MLOPS_NOW): none depends on the real date.
T0 = dt.datetime(2026, 11, 23, 10, 2, tzinfo=UTC)
MINUTE, DAY = dt.timedelta(minutes=1), dt.timedelta(days=1)
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_due_runs_the_latest_firing_and_reports_the_missed_ones() -> None:
    every5 = CronSchedule.parse("*/5 * * * *")
    hourly = CronSchedule.parse("@hourly")
    last = {"a": T0, "b": T0}
    assert due({"a": every5, "b": hourly}, last, T0 + dt.timedelta(minutes=2)) == []
    got = due({"a": every5, "b": hourly}, last, T0 + dt.timedelta(minutes=14))
    assert [d.pipeline for d in got] == ["a"]
    assert got[0].fire_at == dt.datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
    assert got[0].missed == Missed(
        2,
        dt.datetime(2026, 11, 23, 10, 5, tzinfo=UTC),
        dt.datetime(2026, 11, 23, 10, 10, tzinfo=UTC),
    )
    (one,) = due({"a": every5}, last, T0 + 8 * MINUTE)
    assert one.missed and one.missed.describe() == (
        "1 firing missed at 2026-11-23T10:05:00+00:00; running the latest"
    )
    assert due({"new": every5}, {}, T0) == []  # never seen: no backfill
    assert due({"a": every5}, {"a": T0}, T0 + 2 * MINUTE + 59 * dt.timedelta(seconds=1)) == []


def test_after_three_days_down_the_latest_firing_runs_and_the_gap_is_one_summary() -> None:
    # The old due() walked at most 1,000 firings from the start of the gap and ran the last of
    # those: a firing of almost three days ago, with 999 missed rows.
    every_minute = CronSchedule.parse("* * * * *")
    now = T0 + 3 * DAY + dt.timedelta(seconds=42)
    (got,) = due({"a": every_minute}, {"a": T0}, now)
    assert got.fire_at == T0 + 3 * DAY  # the firing at or just before now
    assert got.missed == Missed(3 * 24 * 60 - 1, T0 + MINUTE, T0 + 3 * DAY - MINUTE)
    assert got.missed.describe() == (
        "4,319 firings missed between 2026-11-23T10:03:00+00:00 and "
        "2026-11-26T10:01:00+00:00; running the latest"
    )
    weekdays = CronSchedule.parse("30 9 * * MON-FRI")  # 2026-11-23 is a Monday
    (got,) = due({"w": weekdays}, {"w": T0}, T0 + 14 * DAY)
    assert got.fire_at == dt.datetime(2026, 12, 7, 9, 30, tzinfo=UTC)  # Monday, 10:02 is later
    assert got.missed == Missed(  # the weekdays in between: Tue 24th to Fri 4th
        9, dt.datetime(2026, 11, 24, 9, 30, tzinfo=UTC), dt.datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    )
    assert got.missed.describe().startswith("9 firings missed between 2026-11-24T09:30:00+00:00")
    (got,) = due({"w": weekdays}, {"w": T0}, T0 + DAY)
    assert got.missed is None  # the one firing in the gap runs; nothing missed


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
    assert [e["outcome"] for e in events] == ["missed", "passed"]
    assert events[0]["count"] == 2
    run = mlops.get_run(events[-1]["run_id"])
    assert run.tags["scheduled_for"] == "2026-11-23T10:15:00+00:00"
    assert run.experiment == "nightly"
    assert Scheduler(clock=clock).tick() == []  # a restarted scheduler does not repeat it
    log = mlops.default_tracker().store.schedule_log("nightly")
    assert [e.outcome for e in log] == ["passed", "missed"]
    assert log[1].message.startswith("2 firings missed between 2026-11-23T10:05:00+00:00 and")
    assert len(mlops.runs()) == 1


def test_a_tick_after_three_days_down_writes_one_gap_row(tmp_path: Path) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    promote(tmp_path / "train_ok.ipynb", name="minutely", schedule="* * * * *")
    clock = Clock(T0)
    scheduler = Scheduler(clock=clock)
    scheduler.tick()
    clock.now = T0 + 3 * DAY + dt.timedelta(seconds=42)
    # Held lock: the latest firing is skipped, so no kernel starts and only the bookkeeping shows.
    with pipeline_lock(scheduler.lock_dir, "minutely") as held:
        assert held
        events = scheduler.tick()
    assert [(e["outcome"], e["at"]) for e in events] == [
        ("missed", T0 + MINUTE),
        ("skipped", T0 + 3 * DAY),
    ]
    assert events[0]["count"] == 4319 and events[0]["until"] == T0 + 3 * DAY - MINUTE
    store = mlops.default_tracker().store
    log = store.schedule_log("minutely", limit=10_000)
    assert [e.outcome for e in log] == ["skipped", "missed"]  # one row for the whole gap
    assert log[1].scheduled_for == T0 + MINUTE
    assert log[1].message.startswith("4,319 firings missed between")
    assert store.schedule_state()["minutely"] == (T0 + 3 * DAY).timestamp()
    assert scheduler.tick() == []  # the same minute again: nothing due, nothing logged
    assert len(store.schedule_log("minutely", limit=10_000)) == 2


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
    clock.now = T0 + MINUTE
    (event,) = scheduler.tick()
    assert event["outcome"] == "error" and "re-promote" in event["message"]
    now = (T0 + MINUTE).isoformat()
    assert main(["scheduler", "--status", "--now", now]) == 0
    out = capsys.readouterr().out
    assert "next  changed                  2026-11-23T10:04:00+00:00" in out and "error" in out
    assert main(["scheduler", "--once", "--now", now]) == 0  # already ran at that minute
    assert "nothing due" in capsys.readouterr().out


def test_the_cli_clock_comes_from_the_environment(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat

    # Promoted, then edited: each firing ends in an error at once, without starting a kernel.
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    promote(tmp_path / "train_ok.ipynb", name="changed", schedule="* * * * *")
    nb = nbformat.read(tmp_path / "train_ok.ipynb", as_version=4)
    nb.cells[1].source += "\nprint('edited')"
    nbformat.write(nb, tmp_path / "train_ok.ipynb")
    monkeypatch.setenv(NOW_ENV, "2026-11-23T10:02:30Z")
    assert main(["scheduler", "--once"]) == 0  # first sight: counting starts now
    assert "nothing due" in capsys.readouterr().out
    monkeypatch.setenv(NOW_ENV, "2026-11-26T10:02:10")  # three days later; no offset: UTC
    assert main(["scheduler", "--once"]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first == (
        "changed: 4,319 firings missed between 2026-11-23T10:03:00+00:00 and "
        "2026-11-26T10:01:00+00:00; running the latest"
    )
    assert second.startswith("changed: error")
    assert main(["scheduler", "--once", "--now", "2026-11-26T10:03:00Z"]) == 0  # --now wins
    assert capsys.readouterr().out.startswith("changed: error")  # no gap: nothing missed
    monkeypatch.setenv(NOW_ENV, "next tuesday")
    assert main(["scheduler", "--once"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("jupyter-mlops: error: Invalid time 'next tuesday'") and "\n" not in err
