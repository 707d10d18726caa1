"""LightGBM in tracked cells and scripts: the scikit-learn API, ``lgb.train`` and ``lgb.cv``."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.frameworks.lightgbm_flavor import FLAVOR
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
clf = lgb.LGBMClassifier(n_estimators=200, num_leaves=15, verbose=-1)
clf.fit(X_train, y_train, eval_X=(X_test,), eval_y=(y_test,),
        callbacks=[lgb.early_stopping(5, verbose=False)])
"""
TRAIN = """%%track --log-model
evals_result = {}
params = {"objective": "binary", "learning_rate": 0.3, "num_leaves": 7, "verbose": -1}
bst = lgb.train(params, lgb.Dataset(X_train, y_train), 200,
                valid_sets=[lgb.Dataset(X_test, y_test)],
                callbacks=[lgb.record_evaluation(evals_result),
                           lgb.early_stopping(5, verbose=False)])
"""
SKLEARN_PARAMS = {
    "n_estimators": 200,
    "num_leaves": 15,
    "verbose": -1,
    "boosting_type": "gbdt",
    "learning_rate": 0.1,
    "max_depth": -1,
    "min_child_samples": 20,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "reg_alpha": 0.0,
    "reg_lambda": 0.0,
    "objective": "binary",
    "metric": "binary",
}


@pytest.fixture
def lshell(shell):
    shell.run("import lightgbm as lgb\n" + SETUP)
    return shell


def test_a_fitted_classifier_records_set_and_effective_params_curve_and_best_iteration(
    lshell,
) -> None:
    lshell.run(FIT)
    clf = lshell.user_ns["clf"]
    facts = FLAVOR.describe("clf", clf)
    assert facts is not None and dict(facts.params) == SKLEARN_PARAMS
    run = latest_run()
    assert {k: run.params[f"clf.{k}"] for k in SKLEARN_PARAMS} == SKLEARN_PARAMS
    # .fit trains through the framework's own train(), which the hook does not see.
    assert "num_boost_round" not in run.params
    assert "importance.json" not in {a.name for a in run.artifacts}
    logloss = curve(run.id, "valid_0-binary_logloss")
    assert logloss == pytest.approx(list(clf.evals_result_["valid_0"]["binary_logloss"]))
    # LightGBM counts iterations from 1; it stopped 5 rounds after the best one.
    assert len(logloss) == clf.best_iteration_ + 5 < 200
    assert run.metrics["best_iteration"] == clf.best_iteration_
    assert run.metrics["best_score"] == pytest.approx(clf.best_score_["valid_0"]["binary_logloss"])
    imp = table(run, "clf.importance.json")
    assert imp["columns"] == ["feature", "gain", "split"]
    assert len(imp["rows"]) == lshell.user_ns["X"].shape[1]
    assert rows_by_feature(imp)[clf.feature_name_[0]] == [
        pytest.approx(clf.booster_.feature_importance("gain")[0]),
        clf.booster_.feature_importance("split")[0],
    ]


def test_lgb_train_records_its_params_and_curve_and_fills_the_users_dict_as_before(
    lshell,
) -> None:
    original = lgb.train
    lshell.run(TRAIN.removeprefix("%%track --log-model\n"))
    untracked = lshell.user_ns["evals_result"]
    untracked_model = lshell.user_ns["bst"].model_to_string()
    lshell.run(TRAIN)
    assert lgb.train is original
    bst = lshell.user_ns["bst"]
    assert bst.model_to_string() == untracked_model  # bit-identical
    assert lshell.user_ns["evals_result"] == untracked  # the user's dict, filled as before
    run = latest_run()
    hooked = {
        "objective": "binary",
        "learning_rate": 0.3,
        "num_leaves": 7,
        "verbose": -1,
        "num_boost_round": 200,
    }
    assert {k: run.params[k] for k in hooked} == hooked
    assert not any(k.startswith("bst.") for k in run.params)
    assert curve_keys(run.id) == {"valid_0-binary_logloss", "best_iteration", "best_score"}
    logloss = curve(run.id, "valid_0-binary_logloss")
    assert logloss == pytest.approx(list(untracked["valid_0"]["binary_logloss"]))
    assert len(logloss) == bst.best_iteration + 5 < 200
    assert run.metrics["best_iteration"] == bst.best_iteration
    assert rows_by_feature(table(run, "importance.json"))
    assert [a.name for a in run.artifacts if a.kind == "model"] == ["bst"]


