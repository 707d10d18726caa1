"""The rest of the product on framework models: a model trained in a tracked cell registered,
blessed, served by ``mlops.predict`` (shadows included), rolled back and loaded; the model gates
scoring XGBoost and LightGBM models, raw Boosters included, a torch module and a Keras model;
``reproduce`` of a tracked XGBoost cell. Every model here is trained for real, on
scikit-learn's breast-cancer data (569 rows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pandas as pd
import pytest
import torch
from nbclient import NotebookClient
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

import jupyter_mlops as mlops
from jupyter_mlops import frameworks
from jupyter_mlops.frameworks.calls import (
    class_probabilities,
    has_probabilities,
    point_predictions,
)
from jupyter_mlops.model_format import NATIVE, format_of
from jupyter_mlops.pipeline.gate_inputs import _latency_ms_per_row
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.reproduce import reproduce
from jupyter_mlops.validation.gates import GateContext, GateResult, GateStatus, evaluate_gates
from jupyter_mlops.validation.model_checks import score_model

T0 = 1_700_000_000.0  # a fixed batch time: no test reads the wall clock


def _frame(bunch: Any) -> pd.DataFrame:
    # LightGBM renames columns with spaces (and warns): underscores keep the names as given.
    return bunch.data.rename(columns=lambda c: c.replace(" ", "_"))


@pytest.fixture(scope="module")
def cancer() -> dict[str, Any]:
    bunch = load_breast_cancer(as_frame=True)
    X, y = _frame(bunch), bunch.target.to_numpy()
    return {"X": X.iloc[::2], "y": y[::2], "Xv": X.iloc[1::2], "yv": y[1::2]}


CLASSIFIERS = {
    "xgboost": "from xgboost import XGBClassifier as Classifier",
    "lightgbm": "from lightgbm import LGBMClassifier as Classifier",
}
# A weak model and a strong one: one stump, then enough shallow trees to win on every metric.
WEAK = "n_estimators=1, max_depth=1"
STRONG = "n_estimators=40, max_depth=2"
QUIET = {"xgboost": "", "lightgbm": ", verbose=-1"}


def _tracked_pair(shell: Any, which: str, data: dict[str, Any]) -> tuple[Any, Any, list[str]]:
    """A weak then a strong classifier, each fitted by a ``%%track --log-model`` cell; the two
    models and their runs' ids (oldest first)."""
    shell.user_ns.update(X=data["X"], y=data["y"])
    shell.run(CLASSIFIERS[which])
    fitted = []
    for size in (WEAK, STRONG):
        shell.run(
            f"%%track -e {which} --log-model\nclf = Classifier({size}{QUIET[which]}).fit(X, y)"
        )
        fitted.append(shell.user_ns["clf"])
    ids = list(mlops.runs(experiment=which)["id"])[::-1]
    return fitted[0], fitted[1], ids


@pytest.mark.parametrize("which", sorted(CLASSIFIERS))
def test_a_tracked_classifier_is_registered_blessed_served_and_rolled_back(
    shell: Any, cancer: dict[str, Any], which: str
) -> None:
    weak, strong, ids = _tracked_pair(shell, which, cancer)
    registry = ModelRegistry()
    for run_id in ids:
        registry.register("clf", mlops.get_run(run_id), "clf")
    Xv = cancer["Xv"]
    registry.bless("clf@1")
    assert np.array_equal(mlops.predict("clf", Xv, sync=True, now=T0), weak.predict(Xv))

    registry.bless("clf@2")
    served = mlops.predict("clf", Xv, sync=True, now=T0 + 1)
    assert np.array_equal(served, strong.predict(Xv))
    assert not np.array_equal(served, weak.predict(Xv))  # the two versions really differ

    archived, blessed = registry.rollback("clf")
    assert (archived.version, blessed.version) == (2, 1)
    assert np.array_equal(mlops.predict("clf", Xv, sync=True, now=T0 + 2), weak.predict(Xv))
    loaded = mlops.load_model("clf")
    assert type(loaded) is type(weak)
    assert np.array_equal(loaded.predict_proba(Xv), weak.predict_proba(Xv))

    # The archived strong model as a shadow: scored on the same rows, recorded, not returned.
    registry.shadow("clf@2")
    returned = mlops.predict("clf", Xv, sync=True, now=T0 + 3)
    assert np.array_equal(returned, weak.predict(Xv))
    store = mlops.default_tracker().store
    batches = [(b.version, b.role, b.n_rows) for b in store.monitor_batches("clf")]
    n = len(Xv)
    blessed = [(1, "blessed", n), (2, "blessed", n), (1, "blessed", n), (1, "blessed", n)]
    assert sorted(batches) == sorted([*blessed, (2, "shadow", n)])
    (shadow,) = [b for b in store.monitor_batches("clf") if b.role == "shadow"]
    assert shadow.predictions is not None
    mean = shadow.predictions["columns"]["prediction"]["mean"]
    assert mean == pytest.approx(float(strong.predict(Xv).mean()))


