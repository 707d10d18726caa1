"""Random frames round trip through column storage exactly, whatever the chunking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_mlops.hashing import fingerprint
from jupyter_mlops.store.artifacts import LocalArtifactStore
from jupyter_mlops.store.columns import get_frame, put_frame

TEXT = st.text(max_size=5)


def _column(kind: str, draw: Any, n: int) -> Any:
    if kind == "float":
        return np.array(draw(st.lists(st.floats(), min_size=n, max_size=n)), dtype=float)
    if kind == "int":
        return np.array(draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n)))
    if kind == "bool":
        return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    if kind == "Int64":
        ints = st.none() | st.integers(-(2**63), 2**63 - 1)
        return pd.array(draw(st.lists(ints, min_size=n, max_size=n)), dtype="Int64")
    if kind == "category":
        cats = draw(st.lists(TEXT, min_size=1, max_size=4, unique=True))
        codes = draw(st.lists(st.integers(-1, len(cats) - 1), min_size=n, max_size=n))
        return pd.Categorical.from_codes(codes, categories=cats, ordered=draw(st.booleans()))
    if kind == "object":
        values = st.none() | st.just(float("nan")) | TEXT
        return pd.Series(draw(st.lists(values, min_size=n, max_size=n)), dtype=object)
    strings = draw(st.lists(st.none() | TEXT, min_size=n, max_size=n))
    return pd.array(strings, dtype=kind)


KINDS = ["float", "int", "bool", "Int64", "category", "object", "string[pyarrow]", "str"]


@st.composite
def frames(draw: Any) -> pd.DataFrame:
    n = draw(st.integers(0, 12))
    kinds = draw(st.lists(st.sampled_from(KINDS), max_size=4))
    names = draw(st.lists(TEXT | st.integers(-5, 5), min_size=len(kinds), max_size=len(kinds)))
    df = pd.DataFrame({i: _column(k, draw, n) for i, k in enumerate(kinds)})
    df.columns = pd.Index(names, dtype=object)
    if draw(st.booleans()):
        df.index = pd.Index(draw(st.lists(TEXT, min_size=n, max_size=n)), name="key", dtype=object)
    return df


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=frames(), rows=st.integers(1, 5))
def test_random_frames_round_trip(tmp_path_factory: Any, df: pd.DataFrame, rows: int) -> None:
    arts = LocalArtifactStore(Path(tmp_path_factory.mktemp("columns")))
    m = put_frame(arts, df, rows_per_chunk=rows)
    back = get_frame(arts, m)  # verified against the fingerprint
    pd.testing.assert_frame_equal(back, df, check_exact=True)
    assert fingerprint(back).hash == m.fingerprint
