"""Cron schedules and durations: the five-field Vixie cron syntax, iterated by croniter.

Fields are ``minute hour day-of-month month day-of-week`` with ``*``, lists (``1,15``), ranges
(``1-5``), steps (``*/15``, ``10-50/20``, ``5/10``), names (``JAN``, ``MON``) and the aliases
``@hourly @daily @midnight @weekly @monthly @yearly @annually``. As in Vixie cron, when both
day-of-month and day-of-week are restricted (neither starts with ``*``) a day matching either runs.
Times are matched on the wall clock of the datetime given (naive or aware).

Parsing is ours, so that an error names the field, its allowed range and how to write cron, and
so that only this syntax is accepted (croniter also takes seconds, years, ``L``, ``#``, ``H``).
Finding the next and previous firing is croniter's, on a canonical form of the parsed fields:
croniter treats a stepped day field such as ``*/2`` as restricted (day-of-month OR day-of-week),
where Vixie cron ANDs it, so the canonical form and ``day_or`` carry the Vixie rule explicitly.
Counting the firings in a span is arithmetic per day (:meth:`CronSchedule.count_between`), so a
gap of days of a ``* * * * *`` schedule costs a few operations per day, not one per firing.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from .exceptions import ValidationError

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# (name, low, high, names mapped to numbers)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    ("day-of-week", 0, 7, {d: i for i, d in enumerate(_DAYS)}),
)
_HELP = "cron is 'minute hour day-of-month month day-of-week', e.g. '0 3 * * MON-FRI' or '@daily'"
_MINUTES_PER_DAY = 24 * 60


def _field_error(
    expr: str, field: str, low: int, high: int, names: dict[str, int], detail: str
) -> ValidationError:
    named = f" or {next(iter(names))}-{list(names)[-1]}" if names else ""
    return ValidationError(
        f"Invalid cron expression '{expr}': {field} field {detail}; allowed {low}-{high}{named}. "
        f"{_HELP}"
    )


def _parse_value(token: str, names: dict[str, int], err: Callable[[str], ValidationError]) -> int:
    if token.upper() in names:
        return names[token.upper()]
    if not token.isdigit():
        raise err(f"has '{token}', which is not a number" + (" or name" if names else ""))
    return int(token)


def _parse_field(expr: str, text: str, index: int) -> frozenset[int]:
    field, low, high, names = _FIELDS[index]

    def err(detail: str) -> ValidationError:
        return _field_error(expr, field, low, high, names, detail)

    values: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise err(f"has step '{step_text}'; a step is a positive whole number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _parse_value(a, names, err), _parse_value(b, names, err)
            if start > end:
                raise err(f"has the range '{base}' running backwards")
        else:
            start = _parse_value(base, names, err)
            # Vixie: "5/10" means "5-max/10"
            end = high if step_text else start
        if start < low or end > high:
            raise err(f"has '{item}' out of range")
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:  # 7 is another name for Sunday
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed cron expression; build one with :meth:`parse`."""

    expr: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    dom_restricted: bool
    dow_restricted: bool

    @classmethod
    def parse(cls, expr: str) -> CronSchedule:
        """Parse ``expr``; raises ValidationError naming the bad field and its allowed range."""
        if not isinstance(expr, str) or not expr.strip():
            raise ValidationError(f"Invalid cron expression {expr!r}: it is empty. {_HELP}")
        text = expr.strip()
        if text.startswith("@"):
            if text.lower() not in ALIASES:
                raise ValidationError(
                    f"Invalid cron expression '{expr}': unknown alias; use one of "
                    f"{', '.join(ALIASES)}"
                )
            text = ALIASES[text.lower()]
        parts = text.split()
        if len(parts) != 5:
            raise ValidationError(
                f"Invalid cron expression '{expr}': it has {len(parts)} fields, not 5. {_HELP}"
            )
        fields = [_parse_field(expr, p, i) for i, p in enumerate(parts)]
        sched = cls(
            expr=expr.strip(),
            minutes=tuple(sorted(fields[0])),
            hours=tuple(sorted(fields[1])),
            days=fields[2],
            months=fields[3],
            weekdays=fields[4],
            dom_restricted=not parts[2].startswith("*"),
            dow_restricted=not parts[4].startswith("*"),
        )
        sched._check_satisfiable()
        return sched

    def _check_satisfiable(self) -> None:
        if self.dow_restricted or not self.dom_restricted:
            return
        longest = max(calendar.monthrange(2024, m)[1] for m in self.months)  # 2024: leap year
        if min(self.days) > longest:
            raise ValidationError(
                f"Cron expression '{self.expr}' never runs: no month it names has day "
                f"{min(self.days)}; pick days that exist (1-{longest})"
            )

    def __str__(self) -> str:
        return self.expr

    def _day_matches(self, day: dt.date) -> bool:
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        if self.dom_restricted and self.dow_restricted:
            return dom or dow
        return dom and dow

    def matches(self, when: dt.datetime) -> bool:
        """Whether the schedule fires in the minute of ``when``."""
        return (
            when.minute in self.minutes
            and when.hour in self.hours
            and when.month in self.months
            and self._day_matches(when.date())
        )

    def _croniter_args(self) -> tuple[str, bool]:
        """The expression in a form croniter reads exactly as Vixie cron does, and its day_or."""
        day_or = self.dom_restricted and self.dow_restricted
        sets = [set(self.minutes), set(self.hours), self.days, self.months, self.weekdays]
        full = [len(s) == hi - lo + 1 for s, (_, lo, hi, _) in zip(sets, _FIELDS, strict=True)]
        full[4] = len(self.weekdays) == 7  # 0-7 names Sunday twice
        if day_or and (full[2] or full[4]):  # "every day OR Mondays" is every day
            full[2] = full[4] = True
        parts = [
            "*" if f else ",".join(map(str, sorted(s))) for s, f in zip(sets, full, strict=True)
        ]
        return " ".join(parts), day_or

    def _step(self, when: dt.datetime, forward: bool) -> dt.datetime:
        # croniter and its dateutil import cost ~30 ms: only the scheduler pays it, not promote.
        from croniter import CroniterError, croniter

        expr, day_or = self._croniter_args()
        # Naive wall clock in, tzinfo put back: a firing is a time on the clock (module docstring).
        naive = when.replace(tzinfo=None)
        try:
            it = croniter(expr, naive, day_or=day_or)
            found: dt.datetime = it.get_next(dt.datetime) if forward else it.get_prev(dt.datetime)
        except CroniterError as e:
            way = "after" if forward else "before"
            raise ValidationError(
                f"Cron expression '{self.expr}' never runs {way} {when.isoformat()}: {e}"
            ) from e
        return found.replace(tzinfo=when.tzinfo)

    def next_after(self, when: dt.datetime) -> dt.datetime:
        """The first firing time strictly after ``when`` (same tzinfo, seconds zeroed)."""
        return self._step(when, forward=True)

    def latest_at_or_before(self, when: dt.datetime) -> dt.datetime:
        """The last firing time at or before ``when`` (same tzinfo): the one due at ``when``."""
        # croniter's previous firing is strictly before its start: start just after when's minute.
        minute = when.replace(second=0, microsecond=0)
        return self._step(minute + dt.timedelta(minutes=1), forward=False)

    def previous_before(self, when: dt.datetime) -> dt.datetime:
        """The last firing time strictly before ``when`` (same tzinfo)."""
        return self._step(when, forward=False)

    def count_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """How many firing times fall in ``(start, end]``, without visiting them one by one.

        The hours and minutes of a cron schedule do not depend on the day, so each matching day
        contributes a count found by bisection; the work grows with the days in the span only.
        """
        a, b = start.replace(tzinfo=None), end.replace(tzinfo=None)
        if b <= a:
            return 0
        total = 0
        day = a.date()
        while day <= b.date():
            if day.month in self.months and self._day_matches(day):
                low = a.hour * 60 + a.minute if day == a.date() else -1
                high = b.hour * 60 + b.minute if day == b.date() else _MINUTES_PER_DAY - 1
                total += self._count_up_to(high) - self._count_up_to(low)
            day += dt.timedelta(days=1)
        return total

    def _count_up_to(self, minute_of_day: int) -> int:
        """Firing times within one matching day at or before ``minute_of_day`` (0-1439)."""
        if minute_of_day < 0:
            return 0
        hour, minute = divmod(minute_of_day, 60)
        i = bisect.bisect_left(self.hours, hour)
        count = i * len(self.minutes)
        if i < len(self.hours) and self.hours[i] == hour:
            count += bisect.bisect_right(self.minutes, minute)
        return count

    def times_between(
        self, start: dt.datetime, end: dt.datetime, limit: int = 1000
    ) -> list[dt.datetime]:
        """The first firing times in ``(start, end]``, at most ``limit`` of them (oldest first).

        For listing a short span; to find what is due use :meth:`latest_at_or_before` and
        :meth:`count_between`, which do not walk the span.
        """
        out: list[dt.datetime] = []
        when = start
        while len(out) < limit:
            when = self.next_after(when)
            if when > end:
                break
            out.append(when)
        return out


