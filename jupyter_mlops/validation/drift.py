"""Drift between reference data and current data: one calibrated function, ``check_drift``.

The rule (``method="auto"``), per column, on the effective sample size
``n_eff = n_ref * n_cur / (n_ref + n_cur)`` (what both a test's and a distance's noise scale with):

- ``n_eff < 10,000``: a test. Numbers: two-sample Kolmogorov–Smirnov (``scipy.stats.ks_2samp``
  on raw rows; against a stored profile, KS at the reference's percentile edges with
  ``scipy.stats.kstwo``, which can only understate the gap, so it errs towards no alarm).
  Categories: chi-square test of homogeneity of the two count rows
  (``scipy.stats.chi2_contingency``), values with fewer than 5 expected rows pooled so the
  chi-square approximation holds. The p-values of all tested columns are adjusted together with
  Benjamini–Hochberg (``scipy.stats.false_discovery_control``); a column drifts when its adjusted
  p-value is <= ``alpha`` (0.05). On same-distribution data the report then raises a false alarm
  in at most ``alpha`` of cases, however many columns it checks.
- ``n_eff >= 10,000``: an effect size with a fixed line. Numbers: Wasserstein distance divided by
  the reference standard deviation (``scipy.stats.wasserstein_distance`` over the binned
  profiles), drift above 0.05 standard deviations. Categories: Jensen–Shannon distance
  (``scipy.spatial.distance.jensenshannon``, natural log), drift above 0.05.

Why: a test answers "could this be sampling noise?", which is the right question while samples
are small, but at a million rows it says yes to shifts nobody cares about. A distance answers
"how large is the shift?", but at small n its own noise crosses any fixed line (PSI on 50 rows,
for one). The switch sits where the two agree: at ``n_eff = 10,000`` KS flags shifts of about
0.035 standard deviations, near the 0.05 line, and the distances' sampling noise stays well under
their lines (Jensen–Shannon's with up to the 1,000 categories a profile keeps only from about
n_eff = 7,000, via ``8 * n * JS^2 ~ chi2(k - 1)``). ``benchmarks/bench_drift.py`` measures the
false-alarm and detection rates this gives.

Explicit methods (``ks``, ``chi2``, ``psi``, ``wasserstein``, ``jensenshannon``) apply one method
at every n, with the same default lines (PSI: 0.2 over the reference deciles, not size-aware);
``threshold`` (a maximum statistic) or ``p_min`` (a minimum raw p-value) override them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..exceptions import ValidationError
from .drift_stats import chi2, distance, ks
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

SWITCH_N_EFF = 10_000
ALPHA = 0.05
WASSERSTEIN_MAX = 0.05  # in reference standard deviations
JENSENSHANNON_MAX = 0.05
PSI_MAX = 0.2  # the usual "significant shift" line for PSI
TESTS = {"ks": "numeric", "chi2": "categorical"}
DISTANCES = {"wasserstein": "numeric", "jensenshannon": "categorical", "psi": None}
METHODS = ("auto", *TESTS, *DISTANCES)
_DEFAULT_MAX = {"wasserstein": WASSERSTEIN_MAX, "jensenshannon": JENSENSHANNON_MAX, "psi": PSI_MAX}


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict. ``threshold`` is the line for ``statistic``, or for the
    (BH-adjusted, unless ``p_min`` was given) p-value when ``p_value`` is set."""

    column: str
    kind: str
    method: str
    statistic: float
    threshold: float
    drifted: bool
    p_value: float | None = None
    p_adjusted: float | None = None
    n_reference: int = 0
    n_current: int = 0
    slice: str | None = None  # the slice (e.g. "region=north") when drift is checked per slice

    @property
    def label(self) -> str:
        """The column's name, prefixed by its slice when there is one."""
        return f"{self.slice}: {self.column}" if self.slice else self.column

    def describe(self) -> str:
        text = f"{self.method} {self.statistic:.3g}"
        if self.p_value is None:
            return text + (" > " if self.drifted else " <= ") + f"{self.threshold:g}"
        p = self.p_adjusted if self.p_adjusted is not None else self.p_value
        which = "adjusted p" if self.p_adjusted is not None else "p"
        return (
            text + f", {which}={p:.2g}" + (" <" if self.drifted else " >=") + f" {self.threshold:g}"
        )

    # Not its fields (codec.py): keyed by column in DriftReport, so the name is left out (a
    # per-slice result's key is the slice's choice, so it names its slice and column).
    def to_dict(self) -> dict[str, Any]:
        out = {} if self.slice is None else {"slice": self.slice, "column": self.column}
        return out | {
            "kind": self.kind,
            "method": self.method,
            "statistic": self.statistic,
            "threshold": self.threshold,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "drifted": self.drifted,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
        }


