"""The statistics behind :func:`.drift.check_drift`, one column at a time.

- :func:`ks_test`, :func:`ad_test`, :func:`chi2_test` and :func:`nulls_test` give the evidence of
  ``method="auto"``: each measures an effect (a distance between the two sides, in its own
  units), its approximate 95% interval, and the p-value of "the effect is at most ``delta``";
- :func:`ks`, :func:`chi2` and :func:`distance` are the explicit methods (plain tests, and the
  Wasserstein, Jensen-Shannon and PSI distances).

All work on the columns' profiles (KS also on raw rows when both are at hand). numpy and scipy
are imported inside each function: importing the drift module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .profiles import ColumnProfile, numeric_values

_PSI_EPS = 1e-4  # floor for shares, so an empty bin gives a large but finite PSI
_MIN_EXPECTED = 5.0  # chi-square's rule of thumb for expected counts per cell
RAW_KS_MAX_ROWS = 200_000  # exact KS on raw rows up to this many rows in all (time: a sort)
_LEVEL = 0.95  # of the reported intervals


@dataclass(frozen=True)
class Evidence:
    """One test of one column. ``effect`` is the distance between the two sides in the test's
    units (KS: the largest CDF gap; AD: the variance-weighted root-mean-square CDF gap; chi2 and
    nulls: Cohen's w), ``low``-``high`` its approximate 95% interval, ``p_value`` the p-value of
    "effect <= delta" (the plain test's at delta 0)."""

    test: str
    statistic: float
    effect: float
    low: float
    high: float
    p_value: float


def _n_eff(a: float, b: float) -> float:
    return a * b / (a + b)


def ks_test(
    ref: ColumnProfile, cur: ColumnProfile, raw: tuple[Any, Any] | None, delta: float
) -> Evidence:
    """KS: the gap ``D`` between the two samples' CDFs is at most the true gap plus the gap of
    pure sampling noise (triangle inequality), whose law is KS's own; so ``kstwo.sf(D - delta)``
    is a p-value of "true gap <= delta". Exact (``ks_2samp``) on raw rows when there are few
    enough, at the reference's percentile edges otherwise (a lower bound of D)."""
    from scipy import stats

    n = max(1, round(_n_eff(ref.count, cur.count)))
    if raw is not None and ref.count + cur.count <= RAW_KS_MAX_ROWS:
        d, p = ks(ref, cur, raw)
    else:
        d, p = ks(ref, cur, None)
    if delta > 0:
        p = max(p, ks_sf(max(d - delta, 0.0), n))
    half = float(stats.kstwobign.isf(1 - _LEVEL)) / n**0.5  # the interval: asymptotic is enough
    return Evidence("ks", d, d, max(d - half, 0.0), d + half, p)


def ad_test(ref: ColumnProfile, cur: ColumnProfile, delta: float) -> Evidence:
    """Anderson–Darling on the reference's bins (:mod:`.drift_quadratic`): sees changes of
    location, scale and shape, with the tails weighted up. Effect: ``sqrt(A2 / n_eff)``."""
    import numpy as np

    from .drift_quadratic import ad_statistic, ad_weights, quadratic_p, quadratic_quantile

    r = np.asarray(ref.counts, dtype="float64")
    c = np.asarray(cur.counts, dtype="float64")
    if np.count_nonzero(r + c) < 2:  # one value on both sides: nothing can differ
        return Evidence("ad", 0.0, 0.0, 0.0, 0.0, 1.0)
    n = _n_eff(ref.count, cur.count)
    a2 = ad_statistic(r, c)
    weights = ad_weights(r, c)
    p = quadratic_p(a2, weights, n * delta * delta)
    effect = (a2 / n) ** 0.5
    half = (quadratic_quantile(_LEVEL, weights) / n) ** 0.5
    return Evidence("ad", a2, effect, max(effect - half, 0.0), effect + half, p)


def chi2_test(ref: ColumnProfile, cur: ColumnProfile, delta: float) -> Evidence:
    """Chi-square of homogeneity (rare values pooled); ``X2 = n_eff * w^2`` with Cohen's w
    over the pooled shares, and at an effect ``w = delta`` X2 is noncentral chi-square with
    noncentrality ``n_eff * delta^2`` (the usual minimum-effect test)."""
    from scipy import stats

    table = _chi2_table(ref, cur)
    if table is None:
        return Evidence("chi2", 0.0, 0.0, 0.0, 0.0, 1.0)
    res = stats.chi2_contingency(table, correction=False)
    x2, df = float(res.statistic), int(res.dof)
    n = _n_eff(float(table[0].sum()), float(table[1].sum()))
    p = float(res.pvalue) if delta <= 0 else float(stats.ncx2.sf(x2, df, n * delta * delta))
    effect = (x2 / n) ** 0.5
    half = (float(stats.chi2.ppf(_LEVEL, df)) / n) ** 0.5
    return Evidence("chi2", x2, effect, max(effect - half, 0.0), effect + half, p)


def nulls_test(ref: ColumnProfile, cur: ColumnProfile, delta: float) -> Evidence | None:
    """The change in null share: Fisher's exact test on the 2x2 table (valid at any count), and
    at ``delta > 0`` also the minimum-effect chi-square of :func:`chi2_test` (the larger p-value
    counts). None when neither side has a null: the test could not reject, and leaving it out
    keeps the other tests' share of alpha (Tarone's rule for discrete tests)."""
    import numpy as np
    from scipy import stats

    if ref.nulls + cur.nulls == 0 or ref.count + cur.count == 0:
        return None
    table = np.array([[ref.nulls, ref.count], [cur.nulls, cur.count]], dtype="float64")
    rows = table.sum(axis=1)
    n = _n_eff(float(rows[0]), float(rows[1]))
    share = (ref.nulls + cur.nulls) / float(rows.sum())
    gap = cur.nulls / rows[1] - ref.nulls / rows[0]
    effect = abs(float(gap)) / (share * (1 - share)) ** 0.5
    x2 = n * effect * effect
    p = float(stats.fisher_exact(table.astype(np.int64)).pvalue)
    if delta > 0:
        p = max(p, float(stats.ncx2.sf(x2, 1, n * delta * delta)))
    half = (float(stats.chi2.ppf(_LEVEL, 1)) / n) ** 0.5
    return Evidence("nulls", x2, effect, max(effect - half, 0.0), effect + half, p)


def ks(ref: ColumnProfile, cur: ColumnProfile, raw: tuple[Any, Any] | None) -> tuple[float, float]:
    import numpy as np
    from scipy import stats

    if raw is not None:
        res = stats.ks_2samp(numeric_values(raw[0]), numeric_values(raw[1]))
        return float(res.statistic), float(res.pvalue)
    # Both CDFs are exact at the reference's percentile edges; the largest gap there is a lower
    # bound of the full KS statistic, and scipy's own asymptotic rule gives its p-value.
    f_ref = np.cumsum(ref.counts)[:-1] / ref.count
    f_cur = np.cumsum(cur.counts)[:-1] / cur.count
    d = float(np.max(np.abs(f_ref - f_cur))) if len(f_ref) else 0.0
    n_eff = max(1, round(ref.count * cur.count / (ref.count + cur.count)))
    return d, ks_sf(d, n_eff)


def ks_sf(d: float, n: int) -> float:
    """P(KS statistic >= d) at sample size n: scipy's exact ``kstwo`` up to 10,000 (it takes
    0.15 s per call at a million), its limit ``kstwobign`` beyond, where the two agree to
    within 1% of the p-value."""
    from scipy import stats

    if n <= 10_000:
        return float(stats.kstwo.sf(d, n))
    return float(stats.kstwobign.sf(d * n**0.5))


def _aligned(ref: ColumnProfile, cur: ColumnProfile) -> tuple[Any, Any]:
    """Count rows over the union of values, values beyond the kept ``top`` in one last cell."""
    import numpy as np

    keys = list(dict.fromkeys([*ref.categories, *cur.categories]))
    r = [ref.categories.get(k, 0) for k in keys] + [ref.other]
    c = [cur.categories.get(k, 0) for k in keys] + [cur.other]
    return np.array(r, dtype="float64"), np.array(c, dtype="float64")


def chi2(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float]:
    from scipy.stats import chi2_contingency

    table = _chi2_table(ref, cur)
    if table is None:  # too few rows for any cell to expect 5: no evidence either way
        return 0.0, 1.0
    res = chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue)


def _chi2_table(ref: ColumnProfile, cur: ColumnProfile) -> Any:
    """The 2 x k count table, rare values pooled, or None when fewer than two cells remain."""
    import numpy as np

    r, c = _aligned(ref, cur)
    total = r + c
    # Pool the rarest values until each cell expects >= 5 rows in the smaller sample.
    need = _MIN_EXPECTED * total.sum() / min(r.sum(), c.sum())
    pooled = [int(i) for i in np.flatnonzero(total < need)]
    rest = sorted((int(i) for i in np.flatnonzero(total >= need)), key=lambda i: total[i])
    while pooled and total[pooled].sum() < need and rest:
        pooled.append(rest.pop(0))
    rows = [r[rest], c[rest]]
    if pooled:
        rows = [np.append(rows[0], r[pooled].sum()), np.append(rows[1], c[pooled].sum())]
    table = np.vstack(rows)
    table = table[:, table.sum(axis=0) > 0]
    return table if table.shape[1] >= 2 else None


def distance(method: str, ref: ColumnProfile, cur: ColumnProfile) -> float:
    import numpy as np

    if method == "wasserstein":
        from scipy.stats import wasserstein_distance

        # Each bin is represented by the mean of its own values (per-bin sums are kept), so
        # values far outside the reference range count at their distance, not at the edge.
        rc, cc = np.asarray(ref.counts, dtype="float64"), np.asarray(cur.counts, dtype="float64")
        rm, cm = rc > 0, cc > 0
        u = np.asarray(ref.sums)[rm] / rc[rm]
        v = np.asarray(cur.sums)[cm] / cc[cm]
        w = float(wasserstein_distance(u, v, rc[rm], cc[cm]))
        return w / ref.std if ref.std > 0 else w
    if method == "jensenshannon":
        from scipy.spatial.distance import jensenshannon

        r, c = _aligned(ref, cur)
        return float(jensenshannon(r / r.sum(), c / c.sum()))
    return _psi(ref, cur)


def _psi(ref: ColumnProfile, cur: ColumnProfile) -> float:
    """PSI over the reference deciles (numbers) or values (categories)."""
    import numpy as np

    if ref.kind == "numeric":
        rc = np.asarray(ref.counts, dtype="float64")
        mid = (np.cumsum(rc) - rc / 2) / rc.sum()  # each bin goes to the decile of its middle
        group = np.minimum((mid * 10).astype(np.int64), 9)
        r = np.bincount(group, weights=rc, minlength=10)
        c = np.bincount(group, weights=np.asarray(cur.counts, dtype="float64"), minlength=10)
    else:
        r, c = _aligned(ref, cur)
    p = np.clip(r / r.sum(), _PSI_EPS, None)
    q = np.clip(c / c.sum(), _PSI_EPS, None)
    return float(np.sum((q - p) * np.log(q / p)))
