"""Profiles: mergeable, JSON-able sketches of a DataFrame that drift is measured against.

A profile keeps, per column, what both a test and a distance need, and nothing that cannot be
added up, so a daily batch profile merges into a weekly one without the raw rows:

- numeric: fixed bins cut at the reference's percentiles (up to 100 bins; bin ``i`` holds
  ``edges[i-1] < x <= edges[i]``), with the count and the sum of the values in each bin, plus
  count, nulls, min, max, mean and the sum of squared deviations (merged with Chan's formula);
- categorical (str, object, bool, category): the count of each value (the ``top`` most frequent,
  the rest summed in ``other``) and nulls;
- datetime: count, nulls, min and max (profiled, not drift-tested).

Profile the current data with ``profile(df, bins_from=reference)`` so both share the same bins;
two profiles only merge when their bins are the same. Non-finite numbers (inf) are not counted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..exceptions import ValidationError

PROFILE_FORMAT = "jupyter-mlops/profile"
PROFILE_VERSION = 2
DEFAULT_BINS = 100
DEFAULT_TOP = 1000


@dataclass(frozen=True)
class ColumnProfile:
    kind: str  # 'numeric', 'categorical' or 'datetime'
    dtype: str
    count: int  # non-null (and, for numbers, finite) values
    nulls: int
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    m2: float | None = None  # sum of squared deviations from the mean
    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()  # numeric: one per bin, len(edges) + 1
    sums: tuple[float, ...] = ()  # numeric: sum of the values in each bin
    categories: Mapping[str, int] = field(default_factory=dict)
    other: int = 0  # categorical: values beyond the ``top`` kept

    @property
    def std(self) -> float:
        """Population standard deviation (0 for fewer than two values or non-numeric)."""
        return (self.m2 / self.count) ** 0.5 if self.m2 and self.count > 1 else 0.0

    def merge(self, other: ColumnProfile, top: int = DEFAULT_TOP) -> ColumnProfile:
        if self.kind != other.kind:
            raise ValidationError(
                f"cannot merge a {self.kind} column profile with a {other.kind} one; "
                "profile both batches from data of the same schema"
            )
        if self.kind == "numeric":
            return _merge_numeric(self, other)
        if self.kind == "categorical":
            return _merge_categorical(self, other, top)
        lo = [v for v in (self.min, other.min) if v is not None]
        hi = [v for v in (self.max, other.max) if v is not None]
        return replace(
            self,
            count=self.count + other.count,
            nulls=self.nulls + other.nulls,
            min=min(lo, key=str) if lo else None,  # ISO timestamps sort as text
            max=max(hi, key=str) if hi else None,
        )

    # The stored profile format (versioned): only the fields of its kind, kept compact.
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "dtype": self.dtype}
        out |= {"count": self.count, "nulls": self.nulls, "min": self.min, "max": self.max}
        if self.kind == "numeric":
            out |= {"mean": self.mean, "m2": self.m2, "edges": list(self.edges)}
            out |= {"counts": list(self.counts), "sums": list(self.sums)}
        elif self.kind == "categorical":
            out |= {"categories": dict(self.categories), "other": self.other}
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnProfile:
        return cls(
            kind=d["kind"],
            dtype=d.get("dtype", ""),
            count=int(d["count"]),
            nulls=int(d.get("nulls", 0)),
            min=d.get("min"),
            max=d.get("max"),
            mean=d.get("mean"),
            m2=d.get("m2"),
            edges=tuple(float(x) for x in d.get("edges", ())),
            counts=tuple(int(x) for x in d.get("counts", ())),
            sums=tuple(float(x) for x in d.get("sums", ())),
            categories={str(k): int(v) for k, v in d.get("categories", {}).items()},
            other=int(d.get("other", 0)),
        )


def _merge_numeric(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    if a.edges != b.edges:
        raise ValidationError(
            "cannot merge numeric profiles with different bins; profile each batch with "
            "profile(df, bins_from=reference_profile)"
        )
    n = a.count + b.count
    mean, m2 = a.mean, a.m2
    if a.count == 0:
        mean, m2 = b.mean, b.m2
    elif b.count:  # Chan et al.: combine means and squared deviations without the rows
        assert a.mean is not None and b.mean is not None
        delta = b.mean - a.mean
        mean = a.mean + delta * b.count / n
        m2 = (a.m2 or 0.0) + (b.m2 or 0.0) + delta * delta * a.count * b.count / n
    lo = [float(v) for v in (a.min, b.min) if v is not None]
    hi = [float(v) for v in (a.max, b.max) if v is not None]
    return replace(
        a,
        count=n,
        nulls=a.nulls + b.nulls,
        min=min(lo) if lo else None,
        max=max(hi) if hi else None,
        mean=mean,
        m2=m2,
        counts=tuple(x + y for x, y in zip(a.counts, b.counts, strict=True)),
        sums=tuple(x + y for x, y in zip(a.sums, b.sums, strict=True)),
    )


def _merge_categorical(a: ColumnProfile, b: ColumnProfile, top: int) -> ColumnProfile:
    counts = dict(a.categories)
    for k, v in b.categories.items():
        counts[k] = counts.get(k, 0) + v
    kept, rest = _top(counts, top)
    return replace(
        a,
        count=a.count + b.count,
        nulls=a.nulls + b.nulls,
        categories=kept,
        other=a.other + b.other + rest,
    )


def _top(counts: Mapping[str, int], top: int) -> tuple[dict[str, int], int]:
    """The ``top`` most frequent values (ties by value, so merging is order-independent)."""
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return dict(ordered[:top]), sum(v for _, v in ordered[top:])


@dataclass(frozen=True)
class Profile:
    """A mergeable sketch of a DataFrame: ``rows`` and one :class:`ColumnProfile` per column."""

    rows: int
    columns: Mapping[str, ColumnProfile]

    def merge(self, other: Profile) -> Profile:
        """The profile of both batches' rows together (columns missing from one are kept)."""
        cols = dict(self.columns)
        for name, col in other.columns.items():
            cols[name] = cols[name].merge(col) if name in cols else col
        return Profile(self.rows + other.rows, cols)

    # The stored profile format (versioned): checked on load with a message to re-profile.
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "rows": self.rows,
            "columns": {name: c.to_dict() for name, c in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Profile:
        if d.get("format") != PROFILE_FORMAT or d.get("version") != PROFILE_VERSION:
            found = f"{d.get('format')!r} version {d.get('version')!r}"
            raise ValidationError(
                f"not a jupyter-mlops profile version {PROFILE_VERSION} (found {found}); "
                "re-profile the reference data with profile(df)"
            )
        cols = {str(k): ColumnProfile.from_dict(v) for k, v in d["columns"].items()}
        return cls(int(d["rows"]), cols)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> Profile:
        return cls.from_dict(json.loads(text))


def as_profile(obj: Any) -> Profile:
    """A :class:`Profile` from a Profile or its ``to_dict()`` form."""
    if isinstance(obj, Profile):
        return obj
    if isinstance(obj, Mapping):
        return Profile.from_dict(obj)
    raise ValidationError(
        f"expected a DataFrame or a profile, got {type(obj).__name__}; "
        "pass a pandas DataFrame, profile(df) or its to_dict()"
    )


def column_kind(series: Any) -> str:
    """'numeric', 'categorical' or 'datetime' (datetimes are profiled but not drift-tested)."""
    kind = series.dtype.kind
    if kind in "iuf":
        return "numeric"
    if kind in "mM":
        return "datetime"
    return "categorical"  # bool, str, object, category


def numeric_values(series: Any) -> Any:
    """Finite float64 values of a numeric series (nulls and infinities dropped)."""
    return _finite(series)[0]


def _finite(series: Any) -> tuple[Any, int]:
    """(finite float64 values, null count); a float64 column without NaN or inf is not copied."""
    import numpy as np

    if series.dtype == np.float64:
        values = series.to_numpy()
    else:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    return _finite_values(values)


def _finite_values(values: Any) -> tuple[Any, int]:
    import numpy as np

    finite = np.isfinite(values)
    if finite.all():
        return values, 0
    return values[finite], int(np.count_nonzero(np.isnan(values)))


def profile(
    df: Any,
    *,
    bins: int = DEFAULT_BINS,
    bins_from: Profile | Mapping[str, Any] | None = None,
    top: int = DEFAULT_TOP,
) -> Profile:
    """Profile every column of ``df``; numeric bins come from ``bins_from`` when it has the
    column (so the result compares with and merges into it), else from ``df``'s percentiles."""
    ref = as_profile(bins_from) if bins_from is not None else None
    block, at = _numeric_block(df)
    dtypes = list(df.dtypes) if at else []
    cols = {}
    for i, c in enumerate(df.columns):
        ref_col = ref.columns.get(str(c)) if ref is not None else None
        edges = ref_col.edges if ref_col is not None and ref_col.kind == "numeric" else None
        if i in at:  # the same float64 values profile_column would read, without a Series
            values, nulls = _finite_values(block[:, at[i]])
            cols[str(c)] = _profile_numeric(values, str(dtypes[i]), nulls, bins, edges)
        else:
            cols[str(c)] = profile_column(df.iloc[:, i], bins=bins, edges=edges, top=top)
    return Profile(len(df), cols)


def _numeric_block(df: Any) -> tuple[Any, dict[int, int]]:
    """The frame's NumPy-typed numeric columns as one float64 array (column position -> its
    index in it): one conversion for the frame, rather than a Series built per column, which
    is most of the cost of profiling a small batch."""
    import numpy as np

    where = [
        i
        for i, d in enumerate(df.dtypes)
        if isinstance(d, np.dtype) and d.kind in "iuf" and d.itemsize <= 8
    ]
    if not where:
        return None, {}
    part = df if len(where) == df.shape[1] else df.iloc[:, where]
    return part.to_numpy(dtype="float64"), {i: k for k, i in enumerate(where)}


def profile_column(
    series: Any, *, bins: int = DEFAULT_BINS, edges: Any = None, top: int = DEFAULT_TOP
) -> ColumnProfile:
    kind = column_kind(series)
    if kind == "numeric":
        values, nulls = _finite(series)
        return _profile_numeric(values, str(series.dtype), nulls, bins, edges)
    nulls = int(series.isna().sum())
    if kind == "categorical":
        counts = series.value_counts(dropna=True)
        labels: dict[str, int] = {}
        for k, v in zip(
            counts.index.map(str), counts.to_numpy(), strict=True
        ):  # 1 and "1" share a key
            labels[k] = labels.get(k, 0) + int(v)
        kept, rest = _top(labels, top)
        return ColumnProfile(
            kind, str(series.dtype), int(counts.sum()), nulls, categories=kept, other=rest
        )
    valid = series.dropna()
    lo, hi = (valid.min().isoformat(), valid.max().isoformat()) if len(valid) else (None, None)
    return ColumnProfile(kind, str(series.dtype), len(valid), nulls, lo, hi)


def _profile_numeric(values: Any, dtype: str, nulls: int, bins: int, edges: Any) -> ColumnProfile:
    import numpy as np

    # One sort gives the percentiles, the exact bin counts and per-bin sums (NumPy's vectorised
    # sort runs at a few ms per million values, faster than binary-searching unsorted values).
    s = np.sort(values)
    n = len(s)
    if edges is None:
        if n == 0:
            return ColumnProfile("numeric", dtype, 0, nulls, counts=(0,), sums=(0.0,))
        q = np.arange(1, bins) / bins
        edges = np.unique(s[np.maximum(np.ceil(q * n).astype(np.int64) - 1, 0)])
    edges = np.asarray(edges, dtype="float64")
    bounds = np.concatenate([[0], np.searchsorted(s, edges, side="right"), [n]])
    counts = np.diff(bounds)
    sums = np.zeros(len(counts))
    full = counts > 0  # reduceat over the non-empty bins' starts sums exactly each bin
    if full.any():
        sums[full] = np.add.reduceat(s, bounds[:-1][full])
    mean = m2 = None
    if n:
        mean = float(sums.sum() / n)
        # einsum, not `s @ s`: BLAS dot starts threads that crawl on a busy machine
        square = float(np.einsum("i,i->", s, s))
        m2 = square - n * mean * mean
        if m2 <= 1e-6 * square:  # the mean dwarfs the spread: cancellation, so two passes
            dev = s - mean
            m2 = float(np.einsum("i,i->", dev, dev))
    return ColumnProfile(
        "numeric",
        dtype,
        n,
        nulls,
        float(s[0]) if n else None,
        float(s[-1]) if n else None,
        mean,
        m2,
        tuple(edges.tolist()),
        tuple(counts.tolist()),
        tuple(sums.tolist()),
    )


def profile_dataframe(df: Any, *, bins: int = DEFAULT_BINS, top: int = DEFAULT_TOP) -> dict:
    """``profile(df).to_dict()``: the JSON form that gate contexts keep."""
    return profile(df, bins=bins, top=top).to_dict()


def log_profile(prof: Profile, name: str = "profile") -> Any:
    """Store ``prof`` as a JSON artifact ``profile:NAME`` of the active run."""
    from ..tracking import active_run

    run = active_run()
    if run is None:
        raise ValidationError(
            "log_profile needs an active run; call it inside mlops.start_run() or a %%track cell"
        )
    return run.log_bytes(prof.to_json().encode(), f"profile:{name}", kind="profile")
