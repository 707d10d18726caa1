"""The plain scipy.stats baseline: what a careful user writes by hand in a notebook.

Two-sample Kolmogorov-Smirnov per numeric column (``scipy.stats.ks_2samp`` on the non-null
values), chi-square test of homogeneity per string column (``scipy.stats.chi2_contingency`` on the
two count rows), and one Benjamini-Hochberg step over every p-value
(``scipy.stats.false_discovery_control``). With ``by``, the same per slice, under one step over
slices x columns. Nulls are dropped, as ``ks_2samp`` needs: this baseline cannot see them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05


def _pvalue(reference: pd.Series, current: pd.Series) -> float:
    if reference.dtype.kind in "biuf":
        ref, cur = reference.dropna().to_numpy(), current.dropna().to_numpy()
        return float(stats.ks_2samp(ref, cur).pvalue) if len(ref) and len(cur) else 1.0
    table = pd.concat([reference.value_counts(), current.value_counts()], axis=1).fillna(0)
    if len(table) < 2:  # one category on both sides: nothing can differ
        return 1.0
    return float(stats.chi2_contingency(table.to_numpy().T).pvalue)


def _pvalues(reference: pd.DataFrame, current: pd.DataFrame, skip: str | None) -> dict[str, float]:
    return {c: _pvalue(reference[c], current[c]) for c in reference.columns if c != skip}


def scipy_drifted(
    reference: pd.DataFrame, current: pd.DataFrame, by: str | None = None
) -> set[tuple[str, str]]:
    """The ``(slice, column)`` pairs whose BH-adjusted p-value is <= ``ALPHA``; the slice is
    ``""`` without ``by``."""
    if by is None:
        found = {("", c): p for c, p in _pvalues(reference, current, None).items()}
    else:
        found = {}
        for value, cur in current.groupby(by, observed=True):
            ref = reference[reference[by] == value]
            found |= {(str(value), c): p for c, p in _pvalues(ref, cur, by).items()}
    adjusted = stats.false_discovery_control(np.array(list(found.values())), method="bh")
    return {key for key, p in zip(found, adjusted, strict=True) if p <= ALPHA}
