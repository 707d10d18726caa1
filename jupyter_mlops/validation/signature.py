"""A model's signature: the input it was trained on, column by column, and its output.

Each column has a name, a dtype *kind* (``int``, ``float``, ``bool``, ``string``,
``category``, ``datetime`` with its time zone, or ``any`` when nothing is known), the categories
training saw (up to :data:`MAX_CATEGORIES`; beyond that ``None``, "many", which is not
checked) and whether training had nulls. The output records a kind and a width.

A signature is inferred from the best evidence there is (``source``): the training profile a
run logged (``log_profile``), else a DataFrame the run read (its fingerprint's schema), else the
model itself (``feature_names_in_``, ``n_features_in_``). :mod:`.contract` enforces it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..exceptions import ValidationError

SIGNATURE_FORMAT = 1
MAX_CATEGORIES = 1000  # categories kept per column; a column with more is "many"
MAX_COLUMNS = 100_000
KINDS = ("int", "float", "bool", "string", "category", "datetime", "any")
NUMERIC = ("int", "float")


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: ``categories`` None means not checked (unknown, or too many)."""

    name: str
    kind: str
    nullable: bool = True
    categories: tuple[str, ...] | None = None
    tz: str | None = None  # datetime only: the zone training had (None: naive)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "nullable": self.nullable}
        if self.categories is not None:
            out["categories"] = list(self.categories)
        if self.tz is not None:
            out["tz"] = self.tz
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnSpec:
        kind = str(d.get("kind", "any"))
        if kind not in KINDS:
            raise ValidationError(f"Unknown column kind {kind!r} in a signature; use {KINDS}")
        cats = d.get("categories")
        return cls(
            str(d["name"]),
            kind,
            bool(d.get("nullable", True)),
            None if cats is None else tuple(str(c) for c in cats),
            None if d.get("tz") is None else str(d["tz"]),
        )

    def describe(self) -> str:
        kind = f"datetime[{self.tz}]" if self.kind == "datetime" and self.tz else self.kind
        cats = ""
        if self.categories is not None:
            cats = f", {len(self.categories)} categories"
        return f"{self.name}: {kind}{'' if self.nullable else ', no nulls'}{cats}"


@dataclass(frozen=True)
class Signature:
    """The input columns in order (``named``: False when training had no column names, so
    only the width and kinds can be checked), the output, and where it was inferred from."""

    columns: tuple[ColumnSpec, ...]
    named: bool = True
    output_kind: str | None = None
    output_width: int | None = None  # None: one value per row
    source: str = "data"  # 'profile', 'data', 'model' or 'frame'
    # Whether these are exactly the columns the model takes: known when the model names its
    # features (or the training frame was given). An open one (a profile or a frame the run
    # read, which may hold the target or miss a derived feature) checks the columns a batch
    # has of it, and neither asks for the others nor refuses columns beyond it.
    closed: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SIGNATURE_FORMAT,
            "columns": [c.to_dict() for c in self.columns],
            "named": self.named,
            "output": {"kind": self.output_kind, "width": self.output_width},
            "source": self.source,
            "closed": self.closed,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Signature:
        if not isinstance(d, Mapping) or not isinstance(d.get("columns"), list):
            raise ValidationError("A signature needs a 'columns' list; see Signature.to_dict()")
        out = d.get("output") or {}
        width = out.get("width")
        return cls(
            tuple(ColumnSpec.from_dict(c) for c in d["columns"]),
            bool(d.get("named", True)),
            None if out.get("kind") is None else str(out["kind"]),
            None if width is None else int(width),
            str(d.get("source", "data")),
            bool(d.get("closed", True)),
        )


def dtype_kind(dtype: Any) -> tuple[str, str | None]:
    """The kind of a pandas or NumPy dtype (or its name), and a datetime's time zone."""
    text = str(dtype)
    tz = getattr(dtype, "tz", None)
    if text.startswith("datetime64"):
        if tz is None and "," in text:  # 'datetime64[ns, UTC]' read back from a schema
            tz = text.split(",", 1)[1].rstrip("]").strip()
        return "datetime", None if tz is None else str(tz)
    if text == "category":
        return "category", None
    if text in ("bool", "boolean"):
        return "bool", None
    lowered = text.lower()
    if lowered.startswith(("int", "uint")):
        return "int", None
    if lowered.startswith("float"):
        return "float", None
    if text in ("object", "str", "string") or text.startswith("string"):
        return "string", None
    return "any", None


@lru_cache(maxsize=256)
def _cached_kind(dtype: Any) -> tuple[str, str | None]:
    return dtype_kind(dtype)


