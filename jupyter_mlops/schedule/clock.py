"""The scheduler's clock: real UTC time, or a fixed "now" for tests (``--now``,
``$JUPYTER_MLOPS_NOW``)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

from ..exceptions import ValidationError

UTC = dt.timezone.utc
NOW_ENV = "JUPYTER_MLOPS_NOW"


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def parse_now(text: str) -> dt.datetime:
    """A fixed "now" from ISO 8601 text; a time without an offset is read as UTC."""
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"Invalid time '{text}' for --now / ${NOW_ENV}: use ISO 8601, e.g. 2026-11-23T10:02:00Z"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def scheduler_clock(now: str | None = None) -> Callable[[], dt.datetime]:
    """The real UTC clock, or a fixed time from ``now`` or ``$JUPYTER_MLOPS_NOW`` (tests only)."""
    text = now if now is not None else os.environ.get(NOW_ENV)
    if not text:
        return utcnow
    fixed = parse_now(text)
    return lambda: fixed