_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_DURATION_HELP = "use seconds or units ms, s, m, h, d, w, e.g. '90s', '30m', '2h', '1h30m', '2d'"


def parse_duration(value: str | float | int) -> float:
    """Seconds in ``value``: a number of seconds, or a string like '90s', '30m', '1h30m', '2d'."""
    if isinstance(value, bool):
        raise ValidationError(f"Invalid duration {value!r}; {_DURATION_HELP}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_duration_text(value)
    else:
        raise ValidationError(f"Invalid duration {value!r}; {_DURATION_HELP}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValidationError(f"Invalid duration {value!r}: must be zero or more; {_DURATION_HELP}")
    return seconds


def _parse_duration_text(value: str) -> float:
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    compact = text.replace(" ", "")
    parts = _DURATION_PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts).lower() != compact.lower():
        raise ValidationError(f"Invalid duration '{value}'; {_DURATION_HELP}")
    return sum(float(n) * _DURATION_UNITS[u.lower()] for n, u in parts)


def format_duration(seconds: float) -> str:
    """A short human form such as '1h30m', '45s' or '2d3h' (used in messages and tables)."""
    if seconds < 60:
        return f"{seconds:.3g}s"
    total = round(seconds)
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out[:2])


# --- time zones -----------------------------------------------------------------------------