def test_lgb_train_in_a_script_run_records_exactly_its_arguments(lshell) -> None:
    ns = lshell.user_ns
    train_set = lgb.Dataset(ns["X_train"], ns["y_train"])
    params = {"objective": "binary", "num_leaves": 4, "verbose": -1}
    with mlops.start_run() as run:
        lgb.train(params, train_set, 12, valid_sets=[train_set])
    assert mlops.get_run(run.id).params == {**params, "num_boost_round": 12}
    assert curve_keys(run.id) == {"training-binary_logloss"}  # no early stopping
    assert len(curve(run.id, "training-binary_logloss")) == 12


def test_each_lgb_train_of_a_loop_is_recorded_under_its_own_names(lshell) -> None:
    ns = lshell.user_ns
    train_set = lgb.Dataset(ns["X_train"], ns["y_train"], free_raw_data=False)
    with mlops.start_run() as run:
        for leaves in (3, 5):
            lgb.train(
                {"num_leaves": leaves, "verbose": -1}, train_set, leaves, valid_sets=[train_set]
            )
    got = mlops.get_run(run.id)
    assert got.params == {
        "num_leaves": 3,
        "verbose": -1,
        "num_boost_round": 3,
        "train_2.num_leaves": 5,
        "train_2.verbose": -1,
        "train_2.num_boost_round": 5,
    }
    assert len(curve(run.id, "training-l2")) == 3
    assert len(curve(run.id, "train_2.training-l2")) == 5


def test_lgb_cv_records_its_params_and_every_curve(lshell) -> None:
    lshell.run(
        "%%track\nres = lgb.cv({'objective': 'binary', 'verbose': -1}, "
        "lgb.Dataset(X_train, y_train), 8, nfold=3)"
    )
    run = latest_run()
    assert {k: run.params[k] for k in ("objective", "num_boost_round", "nfold")} == {
        "objective": "binary",
        "num_boost_round": 8,
        "nfold": 3,
    }
    res = lshell.user_ns["res"]
    assert (
        curve_keys(run.id)
        == set(res)
        == {
            "valid binary_logloss-mean",
            "valid binary_logloss-stdv",
        }
    )
    assert curve(run.id, "valid binary_logloss-mean") == pytest.approx(
        res["valid binary_logloss-mean"]
    )


def test_hooks_are_removed_when_the_cell_fails_or_is_interrupted(lshell) -> None:
    original, original_cv = lgb.train, lgb.cv
    with pytest.raises(lgb.basic.LightGBMError):
        lshell.run(
            "%%track\nbst = lgb.train({'objective': 'no-such-objective', 'verbose': -1}, "
            "lgb.Dataset(X_train, y_train), 3)"
        )
    assert lgb.train is original
    assert latest_run().status == "failed"
    lshell.user_ns["original"] = original
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C; the cell sees the hook on
        lshell.run("%%track\nassert lgb.train is not original\nraise KeyboardInterrupt")
    assert lgb.train is original and lgb.cv is original_cv


@pytest.mark.parametrize("artifact_backend", ["s3"], indirect=True)
def test_the_logged_models_load_from_a_team_store_without_trust_in_a_fresh_process(
    lshell, artifact_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS")  # no publisher is trusted
    for name, cell in (("clf", FIT), ("bst", TRAIN)):
        lshell.run(cell)
        assert format_of(register(latest_run(), name, f"lgb-{name}")) == NATIVE  # no pickle
    clf, bst, X_test = (lshell.user_ns[k] for k in ("clf", "bst", "X_test"))
    loaded = load_fresh(["lgb-clf", "lgb-bst"])
    # The scikit-learn class, rebuilt around the Booster: predict_proba works.
    assert loaded["lgb-clf"] == [
        "LGBMClassifier",
        {
            "predict": clf.predict(X_test).tolist(),
            "predict_proba": clf.predict_proba(X_test).tolist(),
        },
    ]
    assert loaded["lgb-bst"] == ["Booster", {"predict": bst.predict(X_test).tolist()}]


def test_the_example_notebook_records_both_apis(tmp_path: Path) -> None:
    run_notebook(NOTEBOOKS / "lightgbm.ipynb", tmp_path)
    runs = mlops.runs(experiment="lightgbm")
    assert list(runs["status"]) == ["finished", "finished"]
    fit, train = (mlops.get_run(i) for i in reversed(list(runs["id"])))
    assert fit.params["clf.num_leaves"] == 15 and fit.params["clf.objective"] == "binary"
    assert len(curve(fit.id, "valid_0-binary_logloss")) == fit.metrics["best_iteration"] + 10
    assert train.params["num_leaves"] == 15 and train.params["num_boost_round"] == 500
    assert curve_keys(train.id) >= {"training-binary_logloss", "test-binary_logloss"}
    assert len(curve(train.id, "test-binary_logloss")) == train.metrics["best_iteration"] + 10
