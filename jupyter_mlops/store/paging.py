"""Page cursors of run listings: opaque to the client, checked when they come back."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ..bounds import MAX_OFFSET, check_float, check_int
from ..exceptions import ValidationError


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque page cursor for ``position`` (see ``decode_cursor``)."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, tag: str) -> dict[str, Any]:
    """The position a cursor of this query stands for; a cursor of another query is refused
    (the page it points into would be a different list)."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ok = isinstance(position, dict) and position.get("q") == tag and _sane(position)
    except (ValueError, binascii.Error, RecursionError):
        ok = False
    if not ok:
        raise ValidationError(
            f"Bad page cursor {cursor[:40]!r}: it does not come from this listing (same "
            "experiment, filter and order); ask for the first page again without a cursor"
        )
    return dict(position)


def _sane(position: dict[str, Any]) -> bool:
    """Whether a decoded cursor's offset and keyset have their types and bounds: a cursor comes
    back from the client, so a forged ``o`` of 1e20 or -5 is refused like any bad input."""
    try:
        if "o" in position:
            check_int(position["o"], "cursor offset", 0, MAX_OFFSET)
        if "k" in position:
            started, rid = position["k"]
            check_float(started, "cursor time")
            return isinstance(rid, str)
    except (ValidationError, TypeError, ValueError):
        return False
    return True
