"""Vixie cron: the five-field syntax parsed and checked, and firings found by croniter (see
the package docstring)."""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from ..exceptions import ValidationError

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
