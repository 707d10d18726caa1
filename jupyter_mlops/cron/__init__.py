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

from .durations import format_duration, parse_duration
from .vixie import ALIASES, CronSchedule
from .zoned import UTC, ZonedSchedule, load_zone, parse_schedule

__all__ = [
    "ALIASES",
    "UTC",
    "CronSchedule",
    "ZonedSchedule",
    "format_duration",
    "load_zone",
    "parse_duration",
    "parse_schedule",
]
