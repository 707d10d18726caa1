"""Drift between reference data and current data: one calibrated function, ``check_drift``.

The rule (``method="auto"``), per column: **drift is an effect larger than a practical size
``delta``, shown beyond sampling noise**. Each test below measures a distance between the two
sides and gives the p-value of "the distance is at most ``delta``"; a column's p-value is the
smallest of its tests' (each divided by its share of alpha); the p-values of all columns are
adjusted together with Benjamini–Hochberg (``scipy.stats.false_discovery_control``) and a column
drifts when its adjusted p-value is <= ``alpha`` (0.05). One rule at every n: no switch.

- Numbers: Kolmogorov–Smirnov (location; the largest CDF gap, a 1/5 share) and Anderson–Darling
  (location, scale and shape, the tails weighted up; 4/5), both against the reference's percentile
  bins (KS exact on raw rows up to 200,000 rows in all). On bins, KS's gap is a lower bound of
  the exact one and AD's law is that of the binned data, so a stored profile errs towards no
  alarm (:mod:`.drift_stats`, :mod:`.drift_quadratic`).
- Categories: chi-square of homogeneity (rare values pooled), the distance is Cohen's w.
- Nulls: the null share's change, Fisher's exact test (distance: Cohen's w; at ``delta > 0``
  also the minimum-effect chi-square below, the larger p-value counts), when either side has a
  null; it then takes a 1/4 share of the column's alpha.
- A column that cannot be compared is a breach by name, counted as drifted: ``missing`` (in the
  reference only), ``new`` (in the current data only), ``all-null`` (no value on one side),
  ``type`` (numeric on one side, categorical on the other). The other columns are still checked.

How ``delta`` enters: KS's observed gap is at most the true gap plus pure noise (triangle
inequality), so ``kstwo.sf(D - delta)`` is a valid p-value; chi-square and AD statistics are
``n_eff`` times a squared distance, and at a distance ``delta`` they follow a noncentral law with
noncentrality ``n_eff * delta**2`` (chi-square: ``scipy.stats.ncx2``; AD: all of it on the
largest eigenvalue, the least favourable spread). At ``delta = 0`` each is the plain test. For a
fixed true effect above ``delta`` detection then only grows with n (monotone, no cliff), and an
effect below ``delta`` is flagged less and less often as n grows.

Default ``delta``: 0.005 for numbers (KS gap or AD distance: a normal's mean shifted by 0.0125 SD
has a KS gap of 0.005 and an AD distance of 0.0087), 0.03 for categories and null shares (Cohen's w:
a 30 -> 31.4 % share on two values). Why so small: a practical size must sit below the smallest
shifts users asked to see grow with n, a 0.04 SD mean shift (KS gap 0.016, AD 0.028) and a
30 -> 35 % category shift (w of 0.085 or more, whatever the other values); and at small n it
costs little (for numbers the noncentrality ``n_eff * delta**2`` is 0.011 at n_eff = 455: scale
x1.5 at 500 rows against 5,000 is caught ~72 % of the time in a 22-column frame, against ~66 %
at delta 0.01 and ~73 % for Anderson-Darling alone at delta 0).
``delta=`` (per call, per drift gate, per monitor drift check) sets it for every kind; 0 gives
the plain tests. Tests of the same distribution raise a false alarm in at most
``alpha`` of reports, however many columns.

Explicit methods (``ks``, ``chi2``, ``psi``, ``wasserstein``, ``jensenshannon``) apply one method
at every n with their old default lines (PSI: 0.2 over the reference deciles; Wasserstein 0.05
reference SD; Jensen–Shannon 0.05); ``threshold`` (a maximum statistic) or ``p_min`` (a minimum
raw p-value) override them. ``delta`` applies to the tests (``ks``, ``chi2``) but not to a
distance's fixed line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..exceptions import ValidationError
from .drift_columns import (
    ALPHA,
    DELTA_MAX,
    DISTANCES,
    METHODS,
    TESTS,
    DriftOptions,
    column_drifts,
    settle,
)
from .drift_report import ColumnDrift, DriftReport
from .profiles import ColumnProfile, Profile, as_profile, profile, profile_dataframe

__all__ = [
    "ColumnDrift",
    "DriftOptions",
    "DriftReport",
    "check_drift",
    "column_drifts",
    "profile_dataframe",
    "settle",
]


def check_drift(
    reference: Any,
    current: Any,
    columns: Sequence[str] | None = None,
    method: str = "auto",
    *,
    alpha: float = ALPHA,
    threshold: float | None = None,
    p_min: float | None = None,
    delta: float | None = None,
    by: str | None = None,
    top_slices: int = 20,
) -> DriftReport:
    """Compare ``current`` with ``reference`` column by column (see the module docstring).

    Each of ``reference`` and ``current`` is a DataFrame, a :class:`Profile` or its
    ``to_dict()``. ``columns`` defaults to the numeric and categorical columns of either side
    (for an explicit method, those it applies to); one on a single side is a breach. ``delta``
    is the practical size an effect must exceed (default per kind). With ``by``, each of the
    ``top_slices`` most frequent values of that column is compared on its own (the rest
    pooled), under one multiple-testing control over slices x columns.
    """
    options = _options(method, alpha, threshold, p_min, delta)
    if by is not None:
        from .drift_slices import check_drift_by  # type: ignore[import-not-found,unused-ignore]

        return check_drift_by(
            reference, current, by, columns=columns, options=options, top=top_slices
        )
    ref, cur, names, raw = _prepare(reference, current, columns, method)
    results = settle(column_drifts(ref, cur, names, raw, options), options)
    return DriftReport(method, {r.column: r for r in results})


def _options(
    method: str, alpha: float, threshold: float | None, p_min: float | None, delta: float | None
) -> DriftOptions:
    if method not in METHODS:
        raise ValidationError(f"unknown drift method {method!r}; use one of {', '.join(METHODS)}")
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ValidationError(f"alpha must be between 0 and 1, got {alpha!r}")
    if delta is not None:
        if isinstance(delta, bool) or not isinstance(delta, int | float):
            raise ValidationError(f"delta must be a number from 0 to {DELTA_MAX:g}, got {delta!r}")
        if not 0 <= delta <= DELTA_MAX:
            raise ValidationError(
                f"delta must be from 0 to {DELTA_MAX:g} (a distance between distributions), "
                f"got {delta!r}"
            )
        if method in DISTANCES:
            raise ValidationError(
                f"delta applies to tests, not to the {method} distance; set its line with "
                "threshold= instead"
            )
    return DriftOptions(method, alpha, threshold, p_min, None if delta is None else float(delta))


def _prepare(
    reference: Any, current: Any, columns: Sequence[str] | None, method: str
) -> tuple[Profile, Profile, list[str], dict[str, tuple[Any, Any]]]:
    """Both sides as profiles on the reference's bins, the columns to compare (those of either
    side), and (when both sides are frames) their raw rows for the exact tests."""
    ref_df = reference if _is_frame(reference) else None
    cur_df = current if _is_frame(current) else None
    wanted = {str(c) for c in columns} if columns is not None else None
    ref = profile(_only(ref_df, wanted)) if ref_df is not None else as_profile(reference)
    if cur_df is not None:
        cur = profile(_only(cur_df, wanted), bins_from=ref)
    else:
        cur = as_profile(current)
    if cur.rows == 0 or ref.rows == 0:
        which = "current" if cur.rows == 0 else "reference"
        raise ValidationError(f"the {which} data has no rows; pass at least one row to compare")
    all_ref = [str(c) for c in ref_df.columns] if ref_df is not None else list(ref.columns)
    all_cur = [str(c) for c in cur_df.columns] if cur_df is not None else list(cur.columns)
    names = _columns(ref, cur, columns, method, (all_ref, all_cur))
    raw: dict[str, tuple[Any, Any]] = {}
    if ref_df is not None and cur_df is not None:  # exact KS needs the rows of both
        ref_labels = {str(c): c for c in ref_df.columns}
        cur_labels = {str(c): c for c in cur_df.columns}
        raw = {
            n: (ref_df[ref_labels[n]], cur_df[cur_labels[n]])
            for n in names
            if n in ref_labels and n in cur_labels
        }
    return ref, cur, names, raw


def _columns(
    ref: Profile,
    cur: Profile,
    columns: Sequence[str] | None,
    method: str,
    shown: tuple[list[str], list[str]],
) -> list[str]:
    """The columns to compare; ``shown`` holds every column name of each side, for messages."""
    fits = ("numeric", "categorical")
    if method in TESTS or DISTANCES.get(method):
        fits = (TESTS.get(method) or DISTANCES[method],)  # type: ignore[assignment]
    if columns is None:
        names = [c for c, p in ref.columns.items() if _fits(p, fits)]
        names += [c for c, p in cur.columns.items() if c not in ref.columns and _fits(p, fits)]
        if not names:
            raise ValidationError(
                f"reference and current data have no {' or '.join(fits)} column to compare "
                f"with {method}; check the column names (reference: {_list(shown[0])}; "
                f"current: {_list(shown[1])})"
            )
        return names
    names = list(dict.fromkeys(str(c) for c in columns))
    if not names:
        raise ValidationError("columns= is empty; name at least one column, or leave it out")
    for c in names:
        if c not in ref.columns and c not in cur.columns:
            raise ValidationError(
                f"column '{c}' is in neither the reference nor the current data (reference: "
                f"{_list(shown[0])}; current: {_list(shown[1])}); fix columns="
            )
        col = ref.columns.get(c) or cur.columns[c]
        if col.count and col.kind not in fits:
            raise ValidationError(
                f"column '{c}': {method} does not apply to {col.kind} columns; "
                f"use method='auto' or drop it from columns="
            )
    return names


def _fits(col: ColumnProfile, fits: tuple[str, ...]) -> bool:
    # An all-null column of any dtype may be a number or a category: it is never left out.
    return col.kind in fits or (col.count == 0 and col.kind != "datetime")


def _only(df: Any, names: set[str] | None) -> Any:
    return df if names is None else df[[c for c in df.columns if str(c) in names]]


def _is_frame(obj: Any) -> bool:
    return hasattr(obj, "columns") and hasattr(obj, "dtypes") and not isinstance(obj, Profile)


def _list(names: Any) -> str:
    names = list(names)
    return ", ".join(names[:12]) + (", ..." if len(names) > 12 else "") if names else "none"