UTC = dt.timezone.utc
# Longer than any daylight-saving shift (2 h at most, e.g. former double summer time): a firing
# whose instant is after some instant has a wall time no earlier than this before its wall time.
_SHIFT = dt.timedelta(hours=3)


def load_zone(name: str) -> dt.tzinfo:
    """The IANA zone ``name`` (e.g. 'Europe/Berlin'); 'UTC' is UTC."""
    if name.upper() in ("UTC", "Z", "ETC/UTC"):
        return UTC
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"Unknown time zone '{name}'; use an IANA name such as Europe/Berlin, "
            "America/New_York or UTC (pip install tzdata if the system has no zone database)"
        ) from None


def parse_schedule(v: object) -> tuple[str | None, str | None]:
    """A spec's ``schedule:`` field (a pipeline's or a monitor's) as (cron, time zone):
    ``'0 3 * * *'`` (UTC) or ``{cron: '0 3 * * *', timezone: Europe/Berlin}``. Raises ValueError
    (a ValidationError for a bad cron or zone)."""
    if v is None:
        return None, None
    if isinstance(v, Mapping):
        unknown = set(v) - {"cron", "timezone"}
        if unknown or "cron" not in v:
            raise ValueError(
                f"expected a cron string or {{cron: '0 3 * * *', timezone: Europe/Berlin}}, "
                f"got {dict(v)!r}"
            )
        zone = v.get("timezone")
        if zone is not None:
            if not isinstance(zone, str):
                raise ValueError(f"timezone {zone!r} must be an IANA name such as Europe/Berlin")
            load_zone(zone)
        return CronSchedule.parse(str(v["cron"])).expr, zone or None
    return CronSchedule.parse(v if isinstance(v, str) else str(v)).expr, None


