from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.validation.drift import (
    chi2_sf,
    column_drift,
    kolmogorov_sf,
    profile_dataframe,
    psi,
)
from jupyter_mlops.validation.gates import GateContext, GateStatus, evaluate_gates


def frame(
    n: int, seed: int, shift: float = 0.0, cities: tuple[float, ...] = (0.5, 0.3, 0.2)
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "income": rng.normal(50 + shift, 10, n),
            "age": rng.integers(18, 80, n),
            "city": rng.choice(["paris", "lyon", "nice"], n, p=list(cities)),
            "flag": rng.random(n) < 0.3,
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 100, n), "D"),
        }
    )


@pytest.fixture(scope="module")
def reference() -> dict:
    return profile_dataframe(frame(20_000, seed=0))


def test_profile_is_json_and_describes_columns(reference: dict) -> None:
    assert json.loads(json.dumps(reference)) == reference
    assert reference["rows"] == 20_000 and reference["format"] == "jupyter-mlops/profile"
    income = reference["columns"]["income"]
    assert income["kind"] == "numeric" and income["count"] == 20_000
    assert len(income["bin_edges"]) == 9 and sum(income["bin_counts"]) == 20_000
    assert len(income["quantiles"]) == 101
    assert income["quantiles"][0] == income["min"] and income["quantiles"][-1] == income["max"]
    city = reference["columns"]["city"]
    assert city["kind"] == "categorical" and set(city["frequencies"]) == {"paris", "lyon", "nice"}
    assert reference["columns"]["flag"]["kind"] == "categorical"
    assert set(reference["columns"]["flag"]["frequencies"]) == {"True", "False"}
    assert reference["columns"]["when"]["kind"] == "datetime"


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
    assert (
        prof["columns"]["c"]["frequencies"] == {"a": 1, "b": 1}
        and prof["columns"]["c"]["other"] == 1
    )
    assert prof["columns"]["empty"]["count"] == 0


def test_psi_basics() -> None:
    assert psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)
    assert psi([50, 50], [90, 10]) > 0.3
    assert math.isfinite(psi([100, 0], [0, 100]))


def test_numeric_drift_statistics(reference: dict) -> None:
    same, shifted = frame(5_000, seed=1), frame(5_000, seed=2, shift=5)
    prof = reference["columns"]["income"]
    assert column_drift(same["income"], prof).statistic < 0.02
    assert column_drift(shifted["income"], prof).statistic > 0.2
    ks_same = column_drift(same["income"], prof, "ks")
    ks_shift = column_drift(shifted["income"], prof, "ks")
    assert ks_same.statistic < 0.03 and ks_same.p_value is not None and ks_same.p_value > 0.01
    assert ks_shift.statistic > 0.15 and ks_shift.p_value is not None and ks_shift.p_value < 1e-6


def test_ks_agrees_with_scipy(reference: dict) -> None:
    stats = pytest.importorskip("scipy.stats")
    train = frame(20_000, seed=0)["income"].to_numpy()
    for shift in (0.0, 1.0, 3.0):
        fresh = frame(4_000, seed=3, shift=shift)["income"]
        ours = column_drift(fresh, reference["columns"]["income"], "ks")
        theirs = stats.ks_2samp(train, fresh.to_numpy())
        assert ours.statistic == pytest.approx(theirs.statistic, abs=0.012)  # 1% quantile grid


def test_ks_on_integer_data_has_no_grid_artefact(reference: dict) -> None:
    stats = pytest.importorskip("scipy.stats")
    train = frame(20_000, seed=0)["age"].to_numpy()
    fresh = frame(20_000, seed=9)["age"]
    ours = column_drift(fresh, reference["columns"]["age"], "ks")
    theirs = stats.ks_2samp(train, fresh.to_numpy())
    assert ours.statistic <= theirs.statistic + 1e-12  # exact CDFs at the grid: a lower bound
    assert ours.statistic == pytest.approx(theirs.statistic, abs=0.005)
    assert ours.p_value is not None and ours.p_value > 0.01


def test_chi2_agrees_with_scipy_contingency(reference: dict) -> None:
    stats = pytest.importorskip("scipy.stats")
    train = frame(20_000, seed=0)
    for seed, cities in [(10, (0.5, 0.3, 0.2)), (11, (0.45, 0.3, 0.25))]:
        fresh = frame(3_000, seed=seed, cities=cities)
        ours = column_drift(fresh["city"], reference["columns"]["city"], "chi2")
        table = [
            train["city"].value_counts().sort_index().to_numpy(),
            fresh["city"].value_counts().sort_index().to_numpy(),
        ]
        theirs = stats.chi2_contingency(table, correction=False)
        assert ours.statistic == pytest.approx(theirs.statistic)
        assert ours.p_value == pytest.approx(theirs.pvalue)


