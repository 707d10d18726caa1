"""Schedules in a time zone: daylight-saving days neither skip nor double a firing."""

from __future__ import annotations

import datetime as dt

import pytest

from jupyter_mlops.cron import ZonedSchedule
from jupyter_mlops.exceptions import ValidationError

UTC = dt.timezone.utc


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_spring_forward_runs_a_daily_0230_once_at_0300_local() -> None:
    # 2026-03-29: Berlin clocks jump from 02:00 CET to 03:00 CEST; 02:30 does not exist.
    daily = ZonedSchedule.parse("30 2 * * *", "Europe/Berlin")
    firings = daily.upcoming(utc(2026, 3, 27, 12), 4)
    assert firings == [
        utc(2026, 3, 28, 1, 30),  # 02:30 CET
        utc(2026, 3, 29, 1, 0),  # 03:00 CEST: the first instant after the gap
        utc(2026, 3, 30, 0, 30),  # 02:30 CEST
        utc(2026, 3, 31, 0, 30),
    ]
    assert daily.count_between(utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)) == 1
    assert daily.latest_at_or_before(utc(2026, 3, 29, 1, 0, 30)) == utc(2026, 3, 29, 1, 0)
    assert daily.latest_at_or_before(utc(2026, 3, 29, 0, 59)) == utc(2026, 3, 28, 1, 30)


def test_fall_back_runs_a_daily_0230_once_at_its_first_occurrence() -> None:
    # 2026-10-25: Berlin clocks go back from 03:00 CEST to 02:00 CET; 02:30 happens twice.
    daily = ZonedSchedule.parse("30 2 * * *", "Europe/Berlin")
    firings = daily.upcoming(utc(2026, 10, 24, 12), 3)
    assert firings == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30), utc(2026, 10, 27, 1, 30)]
    # From inside the repeated hour (02:10 CET, after the first 02:30): not again that day.
    assert daily.next_after(utc(2026, 10, 25, 1, 10)) == utc(2026, 10, 26, 1, 30)
    assert daily.count_between(utc(2026, 10, 24, 12), utc(2026, 10, 25, 12)) == 1
    assert daily.latest_at_or_before(utc(2026, 10, 25, 1, 45)) == utc(2026, 10, 25, 0, 30)


def test_sub_hourly_firings_in_a_gap_fire_once_together() -> None:
    quarter = ZonedSchedule.parse("*/15 * * * *", "Europe/Berlin")
    assert quarter.upcoming(utc(2026, 3, 29, 0, 40), 3) == [
        utc(2026, 3, 29, 0, 45),  # 01:45 CET
        utc(2026, 3, 29, 1, 0),  # 02:00-02:45 do not exist, 03:00 CEST: one firing
        utc(2026, 3, 29, 1, 15),
    ]
    # 24 real hours across the gap: 96 distinct firings, as on any day.
    assert quarter.count_between(utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)) == 96
    # Across the repeated hour each wall time fires once: 02:45 CEST, then 03:00 CET.
    assert quarter.upcoming(utc(2026, 10, 25, 0, 40), 2) == [
        utc(2026, 10, 25, 0, 45),
        utc(2026, 10, 25, 2, 0),
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (utc(2026, 3, 20), utc(2026, 4, 5)),
        (utc(2026, 3, 28, 23, 59), utc(2026, 3, 29, 1, 1)),
        (utc(2026, 10, 25, 0, 15), utc(2026, 10, 25, 2, 31)),
        (utc(2026, 10, 25, 1, 10), utc(2026, 11, 2)),
    ],
)
def test_counting_agrees_with_walking(start: dt.datetime, end: dt.datetime) -> None:
    for expr in ("30 2 * * *", "*/20 * * * *", "0 1-3 * * SUN"):
        sched = ZonedSchedule.parse(expr, "Europe/Berlin")
        walked, when = 0, start
        while (when := sched.next_after(when)) <= end:
            walked += 1
        assert sched.count_between(start, end) == walked, expr


def test_utc_is_the_default_and_an_unknown_zone_is_one_clear_error() -> None:
    plain = ZonedSchedule.parse("0 3 * * *")
    assert plain.is_utc and plain.next_after(utc(2026, 3, 29)) == utc(2026, 3, 29, 3)
    with pytest.raises(ValidationError, match="Unknown time zone 'Europe/Berln'; use an IANA"):
        ZonedSchedule.parse("0 3 * * *", "Europe/Berln")
