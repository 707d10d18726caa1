"""check_drift(..., by=): each slice compared on its own, one multiple-testing control over
slices x columns, breaches that name the slice and the column, new and vanished slices, and
one-line errors. Every sample comes from a seeded generator."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.validation.drift_slices import OTHER, SliceProfiles, profile_slices
from jupyter_mlops.validation.profiles import profile


def segments(
    n: int, seed: int, shift: float = 0.0, *, where: str = "c", shares: tuple = (0.25,) * 4
) -> pd.DataFrame:
    """``x`` moved by ``shift`` in segment ``where`` only; ``y`` and ``k`` never move."""
    rng = np.random.default_rng(seed)
    seg = rng.choice(list("abcd")[: len(shares)], n, p=list(shares))
    return pd.DataFrame(
        {
            "segment": seg,
            "x": rng.normal(0, 1, n) + np.where(seg == where, shift, 0.0),
            "y": rng.normal(0, 1, n),
            "k": rng.choice(["u", "v"], n),
        }
    )


def test_a_shift_in_one_segment_is_named_by_slice_and_column() -> None:
    ref, cur = segments(4000, 0), segments(800, 1, shift=1.0)
    report = mlops.check_drift(ref, cur, by="segment")
    assert report.drifted
    bad = [k for k, d in report.columns.items() if d.drifted]
    assert bad == ["segment=c/x"]
    hit = report.columns["segment=c/x"]
    assert (hit.slice, hit.column) == ("segment=c", "x") and hit.method in ("ks", "ad")
    assert hit.n_reference == int((ref.segment == "c").sum())
    assert hit.n_current == int((cur.segment == "c").sum())
    # Every slice's columns (never `segment` itself within a slice), plus the segment shares.
    assert set(report.columns) == {f"segment={s}/{c}" for s in "abcd" for c in "xyk"} | {"segment"}
    assert f"segment=c: x: {hit.method}" in report.summary()
    d = json.loads(json.dumps(report.to_dict()))
    assert d["columns"]["segment=c/x"]["slice"] == "segment=c" and d["drifted"] is True


def test_one_benjamini_hochberg_step_over_slices_and_columns() -> None:
    report = mlops.check_drift(segments(2000, 2), segments(400, 3), by="segment")
    tested = [d for d in report.columns.values() if d.p_value is not None]
    assert len(tested) == 13  # 4 slices x 3 columns + the shares
    expected = false_discovery_control([d.p_value for d in tested], method="bh")
    assert [d.p_adjusted for d in tested] == pytest.approx(list(expected))
    assert not report.drifted


def test_the_segment_mix_is_compared_as_one_more_column() -> None:
    ref = segments(4000, 4)
    cur = segments(800, 5, shares=(0.55, 0.15, 0.15, 0.15))
    report = mlops.check_drift(ref, cur, by="segment")
    assert [k for k, d in report.columns.items() if d.drifted] == ["segment"]
    assert report.columns["segment"].slice is None


def test_per_slice_profiles_compare_like_frames() -> None:
    ref, cur = segments(4000, 6), segments(800, 7, shift=1.0)
    ref_slices = profile_slices(ref, "segment")
    whole = profile(ref.drop(columns="segment"))
    cur_slices = profile_slices(cur, "segment", bins_from=whole)
    for current in (
        cur_slices,
        cur_slices.to_dict(),
        {**profile(cur).to_dict(), "slices": cur_slices.to_dict()},
    ):
        report = mlops.check_drift(ref_slices.to_dict(), current, by="segment")
        assert [k for k, d in report.columns.items() if d.drifted] == ["segment=c/x"]
    # A frame against stored slices: binned like them.
    mixed = mlops.check_drift(ref_slices, cur, by="segment")
    assert [k for k, d in mixed.columns.items() if d.drifted] == ["segment=c/x"]
    # Round trip through JSON, and merging two batches' slices adds their rows.
    again = SliceProfiles.from_dict(json.loads(json.dumps(cur_slices.to_dict())))
    assert again.rows == cur_slices.rows
    assert sum(again.merge(again).rows.values()) == 2 * len(cur)


def test_new_and_vanished_slices_are_named_breaches_not_errors() -> None:
    ref = segments(3000, 8, shares=(0.4, 0.3, 0.3))  # a, b, c
    cur = segments(600, 9, shares=(0.5, 0.5, 0.0))  # no c
    extra = segments(150, 10).assign(segment="e")
    report = mlops.check_drift(ref, pd.concat([cur, extra]), by="segment")
    vanished, new = report.columns["segment=c/segment"], report.columns["segment=e/segment"]
    assert (vanished.method, vanished.drifted, vanished.n_current) == ("vanished slice", True, 0)
    assert (new.method, new.drifted, new.n_reference) == ("new slice", True, 0)
    assert new.n_current == 150
    assert "segment=e: segment: new slice" in report.summary()
    # A rare segment missing from a small batch by chance is named but is no breach.
    rare = segments(3000, 11, shares=(0.49, 0.49, 0.02))
    small = segments(20, 12, shares=(0.5, 0.5, 0.0))
    quiet = mlops.check_drift(rare, small, by="segment")
    assert quiet.columns["segment=c/segment"].method == "vanished slice"
    assert not quiet.columns["segment=c/segment"].drifted


def test_top_slices_pool_the_rest_into_other() -> None:
    ref = segments(4000, 13, shares=(0.4, 0.3, 0.2, 0.1))
    cur = segments(800, 14, shift=2.0, where="d", shares=(0.4, 0.3, 0.2, 0.1))
    report = mlops.check_drift(ref, cur, by="segment", top_slices=2)
    slices = {d.slice for d in report.columns.values() if d.slice}
    assert slices == {"segment=a", "segment=b", f"segment={OTHER}"}
    assert [k for k, d in report.columns.items() if d.drifted] == [f"segment={OTHER}/x"]
    # A value the reference never had falls into (other) when the reference has one.
    new = pd.concat([cur, segments(50, 15).assign(segment="zz")])
    pooled = mlops.check_drift(ref, new, by="segment", top_slices=2)
    assert "segment=zz/segment" not in pooled.columns
    assert pooled.columns[f"segment={OTHER}/x"].n_current == int(
        cur.segment.isin(["c", "d"]).sum() + 50
    )
    sliced = profile_slices(ref, "segment", top=4)
    assert set(sliced.pooled(2).slices) == {"a", "b", OTHER}
    assert sliced.pooled(2).rows[OTHER] == int(ref.segment.isin(["c", "d"]).sum())


def test_one_line_errors() -> None:
    ref, cur = segments(300, 16), segments(100, 17)
    cases = [
        (lambda: mlops.check_drift(ref, cur, by="region"),
         "by='region' is not a column of the reference data (columns: segment, x, y, k)"),
        (lambda: mlops.check_drift(ref, cur.drop(columns="segment"), by="segment"),
         "by='segment' is not a column of the current data (columns: x, y, k)"),
        (lambda: mlops.check_drift(ref, cur, by="segment", columns=["segment", "x"]),
         "slices the data, so it is not compared within slices"),
        (lambda: mlops.check_drift(ref, cur, by="segment", top_slices=0),
         "top_slices must be a whole number >= 1"),
        (lambda: mlops.check_drift(ref, cur, by="segment", columns=["nope"]),
         "column 'nope' is not in the reference data"),
        (lambda: mlops.check_drift(profile(ref), cur, by="segment"),
         "the reference data is not sliced by 'segment'"),
        (lambda: mlops.check_drift(profile_slices(ref, "k"), cur, by="segment"),
         "the reference profiles are sliced by 'k', not 'segment'"),
        (lambda: mlops.check_drift(ref, cur.iloc[:0], by="segment"),
         "the current data has no rows"),
    ]  # fmt: skip
    for call, needle in cases:
        with pytest.raises(ValidationError) as caught:
            call()
        assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_a_column_all_null_in_a_slice_is_judged_by_its_null_share() -> None:
    ref = segments(4000, 18).assign(z=lambda d: d["y"].where(d["y"] > -0.5))  # ~31 % null
    cur = segments(400, 19).assign(z=lambda d: d["y"].where(d["y"] > -0.5))
    few = cur.index[cur.segment == "d"][:2]
    small = cur[(cur.segment != "d") | cur.index.isin(few)].copy()
    small.loc[small.segment == "d", "z"] = np.nan  # two rows, both null: chance, not drift
    quiet = mlops.check_drift(ref, small, by="segment").columns["segment=d/z"]
    assert (quiet.method, quiet.drifted, quiet.n_current) == ("nulls", False, 0)
    cur.loc[cur.segment == "d", "z"] = np.nan  # about 100 rows, all null: drift
    hit = mlops.check_drift(ref, cur, by="segment").columns["segment=d/z"]
    assert (hit.method, hit.drifted) == ("nulls", True)