def test_p_values_agree_with_scipy() -> None:
    special = pytest.importorskip("scipy.special")
    stats = pytest.importorskip("scipy.stats")
    for lam in (0.3, 0.5, 1.0, 1.5, 2.5):
        assert kolmogorov_sf(lam) == pytest.approx(special.kolmogorov(lam), abs=1e-10)
    for x, k in [(0.5, 1), (3.0, 2), (10.0, 3), (50.0, 20), (200.0, 150), (1e-3, 5), (400.0, 4)]:
        assert chi2_sf(x, k) == pytest.approx(stats.chi2.sf(x, k), rel=1e-8, abs=1e-300)


def test_categorical_drift(reference: dict) -> None:
    prof = reference["columns"]["city"]
    same = frame(5_000, seed=4)["city"]
    moved = frame(5_000, seed=5, cities=(0.2, 0.3, 0.5))["city"]
    assert column_drift(same, prof).statistic < 0.01
    assert column_drift(moved, prof).statistic > 0.2
    assert column_drift(same, prof, "chi2").p_value > 0.001
    assert column_drift(moved, prof, "chi2").p_value < 1e-10
    unseen = pd.Series(["paris"] * 50 + ["marseille"] * 50)  # a new category is drift
    assert column_drift(unseen, prof).statistic > 1.0


def test_method_must_fit_the_column(reference: dict) -> None:
    with pytest.raises(
        ValueError,
        match="ks does not apply to categorical columns \\(methods for them: psi or chi2\\)",
    ):
        column_drift(pd.Series(["a"]), reference["columns"]["city"], "ks")
    with pytest.raises(ValueError, match="the reference is numeric but the data is str"):
        column_drift(pd.Series(["a"]), reference["columns"]["income"], "psi")


def ctx_for(reference: dict, df: pd.DataFrame) -> GateContext:
    return GateContext(datasets={"scoring": df}, reference_profiles={"train": reference})


def test_drift_gate_default_psi(reference: dict) -> None:
    gate = {"kind": "drift", "dataset": "scoring", "reference": "train"}
    (ok,) = evaluate_gates([gate], ctx_for(reference, frame(5_000, seed=6)))
    assert ok.status is GateStatus.PASS, ok.message
    assert ok.threshold == "psi <= 0.2"
    assert set(ok.details) == {"income", "age", "city", "flag"}  # datetimes are not tested
    assert ok.message.startswith("no drift in 4 columns (worst ")
    (bad,) = evaluate_gates([gate], ctx_for(reference, frame(5_000, seed=6, shift=6)))
    assert bad.status is GateStatus.FAIL
    assert bad.message.startswith("drift in 1 of 4 columns: income: psi 0.")
    assert bad.details["income"]["drifted"] and not bad.details["city"]["drifted"]
    assert bad.observed == bad.details["income"]["statistic"]


def test_drift_gate_ks_and_chi2(reference: dict) -> None:
    df = frame(5_000, seed=7, shift=6)
    gates = [
        {"kind": "drift", "dataset": "scoring", "reference": "train", "method": "ks"},
        {"kind": "drift", "dataset": "scoring", "reference": "train", "method": "ks", "max": 0.5},
        {"kind": "drift", "dataset": "scoring", "reference": "train", "method": "chi2"},
        {
            "kind": "drift",
            "dataset": "scoring",
            "reference": "train",
            "method": "ks",
            "columns": ["age"],
            "p_min": 0.001,
        },
    ]
    ks, ks_loose, chi2, age = evaluate_gates(gates, ctx_for(reference, df))
    assert ks.status is GateStatus.FAIL and set(ks.details) == {"income", "age"}
    assert ks.threshold == "ks <= 0.1"
    assert ks_loose.status is GateStatus.PASS
    assert chi2.status is GateStatus.PASS and set(chi2.details) == {"city", "flag"}
    assert chi2.threshold == "p >= 0.01" and chi2.observed == min(
        d["p_value"] for d in chi2.details.values()
    )
    assert age.status is GateStatus.PASS and age.threshold == "ks <= 0.1, p >= 0.001"


def test_drift_gate_errors(reference: dict) -> None:
    ctx = ctx_for(reference, frame(100, seed=8))
    (r,) = evaluate_gates([{"kind": "drift", "dataset": "scoring"}], ctx)
    assert r.status is GateStatus.FAIL
    assert "no reference profile 'scoring' (profiles: train); record one" in r.message
    (r,) = evaluate_gates(
        [
            {
                "kind": "drift",
                "dataset": "scoring",
                "reference": "train",
                "column": "city",
                "method": "ks",
            }
        ],
        ctx,
    )
    assert r.message == (
        "column 'city': ks does not apply to categorical columns (methods for them: psi or chi2)"
    )