@dataclass(frozen=True)
class DriftReport:
    method: str
    columns: Mapping[str, ColumnDrift]

    @property
    def drifted(self) -> bool:
        return any(c.drifted for c in self.columns.values())

    @property
    def share_drifted(self) -> float:
        return sum(c.drifted for c in self.columns.values()) / len(self.columns)

    def summary(self) -> str:
        bad = [c for c in self.columns.values() if c.drifted]
        if not bad:
            worst = max(self.columns.values(), key=_severity)
            return f"no drift in {len(self.columns)} columns (closest {worst.label}: " + (
                f"{worst.describe()})"
            )
        shown = "; ".join(f"{c.label}: {c.describe()}" for c in bad)
        return f"drift in {len(bad)} of {len(self.columns)} columns: {shown}"

    # Not its fields (codec.py): adds the derived `drifted` and `share_drifted`.
    def to_dict(self) -> dict[str, Any]:
        return {
            "drifted": self.drifted,
            "share_drifted": self.share_drifted,
            "method": self.method,
            "columns": {name: c.to_dict() for name, c in self.columns.items()},
        }


def _severity(c: ColumnDrift) -> float:
    """How close a column is to its line (>= 1 means over it), comparable across methods."""
    if c.p_value is not None:
        p = c.p_adjusted if c.p_adjusted is not None else c.p_value
        return c.threshold / max(p, 1e-300)
    return c.statistic / c.threshold if c.threshold else float(c.statistic > 0)


@dataclass(frozen=True)
class DriftOptions:
    """Every knob of one comparison, checked once by :func:`check_drift`; per-slice drift passes
    it through to :func:`column_drifts` and :func:`settle` without reading it."""

    method: str = "auto"
    alpha: float = ALPHA
    threshold: float | None = None
    p_min: float | None = None


def check_drift(
    reference: Any,
    current: Any,
    columns: Sequence[str] | None = None,
    method: str = "auto",
    *,
    alpha: float = ALPHA,
    threshold: float | None = None,
    p_min: float | None = None,
    by: str | None = None,
    top_slices: int = 20,
) -> DriftReport:
    """Compare ``current`` with ``reference`` column by column (see the module docstring).

    Each of ``reference`` and ``current`` is a DataFrame, a :class:`Profile` or its
    ``to_dict()``. ``columns`` defaults to the numeric and categorical columns both share (for
    an explicit method, those it applies to). With ``by``, each of the ``top_slices`` most
    frequent values of that column is compared on its own (the rest pooled), under one
    multiple-testing control over slices x columns.
    """
    if method not in METHODS:
        raise ValidationError(f"unknown drift method {method!r}; use one of {', '.join(METHODS)}")
    if not 0 < alpha < 1:
        raise ValidationError(f"alpha must be between 0 and 1, got {alpha!r}")
    options = DriftOptions(method=method, alpha=alpha, threshold=threshold, p_min=p_min)
    if by is not None:
        from .drift_slices import check_drift_by  # type: ignore[import-not-found,unused-ignore]

        return check_drift_by(
            reference, current, by, columns=columns, options=options, top=top_slices
        )
    ref, cur, names, raw = _prepare(reference, current, columns, method)
    results = settle(column_drifts(ref, cur, names, raw, options), options)
    return DriftReport(method, {r.column: r for r in results})


def _prepare(
    reference: Any, current: Any, columns: Sequence[str] | None, method: str
) -> tuple[Profile, Profile, list[str], dict[str, tuple[Any, Any]]]:
    """Both sides as profiles on the reference's bins, the columns to compare, and (when both
    sides are frames) their raw rows for the exact tests."""
    ref_df = reference if _is_frame(reference) else None
    cur_df = current if _is_frame(current) else None
    wanted = {str(c) for c in columns} if columns is not None else None
    if ref_df is not None:
        others = cur_df.columns if cur_df is not None else as_profile(current).columns
        ref = profile(_only(ref_df, wanted or {str(c) for c in others}))
    else:
        ref = as_profile(reference)
    if cur_df is not None:  # profile only what will be compared
        cur = profile(_only(cur_df, wanted or set(ref.columns)), bins_from=ref)
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
        raw = {n: (ref_df[ref_labels[n]], cur_df[cur_labels[n]]) for n in names}
    return ref, cur, names, raw


