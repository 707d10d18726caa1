"""Cron schedules read in a time zone, and the daylight-saving rule (see :class:`ZonedSchedule`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..exceptions import ValidationError
from .vixie import CronSchedule

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
