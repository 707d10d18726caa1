from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.datasets import make_classification, make_regression
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from jupyter_mlops.validation.gates import GateContext, GateResult, GateStatus, evaluate_gates
from jupyter_mlops.validation.model_checks import MODEL_METRICS, score_model


@pytest.fixture(scope="module")
def classification() -> dict[str, Any]:
    X, y = make_classification(n_samples=600, n_features=6, n_informative=4, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    # A slice column the models ignore; region "c" is small.
    frame["region"] = np.where(np.arange(600) < 300, "a", np.where(np.arange(600) < 590, "b", "c"))
    train, valid = frame.iloc[::2], frame.iloc[1::2]
    ytr, yva = y[::2], y[1::2]

    def model(estimator: Any) -> Any:
        drop = make_column_transformer(("drop", ["region"]), remainder="passthrough")
        return make_pipeline(drop, estimator).fit(train, ytr)

    return {
        "good": model(LogisticRegression()),
        "dummy": model(DummyClassifier(strategy="prior")),
        "X": valid,
        "y": yva,
    }


def gate(ctx: GateContext, **g: Any) -> GateResult:
    (result,) = evaluate_gates([g], ctx)
    return result


def test_metrics_match_sklearn(classification: dict[str, Any]) -> None:
    c = classification
    ctx = GateContext(candidate_model=c["good"], validation=(c["X"], c["y"]))
    proba = c["good"].predict_proba(c["X"])
    pred = c["good"].predict(c["X"])
    assert score_model(ctx, "candidate", "accuracy") == pytest.approx(accuracy_score(c["y"], pred))
    assert score_model(ctx, "candidate", "f1") == pytest.approx(f1_score(c["y"], pred))
    assert score_model(ctx, "candidate", "roc_auc") == pytest.approx(
        roc_auc_score(c["y"], proba[:, 1])
    )
    assert score_model(ctx, "candidate", "log_loss") == pytest.approx(log_loss(c["y"], proba))


def test_no_regression_passes_for_a_better_candidate(classification: dict[str, Any]) -> None:
    c = classification
    ctx = GateContext(
        candidate_model=c["good"], blessed_model=c["dummy"], validation=(c["X"], c["y"])
    )
    r = gate(ctx, kind="no_regression", metric="roc_auc")
    assert r.status is GateStatus.PASS, r.message
    assert r.details["candidate"] > 0.7 and r.details["blessed"] == pytest.approx(0.5)
    assert r.message.startswith("roc_auc: candidate 0.")


def test_no_regression_fails_for_a_worse_candidate_with_the_numbers(
    classification: dict[str, Any],
) -> None:
    c = classification
    ctx = GateContext(
        candidate_model=c["dummy"], blessed_model=c["good"], validation=(c["X"], c["y"])
    )
    r = gate(ctx, kind="no_regression", metric="accuracy", abs_tolerance=0.01)
    assert r.status is GateStatus.FAIL
    blessed = r.details["blessed"]
    assert r.threshold == f">= {blessed - 0.01:.4g}"
    assert r.details["allowed"] == pytest.approx(0.01)
    # A lower-is-better metric flips the direction.
    r = gate(ctx, kind="no_regression", metric="log_loss", rel_tolerance=0.1)
    assert r.status is GateStatus.FAIL and r.threshold.startswith("<= ")


def test_tolerances_allow_a_small_regression(classification: dict[str, Any]) -> None:
    c = classification
    ctx = GateContext(
        candidate_model=c["good"], blessed_model=c["good"], validation=(c["X"], c["y"])
    )
    assert gate(ctx, kind="no_regression", metric="f1").status is GateStatus.PASS  # equal passes
    ctx.cache[("candidate", id(c["good"]), False)] = c["dummy"].predict(c["X"])  # pretend worse
    ctx.cache[("blessed", id(c["good"]), False)] = c["good"].predict(c["X"])
    drop = score_model(ctx, "blessed", "accuracy") - score_model(ctx, "candidate", "accuracy")
    assert gate(ctx, kind="no_regression", metric="accuracy", abs_tolerance=drop + 0.01).status is (
        GateStatus.PASS
    )
    rel = (drop + 0.01) / score_model(ctx, "blessed", "accuracy")
    assert gate(ctx, kind="no_regression", metric="accuracy", rel_tolerance=rel).status is (
        GateStatus.PASS
    )


def test_no_blessed_model_skips_and_says_so(classification: dict[str, Any]) -> None:
    c = classification
    ctx = GateContext(candidate_model=c["good"], validation=(c["X"], c["y"]))
    r = gate(ctx, kind="no_regression", metric="accuracy")
    assert r.status is GateStatus.SKIP
    assert r.message.startswith("no blessed model yet: only value thresholds apply")


def test_missing_validation_data_or_model(classification: dict[str, Any]) -> None:
    ctx = GateContext(candidate_model=classification["good"])
    r = gate(ctx, kind="no_regression", metric="accuracy")
    assert r.status is GateStatus.FAIL
    assert "no validation data; log it in the notebook with mlops.log_validation_data" in r.message
    ctx = GateContext(validation=(classification["X"], classification["y"]))
    r = gate(ctx, kind="no_regression", metric="accuracy")
    assert r.message == "no candidate model; log the model in the notebook"


def test_model_without_predict_proba(classification: dict[str, Any]) -> None:
    class Hard:
        def predict(self, X: Any) -> Any:
            return np.zeros(len(X), dtype=int)

    ctx = GateContext(candidate_model=Hard(), validation=(classification["X"], classification["y"]))
    r = gate(ctx, kind="no_regression", metric="roc_auc")
    assert "has no predict_proba, which this metric needs" in r.message


def test_each_model_predicts_once_across_gates(classification: dict[str, Any]) -> None:
    calls = []

    class Counting:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def predict(self, X: Any) -> Any:
            calls.append(1)
            return self.inner.predict(X)

    c = classification
    model = Counting(c["good"])
    ctx = GateContext(candidate_model=model, validation=(c["X"], c["y"]))
    gates = [
        {"kind": "no_regression", "metric": "accuracy"},
        {"kind": "slice", "column": "region", "metric": "accuracy", "min": 0.5},
        {"kind": "slice", "column": "region", "metric": "f1", "min": 0.5},
    ]
    evaluate_gates(gates, ctx)
    assert len(calls) == 1


def test_slice_gate(classification: dict[str, Any]) -> None:
    c = classification
    ctx = GateContext(candidate_model=c["good"], validation=(c["X"], c["y"]))
    r = gate(ctx, kind="slice", column="region", metric="accuracy", min=0.6, min_size=10)
    assert r.status is GateStatus.PASS, r.message
    assert set(r.details["slices"]) == {"a", "b"}
    assert r.details["skipped"] == {"c": "5 rows < min_size 10"}
    assert r.threshold == "each accuracy >= 0.6"
    r = gate(ctx, kind="slice", column="region", metric="accuracy", min=0.99)
    assert r.status is GateStatus.FAIL
    assert "region=a:" in r.message and r.observed == min(
        v["value"] for v in r.details["slices"].values()
    )
    r = gate(ctx, kind="slice", column="zone", metric="accuracy", min=0.5)
    assert r.message == "slice column 'zone' is not a column of the validation data X"
    r = gate(ctx, kind="slice", column="region", metric="accuracy", min=0.5, min_size=10_000)
    assert r.status is GateStatus.SKIP


def test_slice_with_a_single_class_is_skipped_not_crashed(classification: dict[str, Any]) -> None:
    c = classification
    y = c["y"].copy()
    y[c["X"]["region"].to_numpy() == "c"] = 1  # one class only in slice c
    ctx = GateContext(candidate_model=c["good"], validation=(c["X"], y))
    r = gate(ctx, kind="slice", column="region", metric="roc_auc", min=0.5)
    assert r.status is GateStatus.PASS, r.message
    assert "Only one class is present" in r.details["skipped"]["c"]


def test_regression_metrics() -> None:
    X, y = make_regression(n_samples=200, n_features=3, noise=5.0, random_state=1)
    good = LinearRegression().fit(X[:100], y[:100])
    dummy = DummyRegressor().fit(X[:100], y[:100])
    ctx = GateContext(candidate_model=good, blessed_model=dummy, validation=(X[100:], y[100:]))
    for metric in ("r2", "rmse", "mae"):
        assert gate(ctx, kind="no_regression", metric=metric).status is GateStatus.PASS
    rmse = score_model(ctx, "candidate", "rmse")
    assert rmse == pytest.approx(np.sqrt(np.mean((good.predict(X[100:]) - y[100:]) ** 2)))
    assert not MODEL_METRICS["rmse"].higher_is_better


def test_multiclass_metrics() -> None:
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=2
    )
    model = LogisticRegression().fit(X[:150], y[:150])
    ctx = GateContext(candidate_model=model, validation=(X[150:], y[150:]))
    assert score_model(ctx, "candidate", "f1") == pytest.approx(
        f1_score(y[150:], model.predict(X[150:]), average="macro")
    )
    assert 0.5 < score_model(ctx, "candidate", "roc_auc") <= 1.0