@dataclass(frozen=True)
class ZonedSchedule:
    """A cron schedule read on the wall clock of a time zone; firings are UTC instants.

    Daylight-saving rule (each matching wall-clock time fires exactly once):
    - a wall time that does not exist (skipped when clocks go forward) fires at the first instant
      after the gap: a daily 02:30 Europe/Berlin fires at 03:00 CEST on the spring-forward day,
      and several wall times in one gap (``*/15``) fire once, together;
    - a wall time that happens twice (clocks go back) fires at its first occurrence only: a daily
      02:30 fires at 02:30 CEST, not again at 02:30 CET. Sub-hourly schedules therefore pause for
      the repeated hour; use UTC for schedules that must keep a fixed interval.
    """

    cron: CronSchedule
    timezone: str = "UTC"

    @classmethod
    def parse(cls, expr: str, timezone: str | None = None) -> ZonedSchedule:
        tz = timezone or "UTC"
        load_zone(tz)
        return cls(CronSchedule.parse(expr), tz)

    @property
    def expr(self) -> str:
        return self.cron.expr

    @property
    def tz(self) -> dt.tzinfo:
        return load_zone(self.timezone)

    @property
    def is_utc(self) -> bool:
        return self.tz is UTC

    def __str__(self) -> str:
        return self.cron.expr if self.is_utc else f"{self.cron.expr} ({self.timezone})"

    def instant(self, wall: dt.datetime) -> dt.datetime:
        """The UTC instant a matching naive wall time fires at (the rule in the class doc)."""
        tz = self.tz
        first = wall.replace(tzinfo=tz, fold=0)
        back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if back == wall:  # exists (fold 0 is the first of two occurrences)
            return first.astimezone(UTC)
        # In a gap: fold=1 reads it with the offset before the change (an instant before the
        # gap), fold=0 with the offset after (an instant after it). The gap ends at the first
        # whole minute between them whose wall time is past ``wall``: found by bisection.
        low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
        high = first.astimezone(UTC)
        low, high = min(low, high), max(low, high)
        minute = dt.timedelta(minutes=1)
        while high - low > minute:
            mid = low + ((high - low) // minute // 2) * minute
            if mid.astimezone(tz).replace(tzinfo=None) > wall:
                high = mid
            else:
                low = mid
        return high

    def _walk(self, start: dt.datetime, forward: bool) -> Iterator[dt.datetime]:
        """Instants of successive matching wall times from the naive wall time ``start``."""
        from croniter import croniter

        expr, day_or = self.cron._croniter_args()
        it = croniter(expr, start, day_or=day_or)
        while True:
            wall = it.get_next(dt.datetime) if forward else it.get_prev(dt.datetime)
            yield self.instant(wall)

    def _wall(self, when: dt.datetime) -> dt.datetime:
        return when.astimezone(self.tz).replace(tzinfo=None, second=0, microsecond=0)

    def next_after(self, when: dt.datetime) -> dt.datetime:
        """The first firing instant (UTC) strictly after ``when`` (aware)."""
        if self.is_utc:
            return self.cron.next_after(when.astimezone(UTC))
        for instant in self._walk(self._wall(when) - _SHIFT, forward=True):
            if instant > when:
                return instant
        raise AssertionError("unreachable")  # pragma: no cover

    def latest_at_or_before(self, when: dt.datetime) -> dt.datetime:
        """The last firing instant (UTC) at or before ``when``: the one due at ``when``."""
        if self.is_utc:
            return self.cron.latest_at_or_before(when.astimezone(UTC))
        for instant in self._walk(self._wall(when) + _SHIFT, forward=False):
            if instant <= when:
                return instant
        raise AssertionError("unreachable")  # pragma: no cover

    def previous_before(self, when: dt.datetime) -> dt.datetime:
        """The last firing instant (UTC) strictly before ``when``."""
        if self.is_utc:
            return self.cron.previous_before(when.astimezone(UTC))
        for instant in self._walk(self._wall(when) + _SHIFT, forward=False):
            if instant < when:
                return instant
        raise AssertionError("unreachable")  # pragma: no cover

    def latest(self, when: dt.datetime, count: int) -> list[dt.datetime]:
        """Up to ``count`` firing instants at or before ``when``, oldest first."""
        out: list[dt.datetime] = []
        if count <= 0:
            return out
        out.append(self.latest_at_or_before(when))
        while len(out) < count:
            out.append(self.previous_before(out[-1]))
        return out[::-1]

    def upcoming(self, when: dt.datetime, count: int) -> list[dt.datetime]:
        """The next ``count`` firing instants strictly after ``when``."""
        out: list[dt.datetime] = []
        while len(out) < count:
            when = self.next_after(when)
            out.append(when)
        return out

    def count_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """How many firing instants fall in ``(start, end]``.

        Days without a clock change are counted by the wall-clock arithmetic of
        :meth:`CronSchedule.count_between`; days around a change are walked firing by firing.
        """
        if self.is_utc:
            return self.cron.count_between(start.astimezone(UTC), end.astimezone(UTC))
        if end <= start:
            return 0
        ws, we = self._wall(start), self._wall(end)
        total, day, seg_start = 0, ws.date(), ws
        changed: set[dt.datetime] = set()
        while day <= we.date():
            if self._changes_near(day):
                midnight = dt.datetime.combine(day, dt.time())
                if seg_start < midnight:  # the plain days before this one
                    total += self.cron.count_between(seg_start, midnight - dt.timedelta(minutes=1))
                changed.update(self._instants_on(day))
                seg_start = midnight + dt.timedelta(days=1) - dt.timedelta(minutes=1)
            day += dt.timedelta(days=1)
        if seg_start < we:
            total += self.cron.count_between(seg_start, we)
        return total + sum(1 for t in changed if start < t <= end)

    def _changes_near(self, day: dt.date) -> bool:
        tz = self.tz
        offsets = {
            dt.datetime.combine(day + dt.timedelta(days=d), dt.time(), tz).utcoffset()
            for d in (-1, 0, 1, 2)
        }
        return len(offsets) > 1

    def _instants_on(self, day: dt.date) -> set[dt.datetime]:
        start = dt.datetime.combine(day, dt.time()) - dt.timedelta(minutes=1)
        end = dt.datetime.combine(day, dt.time(23, 59))
        return {self.instant(w) for w in self.cron.times_between(start, end, limit=24 * 60)}
