"""Reference profiles and drift statistics: PSI, Kolmogorov–Smirnov and chi-square.

A profile is a small JSON-able summary of a DataFrame recorded at training time: for numeric
columns quantile bins with their counts and 101 quantiles, for categorical ones the value
frequencies. Fresh data is compared against it without keeping the training rows around.

p-values are computed here with the standard series (Kolmogorov distribution, regularised
incomplete gamma function), so scipy is not needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

PROFILE_FORMAT = "jupyter-mlops/profile"
PROFILE_VERSION = 1
_EPS = 1e-4  # floor for bin shares, so an empty bin gives a large but finite PSI
_QUANTILES = 101
DEFAULT_PSI_MAX = 0.2  # the usual "significant shift" line for PSI
DEFAULT_KS_MAX = 0.1
DEFAULT_P_MIN = 0.01
_APPLIES = {"psi": ("numeric", "categorical"), "ks": ("numeric",), "chi2": ("categorical",)}


def column_kind(series: Any) -> str:
    """'numeric', 'categorical' or 'datetime' (datetimes are profiled but not drift-tested)."""
    kind = series.dtype.kind
    if kind in "iuf":
        return "numeric"
    if kind in "mM":
        return "datetime"
    return "categorical"  # bool, str, object, category


def profile_dataframe(df: Any, *, bins: int = 10, top: int = 50) -> dict[str, Any]:
    """A JSON-able reference profile of every column of ``df`` (used by drift gates)."""
    return {
        "format": PROFILE_FORMAT,
        "version": PROFILE_VERSION,
        "rows": len(df),
        "columns": {str(c): profile_column(df[c], bins=bins, top=top) for c in df.columns},
    }


def profile_column(series: Any, *, bins: int = 10, top: int = 50) -> dict[str, Any]:
    kind = column_kind(series)
    nulls = int(series.isna().sum())
    out: dict[str, Any] = {"kind": kind, "dtype": str(series.dtype), "nulls": nulls}
    if kind == "numeric":
        values = numeric_values(series)
        out["count"] = len(values)
        out |= _numeric_profile(values, bins) if len(values) else {}
    elif kind == "categorical":
        counts = _label_counts(series)
        ordered = counts.sort_values(ascending=False, kind="stable")
        out["count"] = int(ordered.sum())
        out["distinct"] = len(ordered)
        out["frequencies"] = {str(k): int(v) for k, v in ordered.iloc[:top].items()}
        out["other"] = int(ordered.iloc[top:].sum())
    else:
        out["count"] = len(series) - nulls
        out["min"], out["max"] = str(series.min()), str(series.max())
    return out


def numeric_values(series: Any) -> np.ndarray:
    """Finite float64 values of a numeric series (nulls and infinities dropped)."""
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return values[np.isfinite(values)]


def _numeric_profile(values: np.ndarray, bins: int) -> dict[str, Any]:
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    quantiles = np.quantile(values, np.linspace(0, 1, _QUANTILES))
    return {
        "min": float(values.min()),
        "max": float(values.max()),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "bin_edges": edges.tolist(),  # bin i holds edges[i-1] < x <= edges[i]
        "bin_counts": bin_counts(values, edges).tolist(),
        "quantiles": quantiles.tolist(),
        # the exact share <= each quantile: with ties (integer data) it differs from the grid's
        "quantile_cdf": (counts_at_or_below(values, quantiles) / len(values)).tolist(),
    }


def counts_at_or_below(values: np.ndarray, points: Any) -> np.ndarray:
    """How many values are <= each point. One branch-free pass per distinct point is several
    times faster than ``searchsorted`` of unsorted values for the ~100 points used here."""
    pts = np.asarray(points, dtype="float64")
    distinct, where = np.unique(pts, return_inverse=True)
    buf = np.empty(len(values), dtype=bool)
    counts = np.array([np.count_nonzero(np.less_equal(values, x, out=buf)) for x in distinct])
    return counts[where] if len(distinct) else np.zeros(0, dtype=np.int64)


def bin_counts(values: np.ndarray, edges: Any) -> np.ndarray:
    """Counts per bin for interior ``edges``: (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    cum = counts_at_or_below(values, edges)
    return np.diff(np.concatenate([[0], cum, [len(values)]]))


def _label_counts(series: Any) -> Any:
    """Non-null value counts keyed by the value's text (profiles are JSON, so keys are str)."""
    counts = series.value_counts(dropna=True)
    counts.index = counts.index.map(str)
    # distinct values rarely share a text form (1 and "1" in one object column); merge if they do
    return counts if counts.index.is_unique else counts.groupby(level=0, sort=False).sum()


def psi(expected: ArrayLike, actual: ArrayLike) -> float:
    """Population stability index between two count (or share) vectors over the same bins."""
    p = np.asarray(expected, dtype="float64")
    q = np.asarray(actual, dtype="float64")
    p = np.clip(p / max(p.sum(), 1e-300), _EPS, None)
    q = np.clip(q / max(q.sum(), 1e-300), _EPS, None)
    return float(np.sum((q - p) * np.log(q / p)))


def kolmogorov_sf(lam: float) -> float:
    """P(K > lam) for the Kolmogorov distribution (asymptotic KS p-value)."""
    if lam < 0.2:
        return 1.0
    k = np.arange(1, 101)
    total = 2.0 * np.sum((-1.0) ** (k - 1) * np.exp(-2.0 * k**2 * lam**2))
    return float(min(1.0, max(0.0, total)))


def chi2_sf(x: float, dof: int) -> float:
    """P(X > x) for a chi-square variable with ``dof`` degrees of freedom."""
    if dof <= 0:
        return 1.0
    return _gammaincc(dof / 2.0, x / 2.0)


def _gammaincc(a: float, x: float) -> float:
    """Regularised upper incomplete gamma Q(a, x): series below a+1, continued fraction above."""
    if x <= 0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        for _ in range(1000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 1000):  # modified Lentz
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_front) * h)