def _gate(ctx: GateContext, **spec: Any) -> GateResult:
    (result,) = evaluate_gates([spec], ctx)
    return result


def _expected(model_proba: Any, pred: Any, y: Any) -> dict[str, float]:
    return {
        "accuracy": accuracy_score(y, pred),
        "f1": f1_score(y, pred),
        "roc_auc": roc_auc_score(y, model_proba[:, 1]),
        "log_loss": log_loss(y, model_proba),
    }


@pytest.mark.parametrize("which", sorted(CLASSIFIERS))
def test_the_model_gates_score_xgboost_and_lightgbm_classifiers(
    shell: Any, cancer: dict[str, Any], which: str
) -> None:
    weak, strong, _ = _tracked_pair(shell, which, cancer)
    Xv, yv = cancer["Xv"], cancer["yv"]
    ctx = GateContext(candidate_model=strong, blessed_model=weak, validation=(Xv, yv))
    for which_model, model in (("candidate", strong), ("blessed", weak)):
        expected = _expected(model.predict_proba(Xv), model.predict(Xv), yv)
        for metric, value in expected.items():
            assert score_model(ctx, which_model, metric) == pytest.approx(value), metric
    for metric in ("roc_auc", "log_loss", "accuracy"):
        better = _gate(ctx, kind="no_regression", metric=metric)
        assert better.status is GateStatus.PASS, better.message
    worse = GateContext(candidate_model=weak, blessed_model=strong, validation=(Xv, yv))
    result = _gate(worse, kind="no_regression", metric="roc_auc", abs_tolerance=0.001)
    assert result.status is GateStatus.FAIL
    assert result.details["blessed"] == pytest.approx(
        roc_auc_score(yv, strong.predict_proba(Xv)[:, 1])
    )


def _train_booster(which: str, X: pd.DataFrame, y: Any, objective: str, rounds: int) -> Any:
    if which == "xgboost":
        import xgboost as xgb

        params = {"objective": objective, "max_depth": 2}
        if objective.startswith("multi"):
            params["num_class"] = int(np.max(y)) + 1
        return xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=rounds)
    import lightgbm as lgb

    params = {"objective": objective, "max_depth": 2, "verbose": -1}
    if objective.startswith("multi"):
        params["num_class"] = int(np.max(y)) + 1
    return lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=rounds)


def _native_predict(which: str, booster: Any, X: pd.DataFrame) -> Any:
    """What the user would write: a DMatrix for XGBoost, the frame itself for LightGBM."""
    if which == "xgboost":
        import xgboost as xgb

        return booster.predict(xgb.DMatrix(X))
    return booster.predict(X)


BINARY = {"xgboost": "binary:logistic", "lightgbm": "binary"}
MULTI = {"xgboost": "multi:softprob", "lightgbm": "multiclass"}


