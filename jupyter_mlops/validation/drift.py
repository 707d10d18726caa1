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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..exceptions import ValidationError
from .drift_report import ColumnDrift, DriftReport, breach, null_shares
from .drift_stats import Evidence, ad_test, chi2_test, distance, ks_test, nulls_test
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

ALPHA = 0.05
DELTA = {"numeric": 0.005, "categorical": 0.03, "nulls": 0.03}  # see the module docstring
DELTA_MAX = 1.0
WASSERSTEIN_MAX = 0.05  # in reference standard deviations
JENSENSHANNON_MAX = 0.05
PSI_MAX = 0.2  # the usual "significant shift" line for PSI
TESTS = {"ks": "numeric", "chi2": "categorical"}
DISTANCES = {"wasserstein": "numeric", "jensenshannon": "categorical", "psi": None}
METHODS = ("auto", *TESTS, *DISTANCES)
_DEFAULT_MAX = {"wasserstein": WASSERSTEIN_MAX, "jensenshannon": JENSENSHANNON_MAX, "psi": PSI_MAX}
# Each test's share of a column's alpha (weighted Bonferroni): AD sees what KS sees and more.
_SHARES = {"numeric": {"ad": 0.8, "ks": 0.2}, "categorical": {"chi2": 1.0}}
_NULLS_SHARE = 0.25


@dataclass(frozen=True)
class DriftOptions:
    """Every knob of one comparison, checked once by :func:`check_drift`; per-slice drift passes
    it through to :func:`column_drifts` and :func:`settle` without reading it. ``delta`` None
    means the defaults per kind (``DELTA``)."""

    method: str = "auto"
    alpha: float = ALPHA
    threshold: float | None = None
    p_min: float | None = None
    delta: float | None = None

    def delta_for(self, kind: str) -> float:
        return DELTA[kind] if self.delta is None else self.delta


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


def column_drifts(
    ref: Profile,
    cur: Profile,
    names: list[str],
    raw: Mapping[str, tuple[Any, Any]] | None,
    options: DriftOptions,
) -> list[ColumnDrift]:
    """The unadjusted result of each of ``names`` (``raw`` holds both sides' rows of a column
    when they are at hand, for the exact tests); :func:`settle` gives the verdicts. A name on
    one side only, all null on one side, or of another kind on each side is a breach."""
    raw = raw or {}
    out = []
    with _one_blas_thread():
        for n in names:
            out.append(_column(n, ref, cur, options, raw.get(n)))
    return out


def _column(
    n: str, ref: Profile, cur: Profile, options: DriftOptions, raw: tuple[Any, Any] | None
) -> ColumnDrift:
    r, c = ref.columns.get(n), cur.columns.get(n)
    named = breach(n, r, c)
    if named is not None:
        return named
    assert r is not None and c is not None
    if options.method == "auto":
        return _auto(n, r, c, options, raw)
    return _explicit(n, r, c, options, raw)


