"""The contract in the store and in ``mlops.predict``: recorded rows on both backends, a
version registered before contracts existed inferred from its training profile, and each
policy's effect on a scored batch."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.validation.contract import ContractError, policy_of, signature_of
from tests.monitoring.helpers import T0, Threshold, features, register


def test_signature_rows_round_trip_and_replace(tracker: mlops.Tracker) -> None:
    store = tracker.store
    assert store.model_signature("m", 1) is None
    store.set_model_signature("m", 1, '{"columns": []}', "reject")
    store.set_model_signature("m", 1, '{"columns": [], "named": false}', "warn")
    assert store.model_signature("m", 1) == ('{"columns": [], "named": false}', "warn")
    assert store.model_events("m") == []  # only a policy set by a user is an event


def test_a_version_without_a_recorded_contract_is_inferred_from_its_profile(
    tracker: mlops.Tracker,
) -> None:
    """Registered as before contracts (ModelRegistry.register records none): on first use,
    the training profile gives kinds and nulls; a custom model names no features, so other
    columns (region) pass."""
    register(tracker, "thr", Threshold())
    store = tracker.store
    mv = store.get_model("thr")
    assert store.model_signature("thr", mv.version) is None
    sig = signature_of(store, mv)
    assert sig is not None and sig.source == "profile" and not sig.closed
    assert [(c.name, c.kind, c.nullable) for c in sig.columns] == [
        ("x1", "float", False),
        ("x2", "float", False),
    ]
    assert policy_of(store, mv) == "reject"
    X = features(20, seed=1)
    assert len(mlops.predict("thr", X, now=T0, sync=True)) == 20
    bad = X.assign(x1=X["x1"].astype(str))
    bad.loc[3, "x2"] = np.nan
    with pytest.raises(ContractError) as err:
        mlops.predict("thr", bad, now=T0, sync=True)
    assert [(v.column, v.problem) for v in err.value.violations] == [
        ("x1", "wrong_type"),
        ("x2", "null_not_allowed"),
    ]
    assert len(store.monitor_batches("thr")) == 1  # the refused batch was not recorded


def test_coerce_and_warn_in_predict(tracker: mlops.Tracker, caplog) -> None:
    register(tracker, "thr", Threshold())
    X = features(10, seed=2)
    expected = mlops.predict("thr", X, now=T0, sync=True)
    as_text = X.assign(x1=X["x1"].astype(str))
    mlops.set_contract_policy("thr@1", "coerce")
    assert (mlops.predict("thr", as_text, now=T0, sync=True) == expected).all()
    mlops.set_contract_policy("thr@1", "warn")
    seen = X.assign(x2=X["x2"].astype("float32"))
    with caplog.at_level(logging.WARNING, logger="jupyter_mlops.validation.contract"):
        assert (mlops.predict("thr", seen, now=T0, sync=True) == expected).all()
    assert not caplog.records  # float32 is a float: nothing to warn about
    nulls = X.copy()
    nulls.loc[0, "x1"] = np.nan
    with caplog.at_level(logging.WARNING, logger="jupyter_mlops.validation.contract"):
        mlops.predict("thr", nulls, now=T0, sync=True)
    (record,) = caplog.records
    assert "thr@1 (1 violation(s)): column 'x1' has 1 null(s)" in record.getMessage()
    actions = [e.action for e in tracker.store.model_events("thr")]
    assert actions[-2:] == ["contract", "contract"]