@pytest.mark.parametrize("which", sorted(BINARY))
def test_a_raw_booster_is_gated_registered_and_served(cancer: dict[str, Any], which: str) -> None:
    booster = _train_booster(which, cancer["X"], cancer["y"], BINARY[which], rounds=10)
    Xv, yv = cancer["Xv"], cancer["yv"]
    p = _native_predict(which, booster, Xv)
    assert p.ndim == 1 and has_probabilities(booster)
    assert np.array_equal(np.asarray(frameworks.predict(booster, Xv)), p)
    assert np.array_equal(class_probabilities(booster, Xv), np.column_stack([1 - p, p]))
    assert np.array_equal(point_predictions(booster, Xv), (p > 0.5).astype(int))

    ctx = GateContext(candidate_model=booster, validation=(Xv, yv))
    proba, pred = np.column_stack([1 - p, p]), (p > 0.5).astype(int)
    for metric, value in _expected(proba, pred, yv).items():
        assert score_model(ctx, "candidate", metric) == pytest.approx(value), metric
    sliced = Xv.assign(big=np.where(Xv["mean_radius"] > 14, "big", "small"))
    by_size = GateContext(candidate_model=booster, validation=(sliced, yv))
    result = _gate(by_size, kind="slice", column="big", metric="accuracy", min=0.5)
    assert result.status is GateStatus.PASS, result.message
    assert set(result.details["slices"]) == {"big", "small"}

    with mlops.start_run(experiment="boosters") as run:
        run.log_model(booster)
    registry = ModelRegistry()
    mv = registry.register("booster", mlops.get_run(run.id), "model")
    registry.bless(mv.ref)
    served = mlops.predict("booster", Xv, sync=True, now=T0)
    assert np.array_equal(np.asarray(served), p)
    assert np.array_equal(_native_predict(which, mlops.load_model("booster"), Xv), p)


@pytest.mark.parametrize("which", sorted(MULTI))
def test_a_multiclass_booster_gives_its_probabilities_and_likeliest_class(which: str) -> None:
    bunch = load_iris(as_frame=True)
    X, y = _frame(bunch), bunch.target.to_numpy()
    booster = _train_booster(which, X, y, MULTI[which], rounds=5)
    p = _native_predict(which, booster, X)
    assert p.shape == (len(X), 3)
    assert np.array_equal(class_probabilities(booster, X), p)
    assert np.array_equal(point_predictions(booster, X), p.argmax(axis=1))
    ctx = GateContext(candidate_model=booster, validation=(X, y))
    assert score_model(ctx, "candidate", "log_loss") == pytest.approx(log_loss(y, p))


def test_a_regression_booster_has_no_probabilities_and_says_so(cancer: dict[str, Any]) -> None:
    import lightgbm as lgb

    booster = lgb.train(
        {"objective": "regression", "verbose": -1}, lgb.Dataset(cancer["X"], cancer["y"]), 3
    )
    assert not has_probabilities(booster)
    Xv, yv = cancer["Xv"], cancer["yv"]
    assert np.array_equal(point_predictions(booster, Xv), booster.predict(Xv))
    ctx = GateContext(candidate_model=booster, validation=(Xv, yv))
    result = _gate(ctx, kind="no_regression", metric="roc_auc")
    assert result.status is GateStatus.FAIL
    assert result.message == "the candidate model has no predict_proba, which this metric needs"
    rmse = float(np.sqrt(np.mean((booster.predict(Xv) - yv) ** 2)))
    assert score_model(ctx, "candidate", "rmse") == pytest.approx(rmse)


XGBOOST_CELL = """\
%%track -e xgbrep
import xgboost as xgb
from sklearn.datasets import load_breast_cancer
X, y = load_breast_cancer(return_X_y=True)
clf = xgb.XGBClassifier(n_estimators=30, max_depth=3, subsample=0.8, random_state=7)
clf.fit(X[::2], y[::2], eval_set=[(X[1::2], y[1::2])], verbose=False)
dtrain, dvalid = xgb.DMatrix(X[::2], label=y[::2]), xgb.DMatrix(X[1::2], label=y[1::2])
params = {"objective": "binary:logistic", "max_depth": 2, "subsample": 0.7, "seed": 3}
bst = xgb.train(params, dtrain, num_boost_round=20, evals=[(dvalid, "test")], verbose_eval=False)
accuracy = float((clf.predict(X[1::2]) == y[1::2]).mean())
booster_accuracy = float(((bst.predict(dvalid) > 0.5) == y[1::2]).mean())
"""


@pytest.mark.slow
def test_reproduce_of_a_tracked_xgboost_cell_is_reproduced(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in ("%load_ext jupyter_mlops", XGBOOST_CELL)]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    (run_id,) = mlops.runs(experiment="xgbrep")["id"]
    run = mlops.get_run(run_id)
    assert {"accuracy", "booster_accuracy"} <= set(run.metrics)
    report = reproduce(run_id)
    assert report.verdict == "reproduced", report.message
    assert report.new is not None
    assert report.new.metrics == run.metrics


