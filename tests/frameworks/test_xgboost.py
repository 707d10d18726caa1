"""XGBoost in tracked cells and scripts: the scikit-learn API, ``xgb.train`` and ``xgb.cv``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

import jupyter_mlops as mlops
from jupyter_mlops import frameworks
from jupyter_mlops.frameworks import xgboost_flavor
from jupyter_mlops.frameworks.xgboost_flavor import FLAVOR
from jupyter_mlops.model_format import NATIVE

from .boosting_data import (
    NOTEBOOKS,
    SETUP,
    curve,
    curve_keys,
    format_of,
    latest_run,
    load_fresh,
    register,
    rows_by_feature,
    run_notebook,
    table,
)

FIT = """%%track --log-model
clf = xgb.XGBClassifier(n_estimators=200, max_depth=3, early_stopping_rounds=5)
clf.fit(X_train, y_train, eval_set=[(X_test, y_test)], verbose=False)
"""
TRAIN = """%%track --log-model
params = {"max_depth": 3, "eta": 0.3, "objective": "binary:logistic"}
dtrain = xgb.DMatrix(X_train, y_train)
dtest = xgb.DMatrix(X_test, y_test)
bst = xgb.train(params, dtrain, 200, evals=[(dtest, "test")], early_stopping_rounds=5,
                verbose_eval=False)
