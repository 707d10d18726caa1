"""The statistics behind :func:`.drift.check_drift`, one column at a time: the KS and chi-square
tests (p-values from scipy) and the Wasserstein, Jensen-Shannon and PSI distances, computed on the
columns' profiles (or, for an exact KS, on the raw rows).

numpy and scipy are imported inside each function: importing the drift module stays cheap.
"""

from __future__ import annotations

from typing import Any

from .profiles import ColumnProfile, numeric_values

_PSI_EPS = 1e-4  # floor for shares, so an empty bin gives a large but finite PSI
_MIN_EXPECTED = 5.0  # chi-square's rule of thumb for expected counts per cell


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
    return d, float(stats.kstwo.sf(d, n_eff))


def _aligned(ref: ColumnProfile, cur: ColumnProfile) -> tuple[Any, Any]:
    """Count rows over the union of values, values beyond the kept ``top`` in one last cell."""
    import numpy as np

    keys = list(dict.fromkeys([*ref.categories, *cur.categories]))
    r = [ref.categories.get(k, 0) for k in keys] + [ref.other]
    c = [cur.categories.get(k, 0) for k in keys] + [cur.other]
    return np.array(r, dtype="float64"), np.array(c, dtype="float64")


def chi2(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float]:
    import numpy as np
    from scipy.stats import chi2_contingency

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
    if table.shape[1] < 2:  # too few rows for any cell to expect 5: no evidence either way
        return 0.0, 1.0
    res = chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue)


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
