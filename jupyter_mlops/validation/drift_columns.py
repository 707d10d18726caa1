"""The per-column engine of :func:`.drift.check_drift`: the options of one comparison, each
column's unadjusted result (the tests and their effect sizes against the practical size delta,
or a named breach) and the multiple-testing step that settles any list of results, whole-frame
or slices x columns (:mod:`.drift_slices`). The rule itself is stated in :mod:`.drift`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..exceptions import ValidationError
from .drift_report import ColumnDrift, breach, null_shares
from .drift_stats import Evidence, ad_test, chi2_test, distance, ks_test, nulls_test
from .profiles import ColumnProfile, Profile

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
