"""How times read in the text front-ends (the CLI, ``%mlops``, the widgets): one local,
ISO-like form, ``2026-12-07 06:00:22``. JSON keeps what ``to_dict`` gives (numbers, ISO UTC).

Values the store keeps as epoch seconds (a tag such as ``reproduced_at``, a param named
``…_time``) are shown as times when their key names a time and the number is a plausible
moment: a ``fit_time`` of 12.5 s stays a number.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .codec import epoch, utc

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Keys that name a moment: reproduced_at, time, start_time, created, updated, started, ended...
_TIME_KEY = re.compile(r"(?:^|[_.\-])(?:at|time|timestamp|created|updated|started|ended)$")
# Epoch seconds between 1973 and 2286: outside that, a number under a time-like key is a
# duration or a count, not a moment.
_EPOCH_RANGE = (1e8, 1e10)


def display_time(value: float | dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """Epoch seconds or a datetime as ``YYYY-MM-DD HH:MM:SS`` in ``tz`` (default: local time;
    a naive datetime is read as UTC, the store's convention)."""
    # pandas' Timestamp is a datetime too (its astimezone(None) is UTC: go through seconds)
    seconds = epoch(value) if isinstance(value, dt.datetime) else float(value)
    return utc(seconds).astimezone(tz).strftime(TIME_FORMAT)


def is_time_key(key: str) -> bool:
    return bool(_TIME_KEY.search(key.lower()))


def as_time(key: str, value: Any, tz: dt.tzinfo | None = None) -> str | None:
    """``value`` shown as a time when ``key`` names one and it holds epoch seconds (a number
    or a numeric string, as tags are); else None, so the caller shows it as it is."""
    if isinstance(value, bool) or not is_time_key(key):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if not _EPOCH_RANGE[0] <= seconds <= _EPOCH_RANGE[1]:
        return None
    return display_time(seconds, tz)
