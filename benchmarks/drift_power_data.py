"""The issue-20 drift data: 20 numeric columns and 2 string columns, and its shifted copies.

Numeric: 7 normal (``n0``-``n6``), 4 lognormal (``ln0``-``ln3``), 3 integer (``int0``-``int2``),
2 zero/one (``bin0``, ``bin1``), 3 five-level integers (``lvl0``-``lvl2``) and one normal column
with 30 % NaN (``nan0``). Strings: ``city`` (shares 0.30 / 0.45 / 0.25) and ``segment`` (four
equal slices ``a``-``d``). Every shift is applied to a copy of a same-distribution sample, so a
scenario differs from the null case in the shifted cells only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

CITIES = ("paris", "lyon", "nice")
CITY = (0.30, 0.45, 0.25)
CITY_SHIFTED = (0.35, 0.40, 0.25)  # the 30 -> 35 % category shift
SEGMENTS = ("a", "b", "c", "d")
NUMERIC = (
    [f"n{i}" for i in range(7)]
    + [f"ln{i}" for i in range(4)]
    + [f"int{i}" for i in range(3)]
    + ["bin0", "bin1", "lvl0", "lvl1", "lvl2", "nan0"]
)
STRINGS = ["city", "segment"]
SHIFTED = "n0"  # the column every numeric scenario moves (sd 1)
NULLED = "n1"  # the column that gains 10 % NaN


def _draw(rng: np.random.Generator, shares: tuple[float, ...], n: int) -> np.ndarray:
    return np.searchsorted(np.cumsum(shares)[:-1], rng.random(n), side="right")


def make_frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """``n`` rows of the issue's 22 columns, all from one fixed distribution."""
    cols: dict[str, Any] = {f"n{i}": rng.normal(i, 1.0 + i / 4, n) for i in range(7)}
    cols |= {f"ln{i}": rng.lognormal(0.0, 0.5 + i / 4, n) for i in range(4)}
    cols["int0"] = rng.integers(18, 80, n)
    cols["int1"] = rng.integers(0, 10_000, n)
    cols["int2"] = rng.poisson(3.0, n)
    cols["bin0"] = (rng.random(n) < 0.3).astype(np.int64)
    cols["bin1"] = (rng.random(n) < 0.5).astype(np.int64)
    for i, shares in enumerate(
        [(0.2,) * 5, (0.4, 0.3, 0.15, 0.1, 0.05), (0.1, 0.2, 0.4, 0.2, 0.1)]
    ):
        cols[f"lvl{i}"] = _draw(rng, shares, n) + 1
    nan0 = rng.normal(10.0, 2.0, n)
    nan0[rng.random(n) < 0.3] = np.nan
    cols["nan0"] = nan0
    cols["city"] = np.array(CITIES, dtype=object)[_draw(rng, CITY, n)]
    cols["segment"] = np.array(SEGMENTS, dtype=object)[rng.integers(0, 4, n)]
    return pd.DataFrame(cols)


def variance(frame: pd.DataFrame, factor: float = 1.5) -> pd.DataFrame:
    """``n0``'s variance times ``factor``, its mean kept."""
    mean = frame[SHIFTED].mean()
    return frame.assign(**{SHIFTED: mean + (frame[SHIFTED] - mean) * np.sqrt(factor)})


def new_nulls(frame: pd.DataFrame, rng: np.random.Generator, share: float = 0.1) -> pd.DataFrame:
    """``share`` of ``n1``'s values turned NaN (the column has none in the reference)."""
    values = frame[NULLED].to_numpy(copy=True)
    values[rng.random(len(values)) < share] = np.nan
    return frame.assign(**{NULLED: values})


def mean_shift(frame: pd.DataFrame, sd: float, segment: str | None = None) -> pd.DataFrame:
    """``n0`` moved by ``sd`` standard deviations, in one ``segment`` only if given."""
    moved = frame[SHIFTED] + sd
    if segment is not None:
        moved = frame[SHIFTED].where(frame["segment"] != segment, moved)
    return frame.assign(**{SHIFTED: moved})


def city_shift(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """``city`` redrawn with the shifted shares (paris 30 -> 35 %, lyon 45 -> 40 %)."""
    return frame.assign(city=np.array(CITIES, dtype=object)[_draw(rng, CITY_SHIFTED, len(frame))])
