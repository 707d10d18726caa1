"""What a tracked search cell records: the search space as data, the best params and score,
the per-candidate results as a table (scikit-learn's searches and an Optuna study)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import jupyter_mlops as mlops

SETUP = """
import numpy as np
from scipy.stats import loguniform
from sklearn.datasets import make_classification
from sklearn.svm import SVC
X, y = make_classification(n_samples=120, n_features=5, random_state=0)
"""

SEARCH = """%%track
from sklearn.model_selection import RandomizedSearchCV
space = {"C": loguniform(0.01, 100), "gamma": loguniform(1e-3, 1)}
search = RandomizedSearchCV(
    SVC(class_weight="balanced"), space, n_iter=5, cv=3, random_state=0
).fit(X, y)
"""


def _last_run() -> mlops.Run:
    return mlops.get_run(mlops.runs(limit=1)["id"].iloc[0])


def _table(run: mlops.Run, name: str) -> dict[str, Any]:
    (artifact,) = [a for a in run.artifacts if a.name == name]
    assert artifact.kind == "table"
    data = mlops.default_tracker().store.artifacts.read_bytes(artifact.uri, artifact.sha256)
    table: dict[str, Any] = json.loads(data)
    return table


def test_random_search_records_space_best_params_score_and_candidates(shell) -> None:
    shell.run(SETUP)
    shell.run(SEARCH)
    search = shell.user_ns["search"]
    run = _last_run()
    params = run.params
    # What the search found, not the base estimator's defaults (C=1.0, gamma='scale').
    assert params["search.best_params.C"] == search.best_params_["C"]
    assert params["search.best_params.gamma"] == search.best_params_["gamma"]
    assert run.metrics["search.best_score"] == search.best_score_
    # The space as data: a distribution by its name and arguments.
    assert params["search.param_distributions.C"] == {"dist": "loguniform", "args": [0.01, 100]}
    assert params["search.param_distributions.gamma"] == {
        "dist": "loguniform",
        "args": [0.001, 1],
    }
    # The base estimator only as the user set it; a searched key is in best_params.
    assert params["search.estimator"] == "SVC"
    assert params["search.estimator.class_weight"] == "balanced"
    assert not any(k.startswith(("search.estimator__", "search.estimator.C")) for k in params)
    assert params["search.n_iter"] == 5 and params["search.cv"] == 3
    assert params["search.random_state"] == 0
    assert not any("0x" in json.dumps(v) for v in params.values())

    table = _table(run, "search.cv_results.json")
    results = search.cv_results_
    assert table["columns"] == [
        "param_C",
        "param_gamma",
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
    ]
    assert len(table["rows"]) == 5
    col = table["columns"].index
    assert [r[col("param_C")] for r in table["rows"]] == list(results["param_C"])
    assert [r[col("mean_test_score")] for r in table["rows"]] == list(results["mean_test_score"])
    assert [r[col("rank_test_score")] for r in table["rows"]] == list(results["rank_test_score"])


def test_cells_reading_a_fitted_search_record_no_params(shell) -> None:
    shell.run(SETUP)
    shell.run(SEARCH)
    shell.run("%%track\nsearch.best_score_")
    run = _last_run()
    assert run.params == {} and run.metrics == {} and run.artifacts == ()
    shell.run("%%track\nheld_out_score = search.score(X, y)")
    run = _last_run()
    assert run.params == {}
    assert run.metrics == {"held_out_score": shell.user_ns["held_out_score"]}
    assert not any("random_state" in w for w in run.warnings)


def test_grid_search_with_a_list_of_grids_and_a_pipeline(shell) -> None:
    shell.run(SETUP)
    shell.run(
        "%%track\nfrom sklearn.model_selection import GridSearchCV\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "grid = [{'svc__C': [0.1, 1.0], 'svc__kernel': ['linear']}, {'svc__C': [10.0]}]\n"
        "gs = GridSearchCV(make_pipeline(StandardScaler(), SVC()), grid, cv=3).fit(X, y)"
    )
    gs = shell.user_ns["gs"]
    run = _last_run()
    assert run.params["gs.param_grid"] == [
        {"svc__C": [0.1, 1.0], "svc__kernel": ["linear"]},
        {"svc__C": [10.0]},
    ]
    assert run.params["gs.best_params.svc__C"] == gs.best_params_["svc__C"]
    assert run.params["gs.estimator"] == "Pipeline"
    assert run.metrics["gs.best_score"] == gs.best_score_
    table = _table(run, "gs.cv_results.json")
    kernel = table["columns"].index("param_svc__kernel")
    # The second grid does not set the kernel: a masked cell is null, not a repr.
    assert [r[kernel] for r in table["rows"]] == ["linear", "linear", None]


def test_halving_search_table_has_its_iterations(shell) -> None:
    shell.run(SETUP)
    shell.run(
        "%%track\nfrom sklearn.experimental import enable_halving_search_cv  # noqa\n"
        "from sklearn.model_selection import HalvingRandomSearchCV\n"
        "from scipy.stats import randint\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "hs = HalvingRandomSearchCV(DecisionTreeClassifier(random_state=0),\n"
        "    {'max_depth': randint(1, 6)}, n_candidates=6, cv=3, random_state=0).fit(X, y)"
    )
    hs = shell.user_ns["hs"]
    run = _last_run()
    assert run.params["hs.param_distributions.max_depth"] == {"dist": "randint", "args": [1, 6]}
    assert run.params["hs.best_params.max_depth"] == hs.best_params_["max_depth"]
    assert run.params["hs.estimator.random_state"] == 0
    table = _table(run, "hs.cv_results.json")
    assert table["columns"][:3] == ["iter", "n_resources", "param_max_depth"]
    assert [r[0] for r in table["rows"]] == list(hs.cv_results_["iter"])


def test_unseeded_random_search_warns_and_grid_search_does_not(shell) -> None:
    shell.run(SETUP)
    shell.run(SEARCH.replace(", random_state=0", ""))
    assert any(
        "search (RandomizedSearchCV) has random_state=None" in w for w in _last_run().warnings
    )
    shell.run(
        "%%track\nfrom sklearn.model_selection import GridSearchCV\n"
        "gs = GridSearchCV(SVC(), {'C': [0.5, 1.0]}, cv=3).fit(X, y)"
    )
    assert not any("random_state" in w for w in _last_run().warnings)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_optuna_study_records_best_params_value_trials_and_distributions(shell) -> None:
    shell.run("import optuna\noptuna.logging.set_verbosity(optuna.logging.WARNING)")
    shell.run(
        "%%track\n"
        "def objective(trial):\n"
        "    x = trial.suggest_float('x', 0.01, 100, log=True)\n"
        "    k = trial.suggest_int('k', 1, 4)\n"
        "    kind = trial.suggest_categorical('kind', ['a', 'b'])\n"
        "    return (x - 2) ** 2 + k + (kind == 'b')\n"
        "study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))\n"
        "study.optimize(objective, n_trials=6)"
    )
    study = shell.user_ns["study"]
    run = _last_run()
    params = run.params
    assert {k: params[f"study.best_params.{k}"] for k in study.best_params} == study.best_params
    assert run.metrics["best_value"] == study.best_value
    assert params["study.direction"] == "minimize"
    assert params["study.sampler"] == "TPESampler" and params["study.n_trials"] == 6
    assert params["study.distributions.x"] == {
        "dist": "FloatDistribution",
        "low": 0.01,
        "high": 100.0,
        "log": True,
        "step": None,
    }
    assert params["study.distributions.kind"] == {
        "dist": "CategoricalDistribution",
        "choices": ["a", "b"],
    }
    table = _table(run, "study.trials.json")
    assert table["columns"] == ["number", "state", "value", "params_k", "params_kind", "params_x"]
    assert [r[2] for r in table["rows"]] == [t.value for t in study.trials]
    assert [r[5] for r in table["rows"]] == [t.params["x"] for t in study.trials]
    # A later cell that only reads the study records nothing of it.
    shell.run("%%track\nbest = study.best_params")
    assert _last_run().params == {}