def column_drifts(
    ref: Profile,
    cur: Profile,
    names: list[str],
    raw: Mapping[str, tuple[Any, Any]] | None,
    options: DriftOptions,
) -> list[ColumnDrift]:
    """The unadjusted result of each of ``names`` (``raw`` holds both sides' rows of a column
    when they are at hand, for the exact tests); :func:`settle` gives the verdicts."""
    raw = raw or {}
    return [
        _compare(
            n,
            ref.columns[n],
            cur.columns[n],
            options.method,
            options.threshold,
            options.p_min,
            raw.get(n),
        )
        for n in names
    ]


def settle(results: list[ColumnDrift], options: DriftOptions) -> list[ColumnDrift]:
    """The verdicts of any list of results (columns, or slices x columns), under one
    multiple-testing control; returns a new list in the same order."""
    return _adjust(list(results), options.alpha, options.threshold, options.p_min)


def _only(df: Any, names: set[str]) -> Any:
    return df[[c for c in df.columns if str(c) in names]]


def _is_frame(obj: Any) -> bool:
    return hasattr(obj, "columns") and hasattr(obj, "dtypes") and not isinstance(obj, Profile)


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
        names = [c for c, p in ref.columns.items() if c in cur.columns and p.kind in fits]
        if not names:
            raise ValidationError(
                f"reference and current data share no {' or '.join(fits)} column to compare "
                f"with {method}; check the column names (reference: {_list(shown[0])}; "
                f"current: {_list(shown[1])})"
            )
        return names
    names = [str(c) for c in columns]
    for c in names:
        for side, prof, every in (("reference", ref, shown[0]), ("current", cur, shown[1])):
            if c not in prof.columns:
                raise ValidationError(
                    f"column '{c}' is not in the {side} data (columns: {_list(every)}); "
                    "fix columns= or the data"
                )
        kind = ref.columns[c].kind
        if kind not in fits:
            raise ValidationError(
                f"column '{c}': {method} does not apply to {kind} columns; "
                f"use method='auto' or drop it from columns="
            )
    return names


def _list(names: Any) -> str:
    names = list(names)
    return ", ".join(names[:12]) + (", ..." if len(names) > 12 else "") if names else "none"


def _compare(
    name: str,
    ref: ColumnProfile,
    cur: ColumnProfile,
    method: str,
    threshold: float | None,
    p_min: float | None,
    raw: tuple[Any, Any] | None,
) -> ColumnDrift:
    """One column's statistic; a test's verdict waits for :func:`_adjust`."""
    if cur.kind != ref.kind:
        raise ValidationError(
            f"column '{name}' is {ref.kind} in the reference but {cur.kind} in the current "
            "data; cast it to the reference's type"
        )
    for side, col in (("reference", ref), ("current", cur)):
        if col.count == 0:
            raise ValidationError(
                f"column '{name}' has no non-null values in the {side} data; "
                "fix the data or leave the column out of columns="
            )
    if ref.kind == "numeric" and ref.edges != cur.edges:
        raise ValidationError(
            f"column '{name}': the current profile has other bins than the reference; "
            "profile it with profile(df, bins_from=reference)"
        )
    n_ref, n_cur = ref.count, cur.count
    if method == "auto":
        test = n_ref * n_cur / (n_ref + n_cur) < SWITCH_N_EFF
        if ref.kind == "numeric":
            method = "ks" if test else "wasserstein"
        else:
            method = "chi2" if test else "jensenshannon"
    base: dict[str, Any] = {"column": name, "kind": ref.kind, "method": method}
    base |= {"n_reference": n_ref, "n_current": n_cur}
    if method == "ks":
        stat, p = ks(ref, cur, raw)
    elif method == "chi2":
        stat, p = chi2(ref, cur)
    else:
        stat = distance(method, ref, cur)
        line = threshold if threshold is not None else _DEFAULT_MAX[method]
        return ColumnDrift(**base, statistic=stat, threshold=line, drifted=stat > line)
    return ColumnDrift(**base, statistic=stat, threshold=0.0, drifted=False, p_value=p)


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
            bad = (threshold is not None and r.statistic > threshold) or (
                p_min is not None and p < p_min
            )
            line = threshold if threshold is not None else p_min
            assert line is not None
            results[i] = replace(r, threshold=line, drifted=bool(bad))
        return results
    if tested:
        adjusted = false_discovery_control([results[i].p_value for i in tested], method="bh")
        for i, q in zip(tested, adjusted, strict=True):
            results[i] = replace(
                results[i], threshold=alpha, p_adjusted=float(q), drifted=bool(q <= alpha)
            )
    return results
