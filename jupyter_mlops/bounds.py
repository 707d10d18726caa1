"""Types and bounds of what users type, shared by every front-end (REST, CLI, magics, widgets).

A front-end parses its input with these before its one core call, so a value out of range is a
:class:`ValidationError` (REST 400, CLI exit 2) whose one line names the field and the limit,
never an ``OverflowError``, ``RecursionError`` or ``OSError`` from deep inside the core:

- integers within 64 bits (model versions within 32, which the PostgreSQL column holds);
- offsets and limits of 0 or more, with a maximum;
- finite floats (no ``nan``, ``inf`` or ``1e400``);
- names that follow the name rule, short enough to be a file name;
- JSON bodies under a size and a nesting limit, checked before ``json.loads`` recurses, and a
  type for each field (:class:`Body`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .exceptions import ValidationError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# model_versions.version is an INTEGER column: 32 bits on PostgreSQL.
MAX_VERSION = 2**31 - 1
# Far more rows than a page shows, far less than what overflows SQLite's 64-bit LIMIT/OFFSET.
MAX_OFFSET = 10**9

# The name rule of pipelines (pipelines/NAME.yaml), monitors (monitors/NAME.yaml) and the runs
# and outputs named after them. 128 characters leave room under the usual 255-byte file-name
# limit for the suffixes the store adds (".yaml", "-YYYYmmdd-HHMMSS.ipynb", ...).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_NAME_LENGTH = 128
# Names that are not file names (model names, metric keys, run ids): only a length bound, and
# no control characters (a NUL byte is refused by every path and driver below).
MAX_KEY_LENGTH = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# What a person types as a runs filter or ordering (the query language bounds its structure
# too: see store/query.py).
MAX_WHERE_LENGTH = 4000
MAX_ORDER_LENGTH = 1000

MAX_BODY_BYTES = 1 << 20
MAX_JSON_DEPTH = 32
# Strings (skipped: a bracket inside one does not nest) and the brackets that nest.
_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_name(value: Any, field: str = "name", what: str = "pipeline") -> str:
    """``value`` if it is a valid pipeline/monitor name: the one name rule of the project."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{field} must be a {what} name (text), got {_short(value)}")
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"{field} is {len(value)} characters long; a {what} name has at most "
            f"{MAX_NAME_LENGTH} (it names a file)"
        )
    if not NAME_PATTERN.match(value):
        raise ValidationError(
            f"{field} {_short(value)} is not a valid {what} name; use letters, digits, '_', '-' "
            "and '.', starting with a letter or digit"
        )
    return value


def check_key(value: Any, field: str, limit: int = MAX_KEY_LENGTH) -> str:
    """``value`` if it is text of at most ``limit`` characters without control characters."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text, got {_short(value)}")
    if len(value) > limit:
        raise ValidationError(f"{field} is {len(value)} characters long; the limit is {limit}")
    if _CONTROL.search(value):
        raise ValidationError(f"{field} {_short(value)} contains a control character")
    return value


def check_int(value: Any, field: str, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int:
    """``value`` if it is an integer (not a bool, not a float) from ``lo`` to ``hi``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(f"{field} must be an integer from {lo} to {hi}, got {_short(value)}")
    if not lo <= value <= hi:
        raise ValidationError(f"{field} must be from {lo} to {hi}, got {_short(value)}")
    return value


