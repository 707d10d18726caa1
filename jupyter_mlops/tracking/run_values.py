"""The checks on what a run records: names of params, metrics and tags, tag values, and metric
values (any real number, NumPy and torch scalars included)."""

from __future__ import annotations

import numbers
from typing import Any

from ..exceptions import ValidationError

# The longest tag value, in characters: every backend stores and finds it by equality through an
# index (PostgreSQL's indexes the value's md5, since a btree entry holds at most ~2.7 kB).
MAX_TAG_VALUE = 1_000_000


def _check_key(kind: str, key: Any) -> str:
    if not isinstance(key, str) or not key or len(key) > 250:
        raise ValidationError(
            f"{kind} names must be non-empty strings of at most 250 characters, got {key!r}"
        )
    return key


def _check_tag_value(key: str, value: Any) -> str:
    text = str(value)
    if len(text) > MAX_TAG_VALUE:
        raise ValidationError(
            f"Tag {key!r} is {len(text):,} characters long; a tag value holds at most "
            f"{MAX_TAG_VALUE:,}: log a longer text as an artifact (log_bytes)"
        )
    return text


def _as_float(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        try:  # numpy 0-d arrays and scalars, torch scalars
            value = float(value)
        except (TypeError, ValueError):
            raise ValidationError(
                f"Metric {key!r} must be a number, got {type(value).__name__} {value!r}; "
                "log non-numeric results as params or tags"
            ) from None
    return float(value)
