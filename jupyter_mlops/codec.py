"""The one JSON codec: records to JSON values (:func:`to_jsonable`), JSON values back to records
(:func:`from_jsonable`), and the one form of a time (:func:`iso_time`, :func:`parse_time`).

Records (the frozen dataclasses and ``str`` enums of :mod:`jupyter_mlops.entities` and the
values above it) are encoded and decoded by msgspec, from their field names and annotations;
the entities write no ``to_dict``. A report whose JSON is not its fields (derived values, a
YAML or versioned file form) keeps a ``to_dict`` saying why, and :func:`to_jsonable` uses it.
Plain values (params, metrics, gate observations) are walked here instead, because msgspec
costs ~20 ms to import and ``%%track`` records plain values on every cell; msgspec is imported
only when a record is met.

Time is an aware UTC ``datetime`` inside, and ISO-8601 with milliseconds in every JSON
(``2026-11-23T10:02:00.000+00:00``); the store keeps epoch seconds, converted at its boundary
with :func:`utc` and :func:`epoch`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import os
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, overload

from .exceptions import ValidationError

UTC = dt.timezone.utc
T = TypeVar("T")
NonFinite = Literal["keep", "null", "text"]


@overload
def utc(ts: float) -> dt.datetime: ...
@overload
def utc(ts: float | None) -> dt.datetime | None: ...


def utc(ts: float | None) -> dt.datetime | None:
    """Epoch seconds (as the store keeps them) as an aware UTC datetime."""
    return None if ts is None else dt.datetime.fromtimestamp(ts, UTC)


@overload
def epoch(when: dt.datetime | float) -> float: ...
@overload
def epoch(when: dt.datetime | float | None) -> float | None: ...


def epoch(when: dt.datetime | float | None) -> float | None:
    """An aware datetime (naive: taken as UTC) as epoch seconds; numbers pass through."""
    if when is None or isinstance(when, (int, float)):
        return when
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def to_microsecond(ts: float) -> float:
    """Epoch seconds as a datetime holds them (rounded to the microsecond): a bound compared in
    SQL with times written from records must be rounded the same way, or a record written at
    ``ts`` can miss a query for "at or after ``ts``"."""
    return dt.datetime.fromtimestamp(ts, UTC).timestamp()


def iso_time(when: dt.datetime | float | None) -> str | None:
    """The one JSON form of a time: ISO-8601 in UTC with milliseconds (epoch seconds accepted)."""
    if when is None:
        return None
    if isinstance(when, (int, float)):
        when = dt.datetime.fromtimestamp(when, UTC)
    elif when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


@overload
def parse_time(value: dt.datetime | float | str) -> dt.datetime: ...
@overload
def parse_time(value: dt.datetime | float | str | None) -> dt.datetime | None: ...


def parse_time(value: dt.datetime | float | str | None) -> dt.datetime | None:
    """ISO-8601 (``Z`` or an offset; naive is UTC) or epoch seconds as an aware UTC datetime.

    Raises ValueError for text that is neither (front-ends turn it into a ValidationError)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, UTC)
    else:
        text = value.strip()
        try:
            return dt.datetime.fromtimestamp(float(text), UTC)
        except ValueError:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_moment(text: str, what: str) -> float:
    """A time given by a user (``--now``, ``?now=``) as epoch seconds: ISO-8601, or epoch
    seconds as before. Raises ValidationError saying both forms."""
    try:
        seconds = parse_time(str(text)[:100]).timestamp()
    except (ValueError, OverflowError, OSError):
        seconds = -1.0
    if not seconds >= 0:
        raise ValidationError(
            f"{what} {text!r:.60} must be an ISO-8601 time or epoch seconds (0 or more), e.g. "
            "2026-11-23T10:00:00Z"
        )
    return seconds


def _is_record(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _builtins(value: Any, fallback: Callable[[Any], Any]) -> Any:
    """A record as builtins by msgspec; times stay datetimes for the walk to format once."""
    import msgspec  # lazily: see the module docstring

    def hook(obj: Any) -> Any:
        plain = _plain(obj)
        return fallback(obj) if plain is _UNKNOWN else plain

    return msgspec.to_builtins(
        value, builtin_types=(dt.datetime, dt.date), str_keys=True, enc_hook=hook
    )


_UNKNOWN = object()


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays, paths and other date-likes as builtins; else ``_UNKNOWN``."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 1) == 0:  # NumPy scalars and 0-d arrays
        try:
            return item()
        except (TypeError, ValueError):
            return _UNKNOWN
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and hasattr(value, "ndim"):  # NumPy arrays, pandas Index/Series values
        return tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if callable(getattr(value, "isoformat", None)):  # pandas Timestamp, time
        return value.isoformat()
    return _UNKNOWN


def to_jsonable(
    value: Any,
    *,
    non_finite: NonFinite = "keep",
    fallback: Callable[[Any], Any] = repr,
) -> Any:
    """``value`` as plain JSON values: records (dataclasses, enums) their fields by msgspec,
    containers lists and string-keyed dicts, NumPy scalars Python numbers, times
    :func:`iso_time`, paths strings, anything else ``fallback(value)``.

    ``non_finite`` says what NaN and infinities become: kept as floats (the store's JSON
    allows them, so a NaN param round-trips), ``None`` (strict JSON for scripts; in a runs
    frame NaN means "no value") or their text (``"nan"``, for a gate that observed one).
    The one JSON encoder of the package: the store, the REST API and the CLI use it."""
    if value is None or type(value) in (bool, int, str):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, non_finite=non_finite, fallback=fallback)
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value) or non_finite == "keep":
            return float(value)
        return None if non_finite == "null" else str(value)
    if isinstance(value, Mapping):
        return {
            str(k): to_jsonable(v, non_finite=non_finite, fallback=fallback)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, non_finite=non_finite, fallback=fallback) for v in value]
    if isinstance(value, dt.datetime):
        return iso_time(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if _is_record(value):
        # A record whose JSON is not its fields (derived values, another shape) says so with a
        # ``to_dict``: reports and specs above the entities; entities have none.
        custom = getattr(value, "to_dict", None)
        plain = custom() if callable(custom) else _builtins(value, fallback)
        return to_jsonable(plain, non_finite=non_finite, fallback=fallback)
    plain = _plain(value)
    if plain is _UNKNOWN:
        return fallback(value)
    return to_jsonable(plain, non_finite=non_finite, fallback=fallback)


def from_jsonable(data: Any, type_: type[T]) -> T:
    """JSON values (as :func:`to_jsonable` or an older version wrote them) as a ``type_``
    record: ISO or epoch times become aware datetimes, lists tuples, strings enums.

    Raises ``msgspec.ValidationError`` (a ValueError) naming the field that does not fit."""
    import msgspec

    return msgspec.convert(data, type_, strict=False)


def dumps(
    value: Any,
    *,
    non_finite: NonFinite = "keep",
    indent: int | None = None,
    sort_keys: bool = False,
    separators: tuple[str, str] | None = None,
) -> str:
    """``value`` as JSON text through :func:`to_jsonable` (unknown objects as ``str``): what the
    CLI's ``--json``, webhooks and the journal write."""
    import json

    clean = to_jsonable(value, non_finite=non_finite, fallback=str)
    return json.dumps(clean, indent=indent, sort_keys=sort_keys, separators=separators)
