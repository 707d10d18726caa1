"""A ``table`` artifact read as a table (``GET runs/ID/table/NAME``): the JSON a framework cell
logs as ``{"columns": [...], "rows": [[...]]}`` (feature importance, a search's candidates, a
model's coefficients). A table with a column of feature importance (gain, split, weight…) also
comes as its top :data:`TOP_FEATURES` features, largest first, for a bar chart. Every read is
bounded: at most :data:`MAX_BYTES` of JSON, :data:`MAX_ROWS` rows of :data:`MAX_COLUMNS`
columns, however large the artifact; a file that is not such a table is a one-line 400."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import ValidationError
from .artifacts import MAX_CELL, format_size
from .detail import artifact_file
from .values import View

if TYPE_CHECKING:
    from ..tracking import Tracker

MAX_BYTES = 8 * 1024 * 1024  # of JSON parsed, at most
MAX_ROWS = 1000  # the most rows a caller may ask for
DEFAULT_ROWS = 200
MAX_COLUMNS = 60
TOP_FEATURES = 20
# Column names that hold a feature's importance (lower case, as a part of the name): XGBoost's
# gain/weight/cover, LightGBM's split/gain, CatBoost's PredictionValuesChange, scikit-learn's
# feature_importances_. The first found in this order is the default.
IMPORTANCE_WORDS = (
    "gain",
    "importance",
    "split",
    "weight",
    "cover",
    "predictionvalueschange",
    "lossfunctionchange",
)
_FEATURE_NAMES = ("feature", "features", "feature_name", "name", "column", "variable")

Cell = str | float | int | bool | None


@dataclass(frozen=True)
class Importance(View):
    """The top features by importance ``column`` (of ``columns``, every importance-like
    column), largest first: ``features[i]`` has ``values[i]``; ``total``: features with a
    value."""

    column: str
    columns: tuple[str, ...]
    feature_column: str
    features: tuple[str, ...]
    values: tuple[float, ...]
    total: int


@dataclass(frozen=True)
class ArtifactTable(View):
    """A ``table`` artifact's rows (the first ``len(rows)`` of ``total_rows``); ``truncated``:
    more rows or columns than shown; ``importance``: its top features, when it has a column
    of importance."""

    run_id: str
    name: str
    size_text: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total_rows: int
    truncated: bool
    importance: Importance | None = None


def _bad(name: str, why: str) -> ValidationError:
    return ValidationError(
        f"Artifact {name!r} is not a table ({why}); a table artifact is JSON "
        '{"columns": [...], "rows": [[...], ...]}: download it from runs/ID/artifacts/NAME'
    )


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _parse(name: str, data: bytes) -> tuple[list[str], list[list[Any]]]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad(name, f"not JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("columns"), list):
        raise _bad(name, 'no "columns" list')
    rows = doc.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise _bad(name, '"rows" is not a list of lists')
    columns = [str(c) for c in doc["columns"]]
    width = len(columns)
    odd = next((i for i, r in enumerate(rows) if len(r) != width), None)
    if odd is not None:
        raise _bad(name, f"row {odd} has {len(rows[odd])} values for {width} columns")
    return columns, rows


def importance_columns(columns: list[str], rows: list[list[Any]]) -> list[str]:
    """The columns holding feature importance: named like one, every value a number."""

    def numeric(i: int) -> bool:
        vals = [r[i] for r in rows if r[i] is not None]
        return bool(vals) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals
        )

    found = []
    for word in IMPORTANCE_WORDS:
        for i, c in enumerate(columns):
            if word in c.lower() and c not in found and numeric(i):
                found.append(c)
    return found


def _importance(columns: list[str], rows: list[list[Any]], by: str | None) -> Importance | None:
    candidates = importance_columns(columns, rows)
    if by is not None and by not in candidates:
        known = ", ".join(candidates) or "none"
        raise ValidationError(f"by must be a column of feature importance: {known}; got {by!r}")
    if not candidates:
        return None
    column = by or candidates[0]
    lower = [c.lower() for c in columns]
    named = next((lower.index(n) for n in _FEATURE_NAMES if n in lower), None)
    texts = [i for i in range(len(columns)) if all(isinstance(r[i], str) for r in rows)]
    feature = named if named is not None else (texts[0] if texts else None)
    value = columns.index(column)
    scored = [
        (str(r[feature]) if feature is not None else str(n), float(r[value]))
        for n, r in enumerate(rows)
        if r[value] is not None and math.isfinite(r[value])
    ]
    scored.sort(key=lambda fv: -fv[1])
    top = scored[:TOP_FEATURES]
    return Importance(
        column,
        tuple(candidates),
        columns[feature] if feature is not None else "row",
        tuple(_cell(f) for f in (f for f, _ in top)),  # type: ignore[misc]
        tuple(v for _, v in top),
        len(scored),
    )


def artifact_table(
    tracker: Tracker, run_id: str, name: str, rows: int = DEFAULT_ROWS, by: str | None = None
) -> ArtifactTable:
    """Artifact ``name`` of a run read as a table (opened as :func:`artifact_file` opens it),
    its first ``rows`` rows (1 to :data:`MAX_ROWS`) and, when it has a column of feature
    importance, its top features by ``by`` (the first such column by default)."""
    if isinstance(rows, bool) or not 1 <= rows <= MAX_ROWS:
        raise ValidationError(f"rows must be between 1 and {MAX_ROWS}, got {rows!r}")
    art = artifact_file(tracker, run_id, name)
    with art.file as f:
        if art.size > MAX_BYTES:
            raise ValidationError(
                f"Table {art.name!r} is {format_size(art.size)}, over the "
                f"{format_size(MAX_BYTES)} shown in the panel; download it from "
                "runs/ID/artifacts/NAME"
            )
        data = f.read(MAX_BYTES + 1)
    columns, body = _parse(art.name, data)
    return ArtifactTable(
        run_id=tracker.get_run(run_id).id,
        name=art.name,
        size_text=format_size(art.size),
        columns=tuple(_cell(c) for c in columns[:MAX_COLUMNS]),  # type: ignore[misc]
        rows=tuple(tuple(_cell(v) for v in r[:MAX_COLUMNS]) for r in body[:rows]),
        total_rows=len(body),
        truncated=len(body) > rows or len(columns) > MAX_COLUMNS,
        importance=_importance(columns, body, by),
    )
