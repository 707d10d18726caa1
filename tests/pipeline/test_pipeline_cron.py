from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_mlops.cron import CronSchedule, format_duration, parse_duration
from jupyter_mlops.exceptions import ValidationError


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args)


def brute_next(sched: CronSchedule, start: dt.datetime) -> dt.datetime:
    when = start.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    while not sched.matches(when):
        when += dt.timedelta(minutes=1)
    return when


def brute_firings(sched: CronSchedule, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every firing in (start, end], minute by minute, from matches() alone."""
    when = start.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    out = []
    while when <= end:
        if sched.matches(when):
            out.append(when)
        when += dt.timedelta(minutes=1)
    return out


@pytest.mark.parametrize(
    ("expr", "start", "expected"),
    [
        ("*/15 * * * *", at(2024, 1, 1, 10, 7), at(2024, 1, 1, 10, 15)),
        ("0 3 * * *", at(2024, 1, 1, 3, 0), at(2024, 1, 2, 3, 0)),  # strictly after
        ("0 3 * * *", at(2024, 1, 1, 2, 59, 30), at(2024, 1, 1, 3, 0)),
        ("30 9 * * MON-FRI", at(2024, 1, 5, 10, 0), at(2024, 1, 8, 9, 30)),  # Fri -> Mon
        ("0 0 29 2 *", at(2023, 3, 1), at(2024, 2, 29)),  # leap day
        ("0 0 31 * *", at(2024, 4, 1), at(2024, 5, 31)),  # April has no 31st
        ("@monthly", at(2024, 1, 15, 12), at(2024, 2, 1)),
        ("@yearly", at(2024, 6, 1), at(2025, 1, 1)),
        ("@hourly", at(2024, 1, 1, 23, 30), at(2024, 1, 2, 0, 0)),
        ("@weekly", at(2024, 1, 3), at(2024, 1, 7)),  # Sunday
        ("0 12 * JAN,jul *", at(2024, 2, 1), at(2024, 7, 1, 12)),
        ("5/20 * * * *", at(2024, 1, 1, 0, 26), at(2024, 1, 1, 0, 45)),  # 5,25,45
        ("0 0 * * 7", at(2024, 1, 1), at(2024, 1, 7)),  # 7 is Sunday
        ("59 23 31 12 *", at(2024, 12, 31, 23, 59), at(2025, 12, 31, 23, 59)),
    ],
)
def test_next_after(expr: str, start: dt.datetime, expected: dt.datetime) -> None:
    sched = CronSchedule.parse(expr)
    assert sched.next_after(start) == expected
    assert sched.matches(expected)


def test_vixie_day_of_month_or_day_of_week() -> None:
    # Both restricted: the 13th OR any Friday.
    sched = CronSchedule.parse("0 0 13 * FRI")
    assert sched.matches(at(2024, 1, 13))  # a Saturday, but the 13th
    assert sched.matches(at(2024, 1, 5))  # a Friday, not the 13th
    assert not sched.matches(at(2024, 1, 6))
    # Day-of-week unrestricted: only the 13th.
    assert not CronSchedule.parse("0 0 13 * *").matches(at(2024, 1, 5))
    # A field starting with '*' counts as unrestricted even with a step (Vixie): AND semantics.
    stepped = CronSchedule.parse("0 0 */2 * MON")
    assert stepped.matches(at(2024, 1, 1))  # Monday the 1st
    assert not stepped.matches(at(2024, 1, 8))  # Monday the 8th (even)


@pytest.mark.parametrize(
    "expr", ["*/7 */5 * * *", "0 0 13 * FRI", "15 4 1-7 * MON", "0 9-17/2 * * 1-5"]
)
def test_next_after_agrees_with_brute_force(expr: str) -> None:
    sched = CronSchedule.parse(expr)
    when = at(2024, 2, 27, 13, 2)
    for _ in range(40):
        nxt = sched.next_after(when)
        assert nxt == brute_next(sched, when)
        when = nxt


def test_timezone_is_kept() -> None:
    tz = zoneinfo.ZoneInfo("Europe/Paris")
    nxt = CronSchedule.parse("0 3 * * *").next_after(dt.datetime(2024, 1, 1, 12, tzinfo=tz))
    assert nxt == dt.datetime(2024, 1, 2, 3, tzinfo=tz)
    assert nxt.tzinfo is tz


@pytest.mark.parametrize(
    ("expr", "when", "latest", "before"),
    [
        ("*/5 * * * *", at(2024, 1, 1, 10, 5), at(2024, 1, 1, 10, 5), at(2024, 1, 1, 10, 0)),
        ("*/5 * * * *", at(2024, 1, 1, 10, 7, 59), at(2024, 1, 1, 10, 5), at(2024, 1, 1, 10, 5)),
        ("0 3 * * *", at(2024, 3, 1, 2, 59), at(2024, 2, 29, 3), at(2024, 2, 29, 3)),
        ("0 0 29 2 *", at(2027, 6, 1), at(2024, 2, 29), at(2024, 2, 29)),  # leap day, 3 years back
        ("30 9 * * MON-FRI", at(2024, 1, 8, 9, 0), at(2024, 1, 5, 9, 30), at(2024, 1, 5, 9, 30)),
        # Vixie ANDs a day field starting with '*' (croniter alone would OR it: Monday the 8th).
        ("0 0 */2 * MON", at(2024, 1, 9), at(2024, 1, 1), at(2024, 1, 1)),
        # Both restricted, one of them every day: every day (croniter alone: Mondays only).
        ("0 0 1-31 * MON", at(2024, 1, 10, 12), at(2024, 1, 10), at(2024, 1, 10)),
    ],
)
def test_latest_at_or_before_and_previous_before(
    expr: str, when: dt.datetime, latest: dt.datetime, before: dt.datetime
) -> None:
    sched = CronSchedule.parse(expr)
    assert sched.latest_at_or_before(when) == latest
    assert sched.previous_before(when) == before
    assert sched.matches(latest)


def test_previous_firing_keeps_the_timezone() -> None:
    tz = zoneinfo.ZoneInfo("Europe/Paris")
    got = CronSchedule.parse("0 3 * * *").latest_at_or_before(dt.datetime(2024, 1, 2, 2, tzinfo=tz))
    assert got == dt.datetime(2024, 1, 1, 3, tzinfo=tz) and got.tzinfo is tz


# Days restricted or stepped, with and without the Vixie day-OR rule, against matches().
@settings(max_examples=60, deadline=None)
@given(
    minute=st.sampled_from(["*", "*/7", "0", "15,45", "5-20/5"]),
    hour=st.sampled_from(["*", "*/5", "3", "9-17/2", "0,23"]),
    dom=st.sampled_from(["*", "*/2", "13", "1-7", "28-31"]),
    dow=st.sampled_from(["*", "MON", "FRI", "1-5", "0,6"]),
    start_minutes=st.integers(0, 60 * 24 * 40),
    span_minutes=st.integers(0, 60 * 24 * 3),
)
def test_previous_and_count_agree_with_brute_force(
    minute: str, hour: str, dom: str, dow: str, start_minutes: int, span_minutes: int
) -> None:
    sched = CronSchedule.parse(f"{minute} {hour} {dom} * {dow}")
    start = at(2024, 1, 20) + dt.timedelta(minutes=start_minutes, seconds=17)
    end = start + dt.timedelta(minutes=span_minutes, seconds=11)
    firings = brute_firings(sched, start, end)
    assert sched.count_between(start, end) == len(firings)
    if firings:
        assert sched.latest_at_or_before(end) == firings[-1]
        assert sched.next_after(start) == firings[0]


def test_count_between_a_long_gap() -> None:
    # Three days of a every-minute schedule, and a year of a weekday one: counted, not walked.
    every_minute = CronSchedule.parse("* * * * *")
    assert every_minute.count_between(at(2024, 1, 1), at(2024, 1, 4)) == 3 * 24 * 60
    assert every_minute.count_between(at(2024, 1, 1, 0, 0, 30), at(2024, 1, 1, 0, 2, 59)) == 2
    assert every_minute.count_between(at(2024, 1, 4), at(2024, 1, 1)) == 0
    weekdays = CronSchedule.parse("30 9 * * MON-FRI")
    assert weekdays.count_between(at(2024, 1, 1), at(2025, 1, 1)) == 262  # weekdays of 2024


def test_times_between() -> None:
    sched = CronSchedule.parse("0 */6 * * *")
    times = sched.times_between(at(2024, 1, 1), at(2024, 1, 2))
    assert [t.hour for t in times] == [6, 12, 18, 0]
    assert len(sched.times_between(at(2024, 1, 1), at(2025, 1, 1), limit=5)) == 5


@pytest.mark.parametrize(
    ("expr", "needle"),
    [
        ("60 * * * *", "minute field has '60' out of range; allowed 0-59"),
        ("* 24 * * *", "hour field"),
        ("* * 0 * *", "day-of-month field has '0' out of range; allowed 1-31"),
        ("* * * 13 *", "month field"),
        ("* * * * 8", "day-of-week field"),
        ("* * * FOO *", "not a number or name; allowed 1-12 or JAN-DEC"),
        (
            "0 3 * * MO",
            "day-of-week field has 'MO', which is not a number or name; allowed 0-7 or SUN-SAT",
        ),
        ("*/0 * * * *", "step '0'"),
        ("5-1 * * * *", "running backwards"),
        ("* * * *", "it has 4 fields, not 5"),
        ("", "empty"),
        ("@reboot", "unknown alias"),
        ("0 0 30 2 *", "never runs"),
    ],
)
def test_invalid_expressions(expr: str, needle: str) -> None:
    with pytest.raises(ValidationError, match="cron expression|Cron expression") as info:
        CronSchedule.parse(expr)
    assert needle in str(info.value)


def test_error_says_how_to_write_cron() -> None:
    with pytest.raises(ValidationError) as info:
        CronSchedule.parse("0 3 * *")
    assert "minute hour day-of-month month day-of-week" in str(info.value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30m", 1800),
        ("2h", 7200),
        ("90s", 90),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("2d", 172800),
        ("1w", 604800),
        ("1.5h", 5400),
        ("500ms", 0.5),
        ("45", 45),
        (30, 30),
        (2.5, 2.5),
        ("2H", 7200),
    ],
)
def test_parse_duration(value: str | float, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["30x", "", "h", "1h30", "-5", -1, True, None, "1.2.3s", "nan"])
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValidationError, match="duration"):
        parse_duration(value)  # type: ignore[arg-type]


def test_format_duration() -> None:
    assert format_duration(5400) == "1h30m"
    assert format_duration(45) == "45s"
    assert format_duration(2 * 86400 + 3 * 3600 + 5) == "2d3h"
