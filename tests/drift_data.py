"""The data the drift tests compare: a reference and shifted copies of one small table."""

from __future__ import annotations

import numpy as np
import pandas as pd


def drift_frame(
    n: int,
    seed: int,
    shift: float = 0.0,
    cities: tuple[float, ...] = (0.5, 0.3, 0.2),
    *,
    flag: bool = False,
    days: int = 9,
) -> pd.DataFrame:
    """``n`` rows: a normal ``income`` moved by ``shift``, ``age``, a ``city`` drawn with the
    ``cities`` shares, a boolean ``flag`` if asked, and a date ``when`` within ``days`` days."""
    rng = np.random.default_rng(seed)
    columns = {
        "income": rng.normal(50 + shift, 10, n),
        "age": rng.integers(18, 80, n),
        "city": rng.choice(["paris", "lyon", "nice"], n, p=list(cities)),
    }
    if flag:  # drawn here, so the columns before and after are those of the same seed
        columns["flag"] = rng.random(n) < 0.3
    columns["when"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, days, n), "D")
    return pd.DataFrame(columns)
