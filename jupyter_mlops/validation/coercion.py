"""Checking a DataFrame column by column against a signature, and converting what can be.

:func:`check_frame` returns the batch to score (columns in the signature's order; converted and
with unknown columns dropped when coercing), every violation found as ``(column, problem,
message)``, and the indices of those that coercion cannot fix. :mod:`.contract` decides.
"""

from __future__ import annotations

from typing import Any

from .contract_plan import Plan, keep_plan, plan_for, shape_key, values_pass
from .signature import NUMERIC, ColumnSpec, Signature, kind_of

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
        values = pd.to_datetime(series, errors="raise", utc=spec.tz is not None, format="ISO8601")
        if spec.tz is not None:
            return values.dt.tz_convert(spec.tz)
        return values.dt.tz_convert(None) if values.dt.tz is not None else values
    raise TypeError(spec.kind)


class _Batch:
    """What a check reads of a batch, each once: column positions and kinds, and (only when
    a column must have none) which columns hold nulls, in one pass over the frame."""

    def __init__(self, X: Any) -> None:
        self.X = X
        self.labels = list(X.columns)
        self.names = [str(c) for c in self.labels]
        self.position = {n: i for i, n in enumerate(self.names)}
        self.dtypes = list(X.dtypes)
        self._nulls: Any = None

    def has_nulls(self, i: int) -> bool:
        if self._nulls is None:
            self._nulls = self.X.isna().any().to_numpy()
        return bool(self._nulls[i])

    def column(self, i: int) -> Any:
        return self.X.iloc[:, i]


def _wrong_type(spec: ColumnSpec, kind: str, tz: str | None) -> Found:
    shown = f"datetime[{tz}]" if kind == "datetime" and tz else kind
    want = f"datetime[{spec.tz}]" if spec.kind == "datetime" and spec.tz else spec.kind
    return (spec.name, "wrong_type", f"column {spec.name!r} is {shown}, expected {want}")


def _nulls_found(spec: ColumnSpec, series: Any) -> Found:
    count = int(series.isna().sum())
    return (
        spec.name,
        "null_not_allowed",
        f"column {spec.name!r} has {count} null(s); training had none",
    )


def _unseen(spec: ColumnSpec, series: Any) -> Found | None:
    """Categories training never saw (nulls aside), quoted up to :data:`SHOWN`."""
    known = set(spec.categories or ())
    import pandas as pd

    # unique() before dropping nulls: one pass over the rows, then a few values
    unseen = sorted({str(v) for v in series.unique() if not pd.isna(v)} - known)
    if not unseen:
        return None
    quoted = ", ".join(repr(v) for v in unseen[:SHOWN])
    more = ", …" if len(unseen) > SHOWN else ""
    return (
        spec.name,
        "unseen_category",
        f"column {spec.name!r} has {len(unseen)} value(s) unseen in training ({quoted}{more})",
    )


def _check_column(
    spec: ColumnSpec, batch: _Batch, i: int, coerce: bool
) -> tuple[Any, list[tuple[Found, bool]]]:
    """(the converted column, or None when it is scored as it is; its violations, each with
    whether coercion cannot fix it)."""
    kind, tz = kind_of(batch.dtypes[i])
    series = None
    out: list[tuple[Found, bool]] = []
    if not _compatible(spec, kind, tz):
        wrong = _wrong_type(spec, kind, tz)
        if not coerce:
            return None, [(wrong, True)]
        try:
            series = _convert(spec, batch.column(i))
        except (ValueError, TypeError, OverflowError, AttributeError):
            return None, [(wrong, True)]
        out.append((wrong, False))
    if not spec.nullable and (batch.has_nulls(i) if series is None else series.isna().any()):
        out.append((_nulls_found(spec, batch.column(i) if series is None else series), True))
    if spec.categories is not None and spec.kind in ("string", "category"):
        unseen = _unseen(spec, batch.column(i) if series is None else series)
        if unseen is not None:
            out.append((unseen, True))
    return series, out


def check_frame(sig: Signature, X: Any, coerce: bool) -> tuple[Any, list[Found], set[int]]:
    """See the module docstring."""
    if not sig.named:
        return _check_positional(sig, X)
    key = shape_key(X)
    plan = plan_for(sig, key)
    if plan is not None and values_pass(plan, X):  # the fast path (see .contract_plan)
        return (X if plan.order is None else X[plan.order]), [], set()
    batch = _Batch(X)
    if len(batch.position) != len(batch.names):
        return X, [(None, "wrong_shape", "the batch has duplicate column names")], {0}
    found: list[Found] = []
    fatal: set[int] = set()
    columns: dict[Any, Any] = {}  # label -> its converted column, or None: as it is
    for spec in sig.columns:
        i = batch.position.get(spec.name)
        if i is None:
            if sig.closed:  # an open signature's column may be one the model does not take
                fatal.add(len(found))
                found.append((spec.name, "missing_column", f"missing column {spec.name!r}"))
            continue
        series, problems = _check_column(spec, batch, i, coerce)
        for problem, unfixable in problems:
            if unfixable:
                fatal.add(len(found))
            found.append(problem)
        columns[batch.labels[i]] = series
    if sig.closed:
        wanted = set(sig.names)
        found += [
            (n, "unknown_column", f"unknown column {n!r}") for n in batch.names if n not in wanted
        ]
    if plan is None:
        _keep_plan(sig, key, batch, columns)
    if fatal or (not found and (not sig.closed or batch.names == list(sig.names))):
        return X, found, fatal
    return _assembled(X, columns, sig.closed), found, fatal


def _keep_plan(
    sig: Signature, key: tuple[Any, ...], batch: _Batch, columns: dict[Any, Any]
) -> None:
    """Keep the plan for batches shaped like this one when its shape is right: every column
    the signature names is there, none unknown (closed), each of a kind taken as it is."""
    if len(columns) != len(sig.columns) and sig.closed:
        return
    if sig.closed and len(batch.names) != len(sig.columns):
        return
    nonnull: list[int] = []
    categorical: list[tuple[int, frozenset[str]]] = []
    for spec in sig.columns:
        i = batch.position.get(spec.name)
        if i is None:
            continue  # an open signature's column the batch does not have
        if not _compatible(spec, *kind_of(batch.dtypes[i])):
            return
        if not spec.nullable:
            nonnull.append(i)
        if spec.categories is not None and spec.kind in ("string", "category"):
            categorical.append((i, frozenset(spec.categories)))
    reorder = sig.closed and batch.names != list(sig.names)
    order = list(columns) if reorder else None
    keep_plan(sig, key, Plan(len(batch.names), tuple(nonnull), tuple(categorical), order))


def _assembled(X: Any, columns: dict[Any, Any], closed: bool) -> Any:
    """The batch to score: a closed signature's columns in its order (``X`` itself reordered
    when nothing was converted); an open one's, ``X`` with the converted columns replaced."""
    converted = {label: s for label, s in columns.items() if s is not None}
    if closed and not converted:
        return X[list(columns)]
    if closed:
        import pandas as pd

        return pd.DataFrame(
            {label: X[label] if s is None else s for label, s in columns.items()}, index=X.index
        )
    out = X.copy(deep=False)
    for label, series in converted.items():
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