@dataclass(frozen=True)
class DriftStat:
    method: str
    statistic: float
    p_value: float | None = None
    rows: int = 0


def column_drift(series: Any, profile: Mapping[str, Any], method: str = "psi") -> DriftStat:
    """Compare one column of fresh data with its reference profile."""
    kind = profile.get("kind")
    if kind not in _APPLIES[method]:
        fits = " or ".join(m for m, kinds in _APPLIES.items() if kind in kinds) or "none"
        raise ValueError(f"{method} does not apply to {kind} columns (methods for them: {fits})")
    if not profile.get("count"):
        raise ValueError("the reference profile holds no values for this column")
    if kind == "numeric":
        if column_kind(series) != "numeric":
            raise ValueError(f"the reference is numeric but the data is {series.dtype}")
        values = numeric_values(series)
        if method == "ks":
            return _ks(values, profile)
        counts = bin_counts(values, profile["bin_edges"])
        return DriftStat("psi", psi(profile["bin_counts"], counts), rows=len(values))
    return _categorical(series, profile, method)


def _ks(values: np.ndarray, profile: Mapping[str, Any]) -> DriftStat:
    """The largest gap between the two CDFs at the reference's 101 quantiles.

    Both CDFs are exact at those points, so the statistic can only underestimate the full
    two-sample KS (by what happens between percentiles), never report drift that is not there.
    """
    q = np.asarray(profile["quantiles"], dtype="float64")
    if "quantile_cdf" in profile:
        ref_cdf = np.asarray(profile["quantile_cdf"], dtype="float64")
    else:  # a profile from elsewhere: approximate from the grid (ties take the highest share)
        probs = np.linspace(0, 1, len(q))
        ref_cdf = probs[np.searchsorted(q, q, side="right") - 1]
    n = len(values)
    if n == 0:
        raise ValueError("no values to compare")
    cur_cdf = counts_at_or_below(values, q) / n
    d = float(np.max(np.abs(cur_cdf - ref_cdf)))
    ne = profile["count"] * n / (profile["count"] + n)
    p = kolmogorov_sf((math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * d)
    return DriftStat("ks", d, p, n)


def _categorical(series: Any, profile: Mapping[str, Any], method: str) -> DriftStat:
    freqs: Mapping[str, int] = profile["frequencies"]
    keys = list(freqs)
    current = _label_counts(series)
    matched = current.reindex(keys, fill_value=0).to_numpy(dtype="float64")
    cur = np.append(matched, float(current.sum()) - matched.sum())  # unseen values go to "other"
    ref = np.array([freqs[k] for k in keys] + [profile.get("other", 0)], dtype="float64")
    n = int(cur.sum())
    if method == "psi":
        return DriftStat("psi", psi(ref, cur), rows=n)
    if n == 0:
        raise ValueError("no values to compare")
    # The reference is a sample too, so test homogeneity of the two count rows (a 2 x k
    # contingency table) rather than fitting the current counts to the reference's shares.
    keep = (ref > 0) | (cur > 0)
    table = np.vstack([ref[keep], cur[keep]])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    return DriftStat("chi2", stat, chi2_sf(stat, int(keep.sum()) - 1), n)


@dataclass(frozen=True)
class DriftReport:
    ok: bool | None
    observed: Any
    threshold: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def check_drift(
    df: Any,
    profile: Mapping[str, Any],
    columns: Sequence[str] | None = None,
    method: str = "psi",
    max_stat: float | None = None,
    p_min: float | None = None,
) -> DriftReport:
    """Drift of ``df`` against a profile; one verdict over the columns, per-column details."""
    ref_columns: Mapping[str, Any] = profile.get("columns", {})
    if columns is None:
        columns = [
            c for c, p in ref_columns.items() if c in df.columns and p["kind"] in _APPLIES[method]
        ]
    for c in columns:
        if c not in ref_columns:
            raise ValueError(f"column '{c}' is not in the reference profile")
    limit, p_floor = _limits(method, max_stat, p_min)
    threshold = ", ".join(
        ([f"{method} <= {limit:g}"] if limit is not None else [])
        + ([f"p >= {p_floor:g}"] if p_floor is not None else [])
    )
    if not columns:
        return DriftReport(None, None, threshold, f"no column to compare with {method}")
    details: dict[str, Any] = {}
    for c in columns:
        try:
            stat = column_drift(df[c], ref_columns[c], method)
        except ValueError as e:
            raise ValueError(f"column '{c}': {e}") from None
        bad = (limit is not None and stat.statistic > limit) or (
            p_floor is not None and stat.p_value is not None and stat.p_value < p_floor
        )
        details[c] = {"statistic": stat.statistic, "p_value": stat.p_value, "drifted": bad}
    observed, message = _summarise(method, details)
    ok = not any(d["drifted"] for d in details.values())
    return DriftReport(ok, observed, threshold, message, details)


def _summarise(method: str, details: Mapping[str, Mapping[str, Any]]) -> tuple[float, str]:
    """The worst value (lowest p for chi2, else highest statistic) and a message."""
    if method == "chi2":
        worst = min(details, key=lambda c: details[c]["p_value"])
        observed = details[worst]["p_value"]
    else:
        worst = max(details, key=lambda c: details[c]["statistic"])
        observed = details[worst]["statistic"]
    drifted = [c for c, d in details.items() if d["drifted"]]
    if not drifted:
        return observed, (
            f"no drift in {len(details)} columns (worst {worst}: "
            f"{_describe(method, details[worst])})"
        )
    shown = "; ".join(f"{c}: {_describe(method, details[c])}" for c in drifted)
    return observed, f"drift in {len(drifted)} of {len(details)} columns: {shown}"


def _limits(method: str, max_stat: float | None, p_min: float | None) -> tuple[Any, Any]:
    if method == "psi":
        return (max_stat if max_stat is not None else DEFAULT_PSI_MAX), p_min
    if method == "ks":
        return (max_stat if max_stat is not None else DEFAULT_KS_MAX), p_min
    return max_stat, (p_min if p_min is not None else DEFAULT_P_MIN)


def _describe(method: str, d: Mapping[str, Any]) -> str:
    text = f"{method} {d['statistic']:.3g}"
    return text + (f" (p={d['p_value']:.2g})" if d["p_value"] is not None else "")
