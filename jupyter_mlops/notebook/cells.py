"""A runs page as the notebook shows it: which columns (the panel's rule,
:func:`~jupyter_mlops.views.columns.choose_columns`, carried by the page) and each cell as
text, for the runs widget and for its static HTML fallback alike.

Numbers: a column has one precision (enough decimals for its largest value to show four
significant digits, exponent notation when that would hide a value), so they line up
right-aligned. Durations read as ``12 ms``, ``4.2 s``, ``3 min 05 s``. Times are compact
(``2026-12-07 06:00``); the widget turns them into "3 min ago" in the browser, where the clock
is, so a saved output never goes stale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..display import display_time

if TYPE_CHECKING:
    from ..entities import RunRow
    from ..views import RunsPage

SIGNIFICANT = 4


@dataclass(frozen=True)
class Column:
    """A grid column: ``key`` is what sorts it (an ``order_by`` key), ``group`` is ``run``,
    ``metrics`` or ``params``."""

    key: str
    label: str
    group: str = "run"
    numeric: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "group": self.group, "numeric": self.numeric}


def format_duration(seconds: float | None) -> str:
    """``0.0001456`` → ``<1 ms``, ``0.25`` → ``250 ms``, ``4.23`` → ``4.2 s``,
    ``185`` → ``3 min 05 s``, ``7400`` → ``2 h 03 min``."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    if seconds < 0.001:
        return "<1 ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_time(value: Any) -> str:
    """A moment in the grid's compact form, local time to the minute: ``2026-12-07 06:00``."""
    return display_time(value)[:16]


def _finite(values: list[Any]) -> list[float]:
    return [
        float(v)
        for v in values
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    ]


def number_format(values: list[Any]) -> str:
    """One format spec for a column of numbers (see the module doc)."""
    nums = _finite(values)
    if not nums:
        return ""
    if all(float(v).is_integer() and abs(v) < 1e15 for v in nums):
        return ",.0f"
    top = max(abs(v) for v in nums)
    if top >= 1e6:
        return ".3e"
    decimals = max(0, SIGNIFICANT - 1 - math.floor(math.log10(top))) if top else 0
    if decimals > 6:
        return ".3e"
    smallest = min((abs(v) for v in nums if v), default=0.0)
    if smallest and smallest < 0.5 * 10.0**-decimals:  # it would read 0.0000
        return ".3e"
    return f",.{decimals}f"


def format_value(value: Any, spec: str) -> str:
    """A cell's text: numbers with the column's ``spec``, anything else as ``str``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "" if value is None or math.isnan(value) else str(value)
    if spec and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return str(value)


def page_columns(page: RunsPage) -> list[Column]:
    """The run columns that have something to show, then the page's chosen metrics, params
    and tags."""
    rows = page.runs
    cols = [Column("name", "run"), Column("status", "status")]
    if any(r.gates for r in rows):
        cols.append(Column("gates", "gates"))
    if len({r.experiment for r in rows}) > 1:
        cols.append(Column("experiment", "experiment"))
    cols += [Column("started", "started"), Column("duration", "duration", numeric=True)]
    if any(r.model for r in rows):
        cols.append(Column("model", "model"))
    chosen = page.columns
    cols += [Column(f"metrics.{k}", k, "metrics", True) for k in chosen.metrics]
    for k in chosen.params:
        values = [r.params.get(k) for r in rows]
        numeric = all(isinstance(v, (int, float, type(None))) for v in values) and not any(
            isinstance(v, bool) for v in values
        )
        cols.append(Column(f"params.{k}", k, "params", numeric))
    cols += [Column(f"tags.{k}", k, "tags") for k in chosen.tags]
    return cols


def _raw(row: RunRow, key: str, tags: dict[str, dict[str, str]]) -> Any:
    group, _, name = key.partition(".")
    if group in ("metrics", "params") and name:
        return getattr(row, group).get(name)
    if group == "tags" and name:
        return tags.get(row.id, {}).get(name)
    value = getattr(row, key)
    return getattr(value, "value", value)  # enums as their text


def page_cells(page: RunsPage, columns: list[Column]) -> list[dict[str, Any]]:
    """Each run of ``page`` as ``{id, started, cells}``: ``cells`` maps a column key to its
    text, ``started`` is epoch seconds (the widget shows "3 min ago" from it)."""
    specs = {
        c.key: number_format([_raw(r, c.key, page.tags) for r in page.runs])
        for c in columns
        if c.numeric and c.key != "duration"
    }
    out = []
    for r in page.runs:
        cells: dict[str, str] = {}
        for c in columns:
            if c.key == "name":
                cells[c.key] = r.name or r.id[:8]
            elif c.key == "started":
                cells[c.key] = format_time(r.started)
            elif c.key == "duration":
                cells[c.key] = format_duration(r.duration)
            else:
                cells[c.key] = format_value(_raw(r, c.key, page.tags), specs.get(c.key, ""))
        out.append({"id": r.id, "started": r.started.timestamp(), "cells": cells})
    return out
