"""A batch profile's JSON text made with each reference's edges written once is byte for byte
``json.dumps`` of the profile, whatever its columns (numeric, categorical, odd names, slices)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_mlops.monitoring.profile_text import encoded
from jupyter_mlops.validation.profiles import profile


def batch(rows: int, seed: int, names: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = pd.DataFrame({n: rng.normal(size=rows) for n in names})
    out["city"] = rng.choice(["paris", '"quoted"', "\x00nul"], rows)
    return out


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(0, 50),
    seed=st.integers(0, 1000),
    names=st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=4, unique=True),
)
def test_the_text_is_json_dumps_of_the_profile(rows: int, seed: int, names: list[str]) -> None:
    names = [n for n in names if n != "city"] or ["x"]
    ref = profile(batch(500, 0, names))
    prof = profile(batch(rows, seed, names), bins_from=ref).to_dict()
    prof |= {"slices": {"by": "city", "slices": {"paris": ref.to_dict()}}}
    first, again = encoded(prof), encoded(prof)  # the edges' text made, then reused
    assert first.json_text == again.json_text == json.dumps(prof)
    assert first == prof and json.loads(first.json_text) == json.loads(json.dumps(prof))


def test_plain_values_are_the_values_plain_gives_one_by_one() -> None:
    from jupyter_mlops.monitoring.recording import plain, plain_values

    for y in (
        np.array([1, 2]),
        np.array([1.5, np.nan]),
        np.array([True, False]),
        np.arange(4, dtype=np.uint8),
        np.array([1.5], dtype=np.float16),
        np.array([[1], [2]]),  # 2-D: one value per row, as before
        np.array(["a", "b"]),
        [np.int64(3), 4],
    ):
        got, one_by_one = plain_values(y), [plain(v) for v in list(y)]
        assert repr(got) == repr(one_by_one)
        assert [type(v) for v in got] == [type(v) for v in one_by_one]
