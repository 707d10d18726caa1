"""Durations as users write them (``90s``, ``30m``, ``1h30m``, ``2d``) and as they are shown."""

from __future__ import annotations

import math
import re

from ..exceptions import ValidationError

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