def parse_int(text: str, field: str, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int:
    """The integer ``text`` spells, from ``lo`` to ``hi`` (``"1e20"`` and ``"5.0"`` refused)."""
    s = text.strip()
    # A bound on digits before int(): int() of 100,000 digits is slow, and Python refuses
    # more than 4,300 with a message about its own limit, not ours.
    if not re.fullmatch(r"[+-]?\d{1,25}", s):
        raise ValidationError(f"{field} must be an integer from {lo} to {hi}, got {_short(text)}")
    return check_int(int(s), field, lo, hi)


def check_float(value: Any, field: str, lo: float | None = None, hi: float | None = None) -> float:
    """``value`` as a finite float (ints too; not bools), within the bounds given."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{field} must be a number, got {_short(value)}")
    try:
        f = float(value)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise ValidationError(f"{field} must be a finite number, got {_short(value)}")
    if lo is not None and f < lo:
        raise ValidationError(f"{field} must be {lo} or more, got {_short(value)}")
    if hi is not None and f > hi:
        raise ValidationError(f"{field} must be {hi} or less, got {_short(value)}")
    return f


def parse_float(text: str, field: str, lo: float | None = None, hi: float | None = None) -> float:
    """The finite float ``text`` spells, within the bounds given."""
    try:
        value = float(text) if len(text) <= 100 else math.nan
    except ValueError:
        raise ValidationError(f"{field} must be a number, got {_short(text)}") from None
    return check_float(value, field, lo, hi)


def parse_json_body(raw: bytes | str, field: str = "request body") -> Any:
    """The JSON value ``raw`` holds, refused when over :data:`MAX_BODY_BYTES` or nested deeper
    than :data:`MAX_JSON_DEPTH`, or when it holds ``NaN``, ``Infinity`` or a number that
    overflows a float.

    The depth is counted by one scan of the text before parsing, because ``json.loads`` recurses
    once per level and a body nested a few thousand deep would raise ``RecursionError``."""
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationError(
            f"The {field} is {len(raw)} bytes; the limit is {MAX_BODY_BYTES} bytes"
        )
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ValidationError(f"The {field} must be UTF-8 JSON") from None
    depth = deepest = 0
    for m in _JSON_NESTING.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    if deepest > MAX_JSON_DEPTH:
        raise ValidationError(
            f"The {field} is nested {deepest} levels deep; the limit is {MAX_JSON_DEPTH}"
        )
    try:
        return json.loads(
            text, parse_constant=_no_constant, parse_float=_finite_float, parse_int=_bounded_int
        )
    except ValidationError as e:
        raise ValidationError(f"The {field} {e}") from None
    except (ValueError, RecursionError):
        raise ValidationError(f"The {field} must be JSON, e.g. {{}}") from None


def _no_constant(name: str) -> Any:
    raise ValidationError(f"holds {name}, which is not a JSON number; send a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValidationError(f"holds {text[:40]}, which overflows a float; send a finite number")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 25:  # far beyond 64 bits; int() of 4,300+ digits fails anyway
        raise ValidationError(f"holds an integer of {len(text)} digits; send a 64-bit integer")
    return int(text)


class Body:
    """The fields of a JSON object body, each read with its type; fields the endpoint does not
    know are refused, so a misspelt field is an error rather than silently ignored. A field
    given as ``null`` counts as absent."""

    def __init__(self, data: Any, fields: Iterable[str], what: str = "request body") -> None:
        if not isinstance(data, Mapping):
            raise ValidationError(f"The {what} must be a JSON object, e.g. {{}}")
        known = list(fields)
        unknown = [str(k) for k in data if k not in known]
        if unknown:
            allowed = ", ".join(known) or "none"
            raise ValidationError(
                f"Unknown field {_short(unknown[0])} in the {what}; fields: {allowed}"
            )
        self.data = dict(data)

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def _required(self, key: str, required: bool, example: str) -> Any:
        value = self.data.get(key)
        if value is None and required:
            raise ValidationError(f'"{key}" is required, e.g. {example}')
        return value

    def integer(
        self,
        key: str,
        lo: int = INT64_MIN,
        hi: int = INT64_MAX,
        *,
        required: bool = False,
    ) -> int | None:
        value = self._required(key, required, f'{{"{key}": {max(lo, 1)}}}')
        return None if value is None else check_int(value, f'"{key}"', lo, hi)

    def number(self, key: str, lo: float | None = None, *, default: float = 0.0) -> float:
        value = self.data.get(key)
        return default if value is None else check_float(value, f'"{key}"', lo)

    def text(
        self,
        key: str,
        limit: int = MAX_KEY_LENGTH,
        *,
        required: bool = False,
        prose: bool = False,
    ) -> str | None:
        """A text field; ``prose`` (a reason, a note) may hold line breaks and tabs, but no
        NUL, which PostgreSQL's text refuses."""
        value = self._required(key, required, f'{{"{key}": "..."}}')
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValidationError(f'"{key}" must be text, got {_short(value)}')
        if not prose:
            return check_key(value, f'"{key}"', limit)
        if len(value) > limit:
            raise ValidationError(f'"{key}" is {len(value)} characters long; the limit is {limit}')
        if "\x00" in value:
            raise ValidationError(f'"{key}" contains a NUL character')
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise ValidationError(f'"{key}" must be true or false, got {_short(value)}')
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValidationError(f'"{key}" must be an object of name: value, got {_short(value)}')
        return dict(value)


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, so a huge input never fills a message."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's digit limit
        text = f"<integer of about {value.bit_length() * 3 // 10} digits>"
    return text if len(text) <= limit else text[: limit - 1] + "…"
