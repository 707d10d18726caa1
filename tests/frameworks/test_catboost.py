"""CatBoost models fitted in tracked cells."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.frameworks.catboost_flavor import FLAVOR
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
clf = CatBoostClassifier(iterations=200, depth=3, learning_rate=0.5, verbose=False,
                         allow_writing_files=False)
clf.fit(X_train, y_train, eval_set=(X_test, y_test), early_stopping_rounds=5)
"""


@pytest.fixture
def cshell(shell):
    shell.run("from catboost import CatBoostClassifier\n" + SETUP)
    return shell


def _model_json(model: Any) -> dict[str, Any]:
    """The trained model as CatBoost's JSON, without what differs between identical trainings.

    Each model gets a random id, and CatBoost stamps the wall-clock second training ended, so
    two identical fits straddling a second differ there (this test once failed in CI on it).
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.json"
        model.save_model(str(path), format="json")
        data = json.loads(path.read_text())
    data["model_info"].pop("model_guid")
    data["model_info"].pop("train_finish_time", None)
    return data  # type: ignore[no-any-return]


def test_a_fitted_classifier_records_set_and_effective_params_curves_and_best_iteration(
    cshell,
) -> None:
    cshell.run(FIT)
    clf = cshell.user_ns["clf"]
    expected = {
        "iterations": 200,
        "depth": 3,
        "learning_rate": 0.5,
        "verbose": False,
        "allow_writing_files": False,
        "loss_function": "Logloss",
        "eval_metric": "Logloss",
        "l2_leaf_reg": 3,
        "random_seed": 0,
        "bootstrap_type": "MVS",
        "subsample": 0.8,  # CatBoost's float32 0.800000011920929, read as the float32 it is
        "border_count": 254,
    }
    facts = FLAVOR.describe("clf", clf)
    assert facts is not None and dict(facts.params) == expected
    run = latest_run()
    assert {k: run.params[f"clf.{k}"] for k in expected} == expected
    assert curve_keys(run.id) == {
        "learn-Logloss",
        "validation-Logloss",
        "best_iteration",
        "best_score",
    }
    evals = clf.get_evals_result()
    validation = curve(run.id, "validation-Logloss")
    assert validation == pytest.approx(evals["validation"]["Logloss"])
    assert curve(run.id, "learn-Logloss") == pytest.approx(evals["learn"]["Logloss"])
    # Early stopping: the curve ends 5 iterations after the best one, well before 200.
    assert len(validation) == clf.get_best_iteration() + 1 + 5 < 200
    assert run.metrics["best_iteration"] == clf.get_best_iteration()
    assert run.metrics["best_score"] == pytest.approx(clf.get_best_score()["validation"]["Logloss"])
    imp = table(run, "clf.importance.json")
    assert imp["columns"] == ["feature", "prediction_values_change"]
    by_feature = rows_by_feature(imp)
    assert by_feature == {
        f: [pytest.approx(v)]
        for f, v in zip(clf.feature_names_, clf.get_feature_importance(), strict=True)
    }
    assert not [w for w in run.warnings if "catboost" in w.lower()]


def test_training_is_bit_identical_with_and_without_track(cshell) -> None:
    cshell.run(FIT.removeprefix("%%track --log-model\n"))
    untracked = _model_json(cshell.user_ns["clf"])
    cshell.run(FIT)
    assert _model_json(cshell.user_ns["clf"]) == untracked


@pytest.mark.parametrize("artifact_backend", ["s3"], indirect=True)
def test_the_logged_model_loads_from_a_team_store_without_trust_in_a_fresh_process(
    cshell, artifact_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS")  # no publisher is trusted
    cshell.run(FIT)
    assert format_of(register(latest_run(), "clf", "cat-clf")) == NATIVE  # no pickle
    clf, X_test = cshell.user_ns["clf"], cshell.user_ns["X_test"]
    assert load_fresh(["cat-clf"])["cat-clf"] == [
        "CatBoostClassifier",
        {
            "predict": clf.predict(X_test).tolist(),
            "predict_proba": clf.predict_proba(X_test).tolist(),
        },
    ]


def test_the_example_notebook_records_the_fit(tmp_path: Path) -> None:
    run_notebook(NOTEBOOKS / "catboost.ipynb", tmp_path)
    (run_id,) = mlops.runs(experiment="catboost")["id"]
    run = mlops.get_run(run_id)
    assert run.status == "finished"
    assert run.params["clf.depth"] == 4 and run.params["clf.iterations"] == 300
    assert isinstance(run.params["clf.learning_rate"], float)  # chosen by CatBoost: recorded
    validation = curve(run.id, "validation-Logloss")
    assert len(validation) == run.metrics["best_iteration"] + 11
    assert [a.name for a in run.artifacts if a.kind == "model"] == ["clf"]