"""
# What the scikit-learn cell sets, and the effective values of the important defaults that
# XGBoost's get_params() reports as None.
SKLEARN_PARAMS = {
    "n_estimators": 200,
    "max_depth": 3,
    "early_stopping_rounds": 5,
    "objective": "binary:logistic",
    "learning_rate": 0.3,
    "eval_metric": "logloss",
    "subsample": 1,
    "colsample_bytree": 1,
    "min_child_weight": 1,
    "reg_alpha": 0,
    "reg_lambda": 1,
    "tree_method": "auto",
    "random_state": 0,
}


@pytest.fixture
def xshell(shell):
    shell.run("import xgboost as xgb\n" + SETUP)
    return shell


def test_a_fitted_classifier_records_set_and_effective_params_curve_and_best_iteration(
    xshell,
) -> None:
    xshell.run(FIT)
    clf = xshell.user_ns["clf"]
    facts = FLAVOR.describe("clf", clf)
    assert facts is not None and dict(facts.params) == SKLEARN_PARAMS  # no None wall
    run = latest_run()
    assert {k: run.params[f"clf.{k}"] for k in SKLEARN_PARAMS} == SKLEARN_PARAMS
    # .fit trains through the framework's own train(), which the hook does not see.
    assert "num_boost_round" not in run.params
    assert "importance.json" not in {a.name for a in run.artifacts}
    logloss = curve(run.id, "validation_0-logloss")
    assert logloss == pytest.approx(clf.evals_result()["validation_0"]["logloss"])
    # Early stopping ran: the curve ends 5 rounds after the best one, well before 200.
    assert len(logloss) == clf.best_iteration + 1 + 5 < 200
    assert run.metrics["best_iteration"] == clf.best_iteration
    assert run.metrics["best_score"] == pytest.approx(clf.best_score)
    assert logloss[clf.best_iteration] == pytest.approx(min(logloss))
    imp = table(run, "clf.importance.json")
    assert imp["columns"] == ["feature", "gain", "weight"]
    assert set(rows_by_feature(imp)) == set(xshell.user_ns["X"].columns)
    gains = [r[1] for r in imp["rows"]]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0
    assert not [w for w in run.warnings if "xgboost" in w.lower()]


def test_xgb_train_in_a_cell_records_its_params_curve_best_iteration_and_unhooks(
    xshell,
) -> None:
    original = xgb.train
    xshell.run(TRAIN)
    assert xgb.train is original  # the hook is removed when the cell ends
    bst = xshell.user_ns["bst"]
    run = latest_run()
    hooked = {
        "max_depth": 3,
        "eta": 0.3,
        "objective": "binary:logistic",
        "num_boost_round": 200,
        "early_stopping_rounds": 5,
    }
    assert {k: run.params[k] for k in hooked} == hooked
    assert not any(k.startswith("bst.") for k in run.params)  # recorded once, by the hook
    assert curve_keys(run.id) == {"test-logloss", "best_iteration", "best_score"}
    logloss = curve(run.id, "test-logloss")
    assert len(logloss) == bst.num_boosted_rounds() == bst.best_iteration + 1 + 5 < 200
    assert run.metrics["best_iteration"] == bst.best_iteration
    assert run.metrics["best_score"] == pytest.approx(bst.best_score)
    assert rows_by_feature(table(run, "importance.json"))
    assert [a.name for a in run.artifacts if a.kind == "model"] == ["bst"]
    assert run.warnings == ()


def test_xgb_train_in_a_script_run_records_exactly_its_arguments_and_fills_the_users_dict(
    xshell,
) -> None:
    ns = xshell.user_ns
    dtrain = xgb.DMatrix(ns["X_train"], ns["y_train"])
    dtest = xgb.DMatrix(ns["X_test"], ns["y_test"])
    params = {"max_depth": 2, "eta": 0.5, "objective": "binary:logistic"}
    mine: dict = {}
    with mlops.start_run() as run:
        xgb.train(
            params,
            dtrain,
            12,
            evals=[(dtrain, "train"), (dtest, "test")],
            evals_result=mine,
            verbose_eval=False,
        )
    got = mlops.get_run(run.id)
    assert got.params == {**params, "num_boost_round": 12}
    assert curve_keys(run.id) == {"train-logloss", "test-logloss"}  # no early stopping
    assert curve(run.id, "train-logloss") == pytest.approx(mine["train"]["logloss"])
    assert len(mine["test"]["logloss"]) == 12


def test_each_xgb_train_of_a_loop_is_recorded_under_its_own_names(xshell) -> None:
    xshell.run(
        "%%track\ndtrain = xgb.DMatrix(X_train, y_train)\ndtest = xgb.DMatrix(X_test, y_test)\n"
        "for eta in (0.1, 0.5):\n"
        "    bst = xgb.train({'eta': eta}, dtrain, 6 if eta < 0.3 else 4,\n"
        "                    evals=[(dtest, 'test')], verbose_eval=False)"
    )
    run = latest_run()
    assert {k: v for k, v in run.params.items() if "eta" in k or "num_boost" in k} == {
        "eta": 0.1,
        "num_boost_round": 6,
        "train_2.eta": 0.5,
        "train_2.num_boost_round": 4,
    }
    assert curve_keys(run.id) == {"test-rmse", "train_2.test-rmse"}
    assert len(curve(run.id, "test-rmse")) == 6
    assert len(curve(run.id, "train_2.test-rmse")) == 4
    assert {a.name for a in run.artifacts if a.kind == "table"} == {
        "importance.json",
        "train_2.importance.json",
    }


def test_params_as_a_list_of_pairs_record_a_repeated_key_as_a_list(xshell) -> None:
    ns = xshell.user_ns
    dtrain = xgb.DMatrix(ns["X_train"], ns["y_train"])
    pairs = [("objective", "binary:logistic"), ("eval_metric", "auc"), ("eval_metric", "logloss")]
    with mlops.start_run() as run:
        xgb.train(pairs, dtrain, 5, evals=[(dtrain, "train")], verbose_eval=False)
    assert mlops.get_run(run.id).params == {
        "objective": "binary:logistic",
        "eval_metric": ["auc", "logloss"],
        "num_boost_round": 5,
    }
    assert curve_keys(run.id) == {"train-auc", "train-logloss"}


def test_xgb_cv_records_its_params_and_every_column_as_a_curve(xshell) -> None:
    xshell.run(
        "%%track\nparams = {'max_depth': 2, 'objective': 'binary:logistic'}\n"
        "res = xgb.cv(params, xgb.DMatrix(X_train, y_train), 8, nfold=3)"
    )
    run = latest_run()
    assert {k: run.params[k] for k in ("max_depth", "num_boost_round", "nfold")} == {
        "max_depth": 2,
        "num_boost_round": 8,
        "nfold": 3,
    }
    res = xshell.user_ns["res"]
    assert curve_keys(run.id) == set(res.columns)
    assert curve(run.id, "test-logloss-mean") == pytest.approx(list(res["test-logloss-mean"]))


def test_training_is_bit_identical_with_and_without_track(xshell) -> None:
    plain = TRAIN.removeprefix("%%track --log-model\n")
    xshell.run(plain)
    untracked = xshell.user_ns["bst"].save_raw()
    xshell.run(TRAIN)
    assert xshell.user_ns["bst"].save_raw() == untracked
    xshell.run(FIT.removeprefix("%%track --log-model\n"))
    untracked = xshell.user_ns["clf"].get_booster().save_raw()
    xshell.run(FIT)
    assert xshell.user_ns["clf"].get_booster().save_raw() == untracked


def test_hooks_are_removed_when_the_cell_fails_or_is_interrupted(xshell) -> None:
    original, original_cv = xgb.train, xgb.cv
    with pytest.raises(xgb.core.XGBoostError):
        xshell.run(
            "%%track\nbst = xgb.train({'objective': 'no-such-objective'}, "
            "xgb.DMatrix(X_train, y_train), 3)"
        )
    assert xgb.train is original
    assert latest_run().status == "failed"
    xshell.user_ns["original"] = original
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C; the cell sees the hook on
        xshell.run("%%track\nassert xgb.train is not original\nraise KeyboardInterrupt")
    assert xgb.train is original and xgb.cv is original_cv


def test_a_recording_failure_costs_one_warning_never_the_training(
    xshell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As with an XGBoost version whose booster answers differently: the call returns the
    same booster, and the run says what was not recorded."""
    xshell.run(TRAIN.removeprefix("%%track --log-model\n"))
    untracked = xshell.user_ns["bst"].save_raw()

    def unknown_layout(booster: object) -> dict:
        raise KeyError("gain")

    monkeypatch.setattr(xgboost_flavor, "_importance", unknown_layout)
    xshell.run(TRAIN)
    assert xshell.user_ns["bst"].save_raw() == untracked
    run = latest_run()
    assert run.status == "finished"
    assert run.warnings == ("xgboost: xgb.train was not fully recorded (KeyError: 'gain')",)
    assert run.params["num_boost_round"] == 200  # what was recorded before the failure stays


