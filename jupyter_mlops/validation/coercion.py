"""Checking a DataFrame column by column against a signature, and converting what can be.

:func:`check_frame` returns the batch to score (columns in the signature's order; converted and
with unknown columns dropped when coercing), every violation found as ``(column, problem,
message)``, and the indices of those that coercion cannot fix. :mod:`.contract` decides.
"""

from __future__ import annotations

from typing import Any

from .signature import NUMERIC, ColumnSpec, Signature, dtype_kind

Found = tuple[str | None, str, str]
SHOWN = 3  # unseen categories quoted per column


def _compatible(spec: ColumnSpec, kind: str, tz: str | None) -> bool:
    if spec.kind == "any" or spec.kind == kind:
        return spec.kind != "datetime" or (spec.tz or None) == (tz or None)
    if spec.kind == "float":
        return kind == "int"
    if spec.kind in ("string", "category"):
        return kind in ("string", "category")
    return False


def _convert(spec: ColumnSpec, series: Any) -> Any:
    """``series`` converted to ``spec``'s kind; raises ValueError/TypeError when it cannot."""
    import pandas as pd

    if spec.kind in NUMERIC:
        values = pd.to_numeric(series, errors="raise")
        if spec.kind == "float":
            return values.astype("float64")
        if values.isna().any():
            raise ValueError("nulls in an int column")
        ints = values.astype("int64")
        if not (ints == values).all():
            raise ValueError("fractions in an int column")
        return ints
    if spec.kind == "bool":
        values = pd.to_numeric(series, errors="raise")
        if values.isna().any() or not values.isin([0, 1]).all():
            raise ValueError("not 0/1")
        return values.astype(bool)
    if spec.kind in ("string", "category"):
        return series.astype(object).where(series.isna(), series.astype(str))
    if spec.kind == "datetime":
        values = pd.to_datetime(series, errors="raise", utc=spec.tz is not None)
        return values.dt.tz_convert(spec.tz) if spec.tz is not None else values
    raise TypeError(spec.kind)


def _type_of(spec: ColumnSpec, series: Any, coerce: bool) -> tuple[Any, Found | None, bool]:
    """(the column to score, a wrong_type violation or None, whether it is fixable)."""
    kind, tz = dtype_kind(series.dtype)
    if _compatible(spec, kind, tz):
        return series, None, True
    shown = f"datetime[{tz}]" if kind == "datetime" and tz else kind
    want = f"datetime[{spec.tz}]" if spec.kind == "datetime" and spec.tz else spec.kind
    found = (spec.name, "wrong_type", f"column {spec.name!r} is {shown}, expected {want}")
    if not coerce:
        return series, found, False
    try:
        return _convert(spec, series), found, True
    except (ValueError, TypeError, OverflowError, AttributeError):
        return series, found, False


def _values_of(spec: ColumnSpec, series: Any) -> list[Found]:
    """Nulls where training had none, and categories training never saw."""
    out: list[Found] = []
    nulls = series.isna()
    if not spec.nullable and nulls.any():
        out.append(
            (
                spec.name,
                "null_not_allowed",
                f"column {spec.name!r} has {int(nulls.sum())} null(s); training had none",
            )
        )
    if spec.categories is not None and spec.kind in ("string", "category"):
        seen = series[~nulls]
        known = set(spec.categories)
        uniques = seen.unique()
        unseen = [str(v) for v in uniques if str(v) not in known]
        if unseen:
            quoted = ", ".join(repr(v) for v in sorted(unseen)[:SHOWN])
            more = ", …" if len(unseen) > SHOWN else ""
            out.append(
                (
                    spec.name,
                    "unseen_category",
                    f"column {spec.name!r} has {len(unseen)} value(s) unseen in training "
                    f"({quoted}{more})",
                )
            )
    return out


def check_frame(sig: Signature, X: Any, coerce: bool) -> tuple[Any, list[Found], set[int]]:
    """See the module docstring."""
    if not sig.named:
        return _check_positional(sig, X)
    by_name = {str(c): c for c in X.columns}
    if len(by_name) != len(X.columns):
        dup = (None, "wrong_shape", "the batch has duplicate column names")
        return X, [dup], {0}
    wanted = set(sig.names)
    found: list[Found] = []
    fatal: set[int] = set()
    columns: dict[Any, Any] = {}
    for spec in sig.columns:
        if spec.name not in by_name:
            if not sig.closed:  # a profiled column the model may not take (the target)
                continue
            fatal.add(len(found))
            found.append((spec.name, "missing_column", f"missing column {spec.name!r}"))
            continue
        series, wrong, fixable = _type_of(spec, X[by_name[spec.name]], coerce)
        if wrong is not None:
            if not fixable:
                fatal.add(len(found))
            found.append(wrong)
        for problem in _values_of(spec, series) if fixable else []:
            fatal.add(len(found))
            found.append(problem)
        columns[by_name[spec.name]] = series
    for name in by_name if sig.closed else ():
        if name not in wanted:
            found.append((name, "unknown_column", f"unknown column {name!r}"))
    if fatal or (not found and (not sig.closed or list(by_name) == list(sig.names))):
        return X, found, fatal
    return _assembled(X, columns, found, sig.closed), found, fatal


def _assembled(X: Any, columns: dict[Any, Any], found: list[Found], closed: bool) -> Any:
    """The batch to score: a closed signature's columns in its order (``X`` itself reordered
    when nothing was converted); an open one's, ``X`` with the converted columns replaced."""
    converted = any(p == "wrong_type" for _, p, _ in found)
    if closed and not converted:
        return X[list(columns)]
    if closed:
        import pandas as pd

        return pd.DataFrame(columns, index=X.index)
    out = X.copy(deep=False)
    for label, series in columns.items():
        out[label] = series
    return out


def _check_positional(sig: Signature, X: Any) -> tuple[Any, list[Found], set[int]]:
    """A signature without names: the batch's width only."""
    want = len(sig.columns)
    if len(X.columns) != want:
        return (
            X,
            [(None, "wrong_shape", f"the batch has {len(X.columns)} column(s), expected {want}")],
            {0},
        )
    return X, [], set()
