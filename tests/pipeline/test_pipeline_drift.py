"""The pipeline `drift` gate over check_drift: default `auto`, old explicit methods and thresholds
still accepted, input errors as one-line results."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.validation.drift import check_drift
from jupyter_mlops.validation.gates import GateContext, GateStatus, evaluate_gates
from jupyter_mlops.validation.profiles import profile_dataframe
from tests.drift_data import drift_frame


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    return drift_frame(n, seed, shift, flag=True, days=100)


@pytest.fixture(scope="module")
def reference() -> dict:
    return profile_dataframe(frame(20_000, seed=0))


def test_profile_is_json_and_describes_columns(reference: dict) -> None:
    assert json.loads(json.dumps(reference)) == reference
    assert reference["rows"] == 20_000 and reference["format"] == "jupyter-mlops/profile"
    income = reference["columns"]["income"]
    assert income["kind"] == "numeric" and income["count"] == 20_000
    assert len(income["edges"]) == 99 and sum(income["counts"]) == 20_000
    assert income["min"] <= income["edges"][0] and income["edges"][-1] <= income["max"]
    city = reference["columns"]["city"]
    assert city["kind"] == "categorical" and set(city["categories"]) == {"paris", "lyon", "nice"}
    assert set(reference["columns"]["flag"]["categories"]) == {"True", "False"}
    assert reference["columns"]["when"]["kind"] == "datetime"
    assert len(reference["columns"]["age"]["edges"]) <= 62  # integer data: ties share an edge


def test_profile_handles_nulls_top_values_and_empty_columns() -> None:
    df = pd.DataFrame(
        {
            "x": [1.0, None, 3.0, np.inf],
            "c": ["a", "b", None, "c"],
            "empty": [None, None, None, None],
        }
    )
    prof = profile_dataframe(df, top=2)
    assert prof["columns"]["x"]["nulls"] == 1 and prof["columns"]["x"]["count"] == 2
    assert prof["columns"]["c"]["categories"] == {"a": 1, "b": 1}
    assert prof["columns"]["c"]["other"] == 1
    assert prof["columns"]["empty"]["count"] == 0


def ctx_for(reference: dict, df: pd.DataFrame) -> GateContext:
    return GateContext(datasets={"scoring": df}, reference_profiles={"train": reference})


def test_drift_gate_default_is_check_drift_auto(reference: dict) -> None:
    gate = {"kind": "drift", "dataset": "scoring", "reference": "train"}
    fresh = frame(5_000, seed=16)
    (ok,) = evaluate_gates([gate], ctx_for(reference, fresh))
    assert ok.status is GateStatus.PASS, ok.message
    assert ok.threshold == "no column drifts (auto, alpha 0.05)" and ok.observed == 0
    assert set(ok.details) == {"income", "age", "city", "flag"}  # datetimes are not tested
    same = check_drift(reference, fresh).to_dict()["columns"]
    assert ok.details == same  # the gate is check_drift, nothing more
    assert ok.message.startswith("no drift in 4 columns (closest ")
    (bad,) = evaluate_gates([gate], ctx_for(reference, frame(5_000, seed=16, shift=6)))
    assert bad.status is GateStatus.FAIL
    assert bad.message.startswith("drift in 1 of 4 columns: income: ad: distance 0.")
    assert bad.details["income"]["drifted"] and not bad.details["city"]["drifted"]
    assert bad.details["income"]["method"] == "ad" and bad.observed == 0.25


def test_drift_gate_small_sample_raises_no_false_alarm(reference: dict) -> None:
    """The old default (PSI <= 0.2) alarmed on most 50-row samples of the same data."""
    gate = {"kind": "drift", "dataset": "scoring", "reference": "train"}
    alarms = [
        evaluate_gates([gate], ctx_for(reference, frame(50, seed=100 + i)))[0].status
        is GateStatus.FAIL
        for i in range(20)
    ]
    psi_gate = gate | {"method": "psi"}
    old = [
        evaluate_gates([psi_gate], ctx_for(reference, frame(50, seed=100 + i)))[0].status
        is GateStatus.FAIL
        for i in range(20)
    ]
    assert sum(alarms) <= 2 and sum(old) >= 8  # expected: 1 (5% of 20) against ~10


def test_drift_gate_explicit_methods_keep_their_yaml(reference: dict) -> None:
    df = frame(5_000, seed=7, shift=6)
    base = {"kind": "drift", "dataset": "scoring", "reference": "train"}
    gates = [
        base | {"method": "psi"},
        base | {"method": "ks", "max": 0.1},
        base | {"method": "ks", "max": 0.5},
        base | {"method": "chi2"},
        base | {"method": "ks", "columns": ["age"], "max": 0.1, "p_min": 0.001},
        base | {"method": "chi2", "p_min": 0.01},
    ]
    psi, ks, ks_loose, chi2, age, chi2_old = evaluate_gates(gates, ctx_for(reference, df))
    assert psi.status is GateStatus.FAIL and psi.threshold == "psi <= 0.2"
    assert set(psi.details) == {"income", "age", "city", "flag"}
    assert psi.observed == psi.details["income"]["statistic"]
    assert ks.status is GateStatus.FAIL and set(ks.details) == {"income", "age"}
    assert ks.threshold == "ks <= 0.1"
    assert ks_loose.status is GateStatus.PASS
    assert chi2.status is GateStatus.PASS and set(chi2.details) == {"city", "flag"}
    assert chi2.threshold == "chi2 adjusted p > 0.05"
    assert chi2.observed == min(d["p_adjusted"] for d in chi2.details.values())
    assert age.status is GateStatus.PASS and age.threshold == "ks <= 0.1, p >= 0.001"
    assert chi2_old.status is GateStatus.PASS and chi2_old.threshold == "chi2 p >= 0.01"


def test_drift_gate_accepts_new_fields_and_rejects_bad_ones(reference: dict) -> None:
    df = frame(5_000, seed=8)
    base = {"kind": "drift", "dataset": "scoring", "reference": "train"}
    js, w, strict = evaluate_gates(
        [
            base | {"method": "jensenshannon"},
            base | {"method": "wasserstein", "columns": ["income"], "max": 0.2},
            base | {"alpha": 0.01},
        ],
        ctx_for(reference, df),
    )
    assert js.status is GateStatus.PASS and set(js.details) == {"city", "flag"}
    assert w.status is GateStatus.PASS and w.threshold == "wasserstein <= 0.2"
    assert strict.status is GateStatus.PASS and strict.threshold.endswith("alpha 0.01)")
    from jupyter_mlops.exceptions import GateSpecError
    from jupyter_mlops.validation.gates import parse_gates

    for bad, field in [({"method": "kl"}, "method"), ({"alpha": 2}, "alpha")]:
        with pytest.raises(GateSpecError, match=field):
            parse_gates([base | bad])


def test_drift_gate_errors(reference: dict) -> None:
    ctx = ctx_for(reference, frame(100, seed=8))
    (r,) = evaluate_gates([{"kind": "drift", "dataset": "scoring"}], ctx)
    assert r.status is GateStatus.FAIL
    assert "no reference profile 'scoring' (profiles: train); record one" in r.message
    gate = {"kind": "drift", "dataset": "scoring", "reference": "train"}
    (r,) = evaluate_gates([gate | {"column": "city", "method": "ks"}], ctx)
    assert r.status is GateStatus.FAIL
    assert r.message == (
        "column 'city': ks does not apply to categorical columns; "
        "use method='auto' or drop it from columns="
    )
    (r,) = evaluate_gates([gate], ctx_for(reference, frame(100, seed=8).assign(age="x")))
    assert r.message.endswith(
        "age: type: numeric in the reference but categorical in the current data"
    )