def _one_blas_thread() -> Any:
    """AD's small eigenproblems run 40x faster on one BLAS thread than on a pool that waits
    for busy cores; threadpoolctl comes with scikit-learn (a plain context when absent)."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def settle(results: list[ColumnDrift], options: DriftOptions) -> list[ColumnDrift]:
    """The verdicts of any list of results (columns, or slices x columns), under one
    multiple-testing control; returns a new list in the same order."""
    return _adjust(list(results), options.alpha, options.threshold, options.p_min)


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


def _check_bins(name: str, ref: ColumnProfile, cur: ColumnProfile) -> None:
    if ref.kind == "numeric" and ref.edges != cur.edges:
        raise ValidationError(
            f"column '{name}': the current profile has other bins than the reference; "
            "profile it with profile(df, bins_from=reference)"
        )


def _auto(
    name: str,
    ref: ColumnProfile,
    cur: ColumnProfile,
    options: DriftOptions,
    raw: tuple[Any, Any] | None,
) -> ColumnDrift:
    """The column's tests (module docstring), its p-value the smallest of theirs, each divided
    by its share of alpha; the test that gives it decides and is reported."""
    _check_bins(name, ref, cur)
    delta = options.delta_for(ref.kind)
    if ref.kind == "numeric":
        evidence = [ks_test(ref, cur, raw, delta), ad_test(ref, cur, delta)]
    else:
        evidence = [chi2_test(ref, cur, delta)]
    shares = dict(_SHARES[ref.kind])
    nulls = nulls_test(ref, cur, options.delta_for("nulls"))
    if nulls is not None:
        shares = {k: v * (1 - _NULLS_SHARE) for k, v in shares.items()}
        shares["nulls"] = _NULLS_SHARE
        evidence.append(nulls)
    best: Evidence = min(evidence, key=lambda e: e.p_value / shares[e.test])
    return ColumnDrift(
        column=name,
        kind=ref.kind,
        method=best.test,
        statistic=best.statistic,
        threshold=0.0,
        drifted=False,
        p_value=min(1.0, best.p_value / shares[best.test]),
        n_reference=ref.count,
        n_current=cur.count,
        effect=best.effect,
        interval=(best.low, best.high),
        delta=options.delta_for("nulls") if best.test == "nulls" else delta,
        null_shares=null_shares(ref, cur),
    )


def _explicit(
    name: str,
    ref: ColumnProfile,
    cur: ColumnProfile,
    options: DriftOptions,
    raw: tuple[Any, Any] | None,
) -> ColumnDrift:
    """One statistic of an explicit method; a test's verdict waits for :func:`_adjust`."""
    _check_bins(name, ref, cur)
    method = options.method
    base: dict[str, Any] = {"column": name, "kind": ref.kind, "method": method}
    base |= {"n_reference": ref.count, "n_current": cur.count}
    base["null_shares"] = null_shares(ref, cur)
    if method in TESTS:
        delta = options.delta or 0.0
        ev = ks_test(ref, cur, raw, delta) if method == "ks" else chi2_test(ref, cur, delta)
        return ColumnDrift(
            **base, statistic=ev.statistic, threshold=0.0, drifted=False, p_value=ev.p_value
        )
    stat = distance(method, ref, cur)
    line = options.threshold if options.threshold is not None else _DEFAULT_MAX[method]
    return ColumnDrift(**base, statistic=stat, threshold=line, drifted=stat > line)


def _adjust(
    results: list[ColumnDrift], alpha: float, threshold: float | None, p_min: float | None
) -> list[ColumnDrift]:
    """Settle the tested columns: an explicit ``threshold`` on the statistic and/or ``p_min`` on
    the raw p-value (the old gate fields), else Benjamini–Hochberg over all of them at once."""
    from scipy.stats import false_discovery_control

    tested = [i for i, r in enumerate(results) if r.p_value is not None]
    if threshold is not None or p_min is not None:
        for i in tested:
            r = results[i]
            p = r.p_value if r.p_value is not None else 1.0
            size = r.effect if r.effect is not None else r.statistic  # auto: its distance
            bad = (threshold is not None and size > threshold) or (p_min is not None and p < p_min)
            line = threshold if threshold is not None else p_min
            assert line is not None
            words = [f"max {threshold:g}"] if threshold is not None else []
            words += [f"p_min {p_min:g}"] if p_min is not None else []
            results[i] = replace(r, threshold=line, drifted=bool(bad), line=" and ".join(words))
        return results
    if tested:
        adjusted = false_discovery_control([results[i].p_value for i in tested], method="bh")
        for i, q in zip(tested, adjusted, strict=True):
            results[i] = replace(
                results[i], threshold=alpha, p_adjusted=float(q), drifted=bool(q <= alpha)
            )
    return results


def _only(df: Any, names: set[str] | None) -> Any:
    return df if names is None else df[[c for c in df.columns if str(c) in names]]


def _is_frame(obj: Any) -> bool:
    return hasattr(obj, "columns") and hasattr(obj, "dtypes") and not isinstance(obj, Profile)


def _list(names: Any) -> str:
    names = list(names)
    return ", ".join(names[:12]) + (", ..." if len(names) > 12 else "") if names else "none"
