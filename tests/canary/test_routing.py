"""Sticky routing: a stable hash of the key, shares within a point over 100k keys, and a
canary key that stays in as the share grows."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.monitoring.routing import BUCKETS, bucket, in_canary, split

KEYS = [f"user-{i}" for i in range(100_000)]


@pytest.mark.parametrize("share", [0.02, 0.05, 0.1, 0.25, 0.5, 1.0])
def test_shares_within_one_point_over_100k_keys(share: float) -> None:
    mask = split(KEYS, share)
    assert mask.dtype == bool and mask.shape == (len(KEYS),)
    assert abs(mask.mean() - share) <= 0.01


def test_same_key_same_arm_and_a_canary_key_stays_as_the_share_grows() -> None:
    shares = [0.02, 0.05, 0.1, 0.25, 0.5, 1.0]
    masks = [split(KEYS, s) for s in shares]
    assert np.array_equal(masks[0], split(KEYS, 0.02))  # sticky within a step
    for smaller, larger in itertools.pairwise(masks):
        assert not (smaller & ~larger).any()  # once in, always in
    assert [in_canary(k, 0.1) for k in KEYS[:500]] == list(masks[2][:500])


def test_the_hash_is_stable_across_processes() -> None:
    """Not Python's salted hash(): another interpreter puts each key in the same bucket."""
    code = (
        "from jupyter_mlops.monitoring.routing import bucket; print(bucket('user-7'), bucket(42))"
    )
    root = str(Path(__file__).resolve().parents[2])  # this checkout, first on the path
    env = {**os.environ, "PYTHONPATH": root, "PYTHONHASHSEED": "123"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == [str(bucket("user-7")), str(bucket(42))]


@given(st.text(max_size=40), st.floats(0.0, 1.0))
def test_bucket_range_and_agreement(key: str, share: float) -> None:
    assert 0 <= bucket(key) < BUCKETS
    assert bool(split([key], share)[0]) == in_canary(key, share)


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_a_share_outside_0_1_is_refused(share: float) -> None:
    with pytest.raises(ValidationError, match="fraction"):
        split(["a"], share)
