"""A batch profile's JSON text, made cheaply and exactly as ``json.dumps`` makes it.

Most of a small batch's record is the text of its numeric bins' edges: up to 100 floats a
column, each written out in full, and the same for every batch of a version (they are the
reference's). So the text of each distinct list of edges is made once and kept, and the rest of
the profile (a few numbers a column for a small batch) goes through ``json.dumps`` with a marker
where each list of edges goes. The result is byte for byte ``json.dumps(profile)``.
"""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any

_LOCK = threading.Lock()
_TEXTS: dict[tuple[float, ...], str] = {}  # edges -> their JSON text
_MAX_KEPT = 4096
# A marker no profile can hold by chance: JSON writes NUL as \u0000, then this process's nonce.
_NONCE = secrets.token_hex(8)


class EncodedProfile(dict[str, Any]):
    """A profile dict carrying its JSON text (``json_text``), which the store writes as is."""

    json_text: str


def _edges_text(edges: list[float]) -> str:
    key = tuple(edges)
    with _LOCK:
        text = _TEXTS.get(key)
    if text is None:
        text = json.dumps(edges)
        with _LOCK:
            if len(_TEXTS) >= _MAX_KEPT:
                _TEXTS.clear()
            _TEXTS[key] = text
    return text


def encoded(prof: dict[str, Any]) -> EncodedProfile:
    """``prof`` with its JSON text attached (see the module docstring)."""
    columns = prof.get("columns")
    swaps: dict[str, str] = {}
    shown = dict(prof)
    if isinstance(columns, dict):
        shown["columns"] = out = {}
        for i, (name, col) in enumerate(columns.items()):
            edges = col.get("edges") if isinstance(col, dict) else None
            if isinstance(edges, list) and len(edges) > 8:
                marker = f"\x00{_NONCE}:{i}\x00"
                swaps[json.dumps(marker)] = _edges_text(edges)
                col = col | {"edges": marker}
            out[name] = col
    text = json.dumps(shown)
    pieces, start = [], 0
    for marker_text, edges_text in swaps.items():  # in the text's order: one pass over it
        at = text.index(marker_text, start)
        pieces += [text[start:at], edges_text]
        start = at + len(marker_text)
    pieces.append(text[start:])
    result = EncodedProfile(prof)
    result.json_text = "".join(pieces)
    return result