@pytest.mark.parametrize("artifact_backend", ["s3"], indirect=True)
def test_the_logged_models_load_from_a_team_store_without_trust_in_a_fresh_process(
    xshell, artifact_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS")  # no publisher is trusted
    for name, cell in (("clf", FIT), ("bst", TRAIN)):
        xshell.run(cell)
        assert format_of(register(latest_run(), name, f"xgb-{name}")) == NATIVE  # no pickle
    clf, bst, X_test = (xshell.user_ns[k] for k in ("clf", "bst", "X_test"))
    loaded = load_fresh(["xgb-clf", "xgb-bst"])
    assert loaded["xgb-clf"] == [
        "XGBClassifier",
        {
            "predict": clf.predict(X_test).tolist(),
            "predict_proba": clf.predict_proba(X_test).tolist(),
        },
    ]
    assert loaded["xgb-bst"] == ["Booster", {"predict": bst.predict(xgb.DMatrix(X_test)).tolist()}]


def test_predict_makes_the_dmatrix_for_a_raw_booster(xshell) -> None:
    xshell.run(TRAIN)
    bst, X_test = xshell.user_ns["bst"], xshell.user_ns["X_test"]
    np.testing.assert_array_equal(frameworks.predict(bst, X_test), bst.predict(xgb.DMatrix(X_test)))


def test_the_example_notebook_records_both_apis(tmp_path: Path) -> None:
    run_notebook(NOTEBOOKS / "xgboost.ipynb", tmp_path)
    runs = mlops.runs(experiment="xgboost")
    assert list(runs["status"]) == ["finished", "finished"]
    fit, train = (mlops.get_run(i) for i in reversed(list(runs["id"])))
    assert fit.params["clf.max_depth"] == 3 and fit.params["clf.learning_rate"] == 0.1
    assert len(curve(fit.id, "validation_0-logloss")) == fit.metrics["best_iteration"] + 11
    assert train.params["eta"] == 0.1 and train.params["num_boost_round"] == 500
    assert len(curve(train.id, "test-logloss")) == train.metrics["best_iteration"] + 11
    assert {a.name for a in (*fit.artifacts, *train.artifacts) if a.kind == "model"} == {
        "clf",
        "bst",
    }


def test_objects_in_params_are_recorded_by_import_path_never_by_address(xshell) -> None:
    xshell.run(
        "%%track\ndef margin(y_true, y_pred):\n    return 0.0\n"
        "clf = xgb.XGBClassifier(n_estimators=3, eval_metric=margin,\n"
        "                        callbacks=[xgb.callback.EarlyStopping(rounds=2)])\n"
        "clf.fit(X_train, y_train, eval_set=[(X_test, y_test)], verbose=False)"
    )
    run = latest_run()
    assert run.params["clf.callbacks"] == ["xgboost.callback.EarlyStopping"]
    assert run.params["clf.eval_metric"] == "__main__.margin"
    assert len(curve(run.id, "validation_0-margin")) == 3
