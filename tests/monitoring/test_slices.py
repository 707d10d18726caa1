"""Monitors per slice: predict(..., slice_by=) keeps a profile per slice value in the batch
record, the drift check compares per slice and names the slice and column, and the slice check
groups by its own column (refusing one predict never sliced by). Real store, fixed clock."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.monitoring import evaluate, log_labels, predict
from jupyter_mlops.monitoring.slices import sliced_profile, stored_slices
from jupyter_mlops.monitoring.spec import MonitorSpec
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.validation.profiles import Profile

from .helpers import DAY, T0, Threshold, features, register, truth

DRIFT = {"checks": [{"kind": "drift", "action": "none"}]}


def regional(n: int, seed: int, north_shift: float = 0.0) -> pd.DataFrame:
    """``features`` with ``x1`` moved in the north only (the south keeps its shape)."""
    X = features(n, seed)
    X["x1"] = X["x1"] + np.where(X["region"] == "north", north_shift, 0.0)
    return X


def register_sliced(tracker: mlops.Tracker, name: str) -> int:
    """A blessed model whose training run logged a profile with slices by region."""
    with tracker.start_run(experiment=name) as run:
        run.log_model(Threshold(), "model")
        prof = sliced_profile(features(3000, seed=0), "region")
        run.log_bytes(json.dumps(prof).encode(), "profile:train", kind="profile")
    registry = ModelRegistry(tracker.store)
    mv = registry.register(name, tracker.get_run(run.id), "model")
    registry.bless(mv.ref)
    return mv.version


def test_batches_keep_a_profile_per_slice_binned_like_the_reference(
    tracker: mlops.Tracker,
) -> None:
    register_sliced(tracker, "churn")
    for day in range(2):
        predict("churn", features(300, seed=day), slice_by="region", now=T0 + day * DAY)
    predict("churn", features(100, seed=9), now=T0 + 2 * DAY)  # not sliced: no slices kept
    first, second, plain = tracker.store.monitor_batches("churn")
    sliced = stored_slices(first.profile)
    assert sliced is not None and sliced.by == "region" and set(sliced.slices) == {"north", "south"}
    assert sum(sliced.rows.values()) == 300 and stored_slices(plain.profile) is None
    whole = Profile.from_dict(first.profile or {})
    assert sliced.slices["north"].columns["x1"].edges == whole.columns["x1"].edges
    assert "region" not in sliced.slices["north"].columns  # constant within a slice
    merged = sliced.merge(stored_slices(second.profile))  # type: ignore[arg-type]
    assert sum(merged.rows.values()) == 600


def test_drift_breach_names_the_slice_and_the_column(tracker: mlops.Tracker) -> None:
    register(tracker, "churn", Threshold())  # a training profile without slices
    spec = MonitorSpec.from_dict("churn", DRIFT)
    # Day 0 is the per-slice reference (the version's first batch sliced by region).
    predict("churn", regional(2000, seed=1), slice_by="region", now=T0)
    predict("churn", regional(600, seed=2, north_shift=0.8), slice_by="region", now=T0 + DAY)
    ev = evaluate("churn", now=T0 + DAY + 60, spec=spec, act=False)
    (check,) = ev.checks
    assert check.breached and check.detail["by"] == "region"
    assert check.detail["drifted"] == ["region=north/x1"]
    assert set(check.detail["columns"]) >= {"region=south/x1", "region=north/x2", "region"}


def test_a_sliced_training_profile_is_the_per_slice_reference(tracker: mlops.Tracker) -> None:
    register_sliced(tracker, "churn")
    spec = MonitorSpec.from_dict("churn", {"checks": [{"kind": "drift", "by": "region"}]})
    predict("churn", regional(600, seed=3, north_shift=0.8), slice_by="region", now=T0)
    (check,) = evaluate("churn", now=T0 + 60, spec=spec, act=False).checks
    assert check.check == "drift:drift[region]"
    assert check.breached and check.detail["drifted"] == ["region=north/x1"]


def test_drift_by_a_column_no_batch_was_sliced_by_is_pending(tracker: mlops.Tracker) -> None:
    register(tracker, "churn", Threshold())
    predict("churn", features(300, seed=4).drop(columns="region"), now=T0)  # no slice_by
    spec = MonitorSpec.from_dict("churn", {"checks": [{"kind": "drift", "by": "region"}]})
    (check,) = evaluate("churn", now=T0 + 60, spec=spec, act=False).checks
    assert check.status == "pending" and not check.breached
    assert check.detail["skip"] == (
        "no batch in the window was sliced by 'region'; pass slice_by='region' to predict"
    )
    # Without by:, an unsliced window is compared whole, as before.
    (whole,) = evaluate("churn", now=T0 + 60, spec=MonitorSpec.from_dict("churn", DRIFT)).checks
    assert whole.status == "ok" and "by" not in whole.detail


def test_slice_check_groups_by_its_own_column_and_refuses_another(
    tracker: mlops.Tracker,
) -> None:
    register(tracker, "churn", Threshold())
    X = features(400, seed=5)
    X["band"] = np.where(X["x2"] > 0, "high", "low")
    ids = [f"r{i}" for i in range(400)]
    predict("churn", X, ids=ids, slice_by="band", now=T0)
    y = truth(X).copy()
    y[(X["region"] == "north").to_numpy()] ^= 1  # wrong in the north: bad by region, not by band
    log_labels("churn", ids, y, now=T0 + 60)
    checks = [
        {"kind": "slice", "column": column, "metric": "accuracy", "min": 0.7}
        for column in ("no_such_column", "region", "band")
    ]
    ev = evaluate("churn", now=T0 + 120, spec=MonitorSpec.from_dict("churn", {"checks": checks}))
    wrong, region, band = ev.checks
    assert wrong.status == "pending" and not wrong.breached
    assert wrong.detail["skip"] == (
        "no labelled row in the window was scored with slice_by='no_such_column' (scored with "
        "slice_by='band'); pass slice_by='no_such_column' to predict"
    )
    assert region.status == "pending" and "pass slice_by='region'" in region.detail["skip"]
    # By band, both slices hold about half the northern (wrong) rows: neither passes 0.7.
    assert band.breached and set(band.detail["breaching"]) == {"high", "low"}
    assert band.detail["labelled"] == 400
    # Sliced by region, the same labels breach in the north only.
    ids2 = [f"s{i}" for i in range(400)]
    predict("churn", X, ids=ids2, slice_by="region", now=T0 + 200)
    log_labels("churn", ids2, y, now=T0 + 260)
    ev2 = evaluate("churn", now=T0 + 300, spec=MonitorSpec.from_dict("churn", {"checks": checks}))
    assert ev2.checks[1].breached and set(ev2.checks[1].detail["breaching"]) == {"north"}
    assert ev2.checks[1].detail["labelled"] == 400


def test_spec_by_is_for_drift_checks_only() -> None:
    bad = {"checks": [{"kind": "slice", "column": "region", "metric": "f1", "min": 0.5,
                       "by": "region"}]}  # fmt: skip
    with pytest.raises(ValidationError, match="a slice check names its column:"):
        MonitorSpec.from_dict("churn", bad)
    with pytest.raises(ValidationError, match="by: names the slice_by column"):
        MonitorSpec.from_dict("churn", {"checks": [{"kind": "drift", "by": 3}]})