@pytest.fixture(scope="module")
def wine() -> dict[str, Any]:
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True)
    X, y = data.data, data.target
    train, valid = X.iloc[::2], X.iloc[1::2]
    two = ["proline", "flavanoids"]
    return {
        "full": make_pipeline(StandardScaler(), LogisticRegression()).fit(train, y.iloc[::2]),
        "two": LogisticRegression(max_iter=2000).fit(train[two], y.iloc[::2]),
        "X": valid,
        "two_cols": two,
        "y": y.iloc[1::2],
    }


def test_a_changed_feature_set_is_explained_in_plain_words(wine: dict[str, Any]) -> None:
    w = wine
    ctx = GateContext(
        candidate_model=w["two"],
        blessed_model=w["full"],
        blessed_ref="wine@2",
        validation=(w["X"][w["two_cols"]], w["y"]),
    )
    r = gate(ctx, kind="no_regression", metric="accuracy")
    assert r.status is GateStatus.FAIL
    assert r.message.startswith(
        "the blessed model wine@2 expects 13 features, this run's validation rows have 2 "
        "(missing: alcohol, malic_acid, ash, alcalinity_of_ash, magnesium, … (6 more)); "
        "log the full validation frame and select features inside the model pipeline"
    ), r.message
    assert "feature names should match" not in r.message


def test_each_model_takes_its_own_columns_from_a_full_validation_frame(
    wine: dict[str, Any],
) -> None:
    w = wine
    shuffled = w["X"][list(reversed(w["X"].columns))]  # order differs from fit: still fine
    ctx = GateContext(
        candidate_model=w["two"], blessed_model=w["full"], validation=(shuffled, w["y"])
    )
    r = gate(ctx, kind="no_regression", metric="accuracy", abs_tolerance=1.0)
    assert r.status is GateStatus.PASS, r.message
    expected = accuracy_score(w["y"], w["full"].predict(w["X"]))
    assert r.details["blessed"] == pytest.approx(expected)


def test_a_model_fitted_on_arrays_gets_the_count_of_features(wine: dict[str, Any]) -> None:
    w = wine
    model = LogisticRegression(max_iter=2000).fit(w["X"].to_numpy()[:, :3], w["y"])
    ctx = GateContext(candidate_model=model, validation=(w["X"].to_numpy(), w["y"]))
    r = gate(ctx, kind="no_regression", metric="accuracy")
    assert r.status is GateStatus.FAIL
    assert r.message.startswith(
        "this run's model expects 3 features, this run's validation rows have 13; log the full"
    )