def kind_of(dtype: Any) -> tuple[str, str | None]:
    """:func:`dtype_kind`, remembered per dtype (a batch check asks it once per column)."""
    try:
        return _cached_kind(dtype)
    except TypeError:  # an unhashable dtype
        return dtype_kind(dtype)


def column_of(name: str, series: Any) -> ColumnSpec:
    """What a training column shows: its kind, its nulls, and its values if it has few."""
    kind, tz = dtype_kind(series.dtype)
    cats = None
    if kind in ("string", "category"):
        seen = series.dropna().astype(str).unique()
        if len(seen) <= MAX_CATEGORIES:
            cats = tuple(sorted(seen))
    return ColumnSpec(name, kind, bool(series.isna().any()), cats, tz)


def from_frame(df: Any, y: Any = None) -> Signature:
    """The signature of training frame ``df`` (and of predictions like ``y``)."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
        named = False
    else:
        named = True
    columns = tuple(column_of(str(c), df[c]) for c in df.columns)
    kind, width = _output_of(y)
    return Signature(columns, named, kind, width, "frame")


def _output_of(y: Any) -> tuple[str | None, int | None]:
    if y is None or not hasattr(y, "dtype"):
        return None, None
    shape: tuple[int, ...] = tuple(getattr(y, "shape", ()))
    return dtype_kind(y.dtype)[0], (int(shape[1]) if len(shape) > 1 else None)


def from_profile(profile: Mapping[str, Any], source: str = "profile") -> Signature:
    """The signature a stored training profile (``Profile.to_dict()``) shows."""
    columns = []
    for name, col in (profile.get("columns") or {}).items():
        kind, tz = dtype_kind(col.get("dtype", ""))
        if kind == "any" and col.get("kind") == "numeric":
            kind = "float"
        cats = None
        if kind in ("string", "category") and not col.get("other"):
            found = col.get("categories") or {}
            cats = tuple(sorted(str(k) for k in found)) if len(found) <= MAX_CATEGORIES else None
        columns.append(ColumnSpec(str(name), kind, int(col.get("nulls") or 0) > 0, cats, tz))
    return Signature(tuple(columns), True, None, None, source, closed=False)


def from_schema(schema: Mapping[str, str]) -> Signature:
    """The signature a fingerprint's schema (column -> dtype) shows: kinds only."""
    columns = []
    for name, dtype in schema.items():
        kind, tz = dtype_kind(dtype)
        columns.append(ColumnSpec(str(name), kind, True, None, tz))
    return Signature(tuple(columns), True, None, None, "data", closed=False)


def model_features(model: Any) -> tuple[list[str] | None, int | None]:
    """The feature names and count a fitted model recorded (scikit-learn's attributes)."""
    names = getattr(model, "feature_names_in_", None)
    count = getattr(model, "n_features_in_", None)
    found = [str(n) for n in names] if names is not None else None
    return found, (int(count) if isinstance(count, int) else None)


def from_model(model: Any) -> Signature | None:
    """What the model alone tells: its feature names (or only their count) and its classes."""
    names, count = model_features(model)
    if names is None and count is None:
        return None
    named = names is not None
    cols = names if names is not None else [str(i) for i in range(count or 0)]
    classes = getattr(model, "classes_", None)
    kind = dtype_kind(getattr(classes, "dtype", ""))[0] if classes is not None else None
    columns = tuple(ColumnSpec(n, "any") for n in cols)
    return Signature(columns, named, kind, None, "model")


def narrowed(sig: Signature, model: Any) -> Signature:
    """``sig`` cut to the model's features, in the model's order (a training profile or frame
    often holds the target too); ``sig`` itself when the model names none or lacks some."""
    names, count = model_features(model)
    by_name = {c.name: c for c in sig.columns}
    if names is not None and all(n in by_name for n in names):
        classes = getattr(model, "classes_", None)
        kind, _ = dtype_kind(getattr(classes, "dtype", ""))
        out_kind = sig.output_kind or (kind if kind != "any" else None)
        return Signature(
            tuple(by_name[n] for n in names), True, out_kind, sig.output_width, sig.source
        )
    if names is None and count is not None and count != len(sig.columns):
        return from_model(model) or sig
    return sig


def best_input(schemas: Sequence[Mapping[str, str]], model: Any) -> Mapping[str, str] | None:
    """Of the DataFrames a run read, the one the model was trained on: the one holding every
    feature the model names (the narrowest such), else the only one."""
    names, _ = model_features(model)
    if names is not None:
        holding = [s for s in schemas if all(n in s for n in names)]
        return min(holding, key=len) if holding else None
    return schemas[0] if len(schemas) == 1 else None