class Regressor(torch.nn.Module):
    """A linear model as a torch module, importable so that its safetensors file loads alone."""

    def __init__(self, n_in: int) -> None:
        super().__init__()
        self.n_in = n_in
        self.linear = torch.nn.Linear(n_in, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def _scaled(data: dict[str, Any]) -> tuple[pd.DataFrame, Any, pd.DataFrame, Any]:
    mean, std = data["X"].mean(), data["X"].std()
    return (data["X"] - mean) / std, data["y"], (data["Xv"] - mean) / std, data["yv"]


def _register_served(model: Any, name: str, Xv: pd.DataFrame) -> Any:
    """``model`` logged in a run, registered and blessed; what ``mlops.predict`` serves."""
    with mlops.start_run(experiment=name) as run:
        art = run.log_model(model)
    registry = ModelRegistry()
    mv = registry.register(name, mlops.get_run(run.id), "model")
    store = mlops.default_tracker().store
    assert format_of(store.artifacts.read_bytes(mv.artifact_uri, art.sha256)) == NATIVE
    registry.bless(mv.ref)
    return mlops.predict(name, Xv, sync=True, now=T0)


def _regression_scores(ctx: GateContext, expected: Any, y: Any) -> None:
    for metric, value in {
        "rmse": mean_squared_error(y, expected) ** 0.5,
        "mae": mean_absolute_error(y, expected),
        "r2": r2_score(y, expected),
    }.items():
        assert score_model(ctx, "candidate", metric) == pytest.approx(value), metric


def test_a_torch_module_is_served_on_a_frame_and_scored_by_the_gates(
    cancer: dict[str, Any],
) -> None:
    X, y, Xv, yv = _scaled(cancer)
    torch.manual_seed(0)
    net = Regressor(X.shape[1])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    inputs = torch.tensor(X.to_numpy(), dtype=torch.float32)
    target = torch.tensor(y, dtype=torch.float32).unsqueeze(1)
    for _ in range(30):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(net(inputs), target).backward()
        optimizer.step()
    with torch.no_grad():
        expected = net(torch.tensor(Xv.to_numpy(), dtype=torch.float32)).numpy()
    assert np.array_equal(_register_served(net, "net", Xv), expected)
    (batch,) = mlops.default_tracker().store.monitor_batches("net")
    assert batch.predictions is not None and batch.n_rows == len(Xv)
    assert batch.predictions["columns"]["prediction"]["mean"] == pytest.approx(expected.mean())
    loaded = mlops.load_model("net")
    assert type(loaded) is Regressor and np.array_equal(frameworks.predict(loaded, Xv), expected)
    ctx = GateContext(candidate_model=net, blessed_model=loaded, validation=(Xv, yv))
    _regression_scores(ctx, expected, yv)
    result = _gate(ctx, kind="no_regression", metric="rmse")
    assert result.status is GateStatus.PASS and result.details["delta"] == 0.0
    assert not has_probabilities(net)
    # The latency gate times it too, though a torch module has no .predict of its own.
    latency = _latency_ms_per_row(net, (Xv, yv))
    assert latency is not None and latency > 0


# Keras 3.15's predict on the torch backend, under NumPy 2: its own objects' __array__ (not ours).
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_a_keras_model_is_served_with_one_column_per_output(
    cancer: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    import keras

    X, y, Xv, yv = _scaled(cancer)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((X.shape[1],)), keras.layers.Dense(2, "softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(X.to_numpy(np.float32), y, epochs=2, batch_size=64, verbose=0)
    expected = model.predict(Xv.to_numpy(np.float32), verbose=0)
    served = _register_served(model, "keras", Xv)
    assert served.shape == (len(Xv), 2) and np.array_equal(served, expected)
    (batch,) = mlops.default_tracker().store.monitor_batches("keras")
    assert batch.predictions is not None
    columns = batch.predictions["columns"]
    assert sorted(columns) == ["prediction_0", "prediction_1"]
    assert columns["prediction_1"]["mean"] == pytest.approx(float(expected[:, 1].mean()))
    loaded = mlops.load_model("keras")
    assert np.array_equal(frameworks.predict(loaded, Xv), expected)
    # Its outputs are probabilities, but nothing says so: a gate that needs them says it.
    ctx = GateContext(candidate_model=loaded, validation=(Xv, yv))
    result = _gate(ctx, kind="no_regression", metric="roc_auc")
    assert result.message == "the candidate model has no predict_proba, which this metric needs"
