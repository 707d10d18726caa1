"""What a tracked scikit-learn cell records: each model the cell fits under its own name, data
read through an attribute as an input, error metrics, no loop variable as a metric, params
that are the same in two identical sessions, and random-state warnings only where they hold."""

from __future__ import annotations

import json

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.hashing import fingerprint
from jupyter_mlops.tracking.analysis import analyze_cell

from .conftest import run_fresh

SETUP = """
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
X, y = make_classification(n_samples=120, n_features=5, random_state=0)
"""


def _last_run() -> mlops.Run:
    return mlops.get_run(mlops.runs(limit=1)["id"].iloc[0])


def test_a_loop_over_named_models_records_each_under_its_name(shell) -> None:
    shell.run(SETUP)
    shell.run(
        "log_clf = LogisticRegression(C=0.5)\n"
        "rnd_clf = RandomForestClassifier(n_estimators=5, random_state=0)\n"
        "svm_clf = SVC(C=2.0)"
    )
    shell.run(
        "%%track\nfor clf in (log_clf, rnd_clf, svm_clf):\n"
        "    clf.fit(X, y)\n    print(type(clf).__name__, clf.score(X, y))"
    )
    params = _last_run().params
    assert params["log_clf.C"] == 0.5
    assert params["rnd_clf.n_estimators"] == 5
    assert params["svm_clf.C"] == 2.0
    # The loop variable holds the last model, already recorded under its own name.
    assert not any(k.startswith("clf.") for k in params)


def test_a_dict_of_models_records_each_entry(shell) -> None:
    shell.run(SETUP)
    shell.run(
        "models = {'lr': LogisticRegression(C=0.5),\n"
        "          'rf': RandomForestClassifier(n_estimators=5, random_state=0)}"
    )
    shell.run(
        "%%track\nscores = {}\nfor name, model in models.items():\n"
        "    scores[name] = model.fit(X, y).score(X, y)"
    )
    params = _last_run().params
    assert params["models[lr].C"] == 0.5
    assert params["models[rf].n_estimators"] == 5
    assert params["models[rf].random_state"] == 0
    assert not any(k.startswith("model.") for k in params)


def test_models_passed_to_a_notebook_function_that_fits_are_recorded(shell) -> None:
    shell.run(SETUP)
    shell.run(
        "models = {'lr': LogisticRegression(C=0.5), 'svc': SVC(C=2.0)}\n"
        "def fit_all(ms):\n    for m in ms.values():\n        m.fit(X, y)\n"
        "def evaluate(m):\n    return m.score(X, y)"
    )
    shell.run("%%track\nfit_all(models)")
    params = _last_run().params
    assert params["models[lr].C"] == 0.5 and params["models[svc].C"] == 2.0
    # A function that only evaluates trains nothing: the cell records the metric alone.
    shell.run("%%track\nheld_out_score = evaluate(models['lr'])")
    run = _last_run()
    assert run.params == {} and set(run.metrics) == {"held_out_score"}


def test_attribute_reads_of_a_bunch_are_inputs(shell) -> None:
    shell.run("from sklearn.datasets import load_digits\ndigits = load_digits()")
    shell.run(
        "%%track\nfrom sklearn.ensemble import RandomForestClassifier\n"
        "clf = RandomForestClassifier(n_estimators=3, random_state=0)\n"
        "clf.fit(digits.data, digits.target)"
    )
    digits = shell.user_ns["digits"]
    inputs = {d.name: d.fingerprint for d in _last_run().inputs}
    assert set(inputs) == {"digits.data", "digits.target"}
    assert inputs["digits.data"] == fingerprint(digits.data)
    assert inputs["digits.target"] == fingerprint(digits.target)


def test_a_cell_that_only_reads_a_fitted_model_records_nothing_of_it(shell) -> None:
    shell.run(SETUP)
    shell.run("%%track\nforest = RandomForestClassifier(n_estimators=3).fit(X, y)")
    first = _last_run()
    assert first.params["forest.n_estimators"] == 3
    assert any("forest (RandomForestClassifier) has random_state=None" in w for w in first.warnings)
    shell.run("%%track\nprint(forest.score(X, y))\nforest.feature_importances_")
    run = _last_run()
    assert run.params == {}
    assert not any("forest" in w for w in run.warnings)
    # Nor an alias of a model fitted elsewhere.
    shell.run("%%track\nsame = forest")
    assert _last_run().params == {}


def test_error_metric_names_are_metrics_and_loop_variables_are_not(shell) -> None:
    shell.run(SETUP)
    shell.run("acc = 0.5")  # a comprehension's `acc` below must not record this stale value
    shell.run(
        "%%track\nfrom sklearn.linear_model import LinearRegression\n"
        "from sklearn.metrics import mean_squared_error, mean_absolute_error, r2_score\n"
        "reg = LinearRegression().fit(X, y)\npred = reg.predict(X)\n"
        "val_error = mean_squared_error(y, pred)\ntest_rmse = val_error ** 0.5\n"
        "mae = mean_absolute_error(y, pred)\nr2 = r2_score(y, pred)\n"
        "cv_score = 0.75\nmape = 0.2\nlog_loss = 0.3\n"
        "for name, score in zip(['a', 'b'], [0.4234, 0.1]):\n    print(name, score)\n"
        "best = max(acc for acc in [0.1, 0.2])"
    )
    ns = shell.user_ns
    metrics = _last_run().metrics
    assert metrics == {
        "val_error": ns["val_error"],
        "test_rmse": ns["test_rmse"],
        "mae": ns["mae"],
        "r2": ns["r2"],
        "cv_score": 0.75,
        "mape": 0.2,
        "log_loss": 0.3,
    }


SESSION = r"""
import json, sys
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
cfg = Config()
cfg.HistoryManager.enabled = False
ip = InteractiveShell.instance(config=cfg)
ip.run_line_magic("load_ext", "jupyter_mlops")
cells = [
    "import numpy as np\nfrom scipy.stats import loguniform\n"
    "from sklearn.datasets import make_classification\n"
    "X, y = make_classification(n_samples=80, n_features=4, random_state=0)",
    "%%track\nfrom sklearn.ensemble import RandomForestClassifier\n"
    "from sklearn.model_selection import RandomizedSearchCV\n"
    "from sklearn.pipeline import make_pipeline\n"
    "from sklearn.preprocessing import FunctionTransformer\n"
    "class Clip:\n    def __call__(self, a):\n        return np.clip(a, -3, 3)\n"
    "forest = RandomForestClassifier(n_estimators=3, random_state=np.random.RandomState(0))\n"
    "pipe = make_pipeline(FunctionTransformer(Clip()), forest)\n"
    "search = RandomizedSearchCV(pipe, {'randomforestclassifier__min_samples_leaf':\n"
    "    [1, 2], 'randomforestclassifier__max_features': loguniform(0.3, 1)},\n"
    "    n_iter=2, cv=2, random_state=0, scoring=lambda est, A, b: est.score(A, b)).fit(X, y)\n"
    "pipe.fit(X, y)",
]
for cell in cells:
    ip.run_cell(cell).raise_error()
import jupyter_mlops as mlops
print(json.dumps(mlops.get_run(mlops.runs(limit=1)["id"].iloc[0]).params, sort_keys=True))
"""


def test_the_same_session_twice_records_identical_params() -> None:
    first, second = (json.loads(run_fresh(SESSION).splitlines()[-1]) for _ in range(2))
    assert first == second
    assert "0x" not in json.dumps(first)
    assert first["search.param_distributions.randomforestclassifier__max_features"] == {
        "dist": "loguniform",
        "args": [0.3, 1],
    }
    assert first["pipe.randomforestclassifier__random_state"] == "RandomState"
    assert first["pipe.functiontransformer__func"] == "Clip"


def test_no_random_state_warning_where_nothing_is_drawn_from_global_state(shell) -> None:
    shell.run(SETUP)
    shell.run(
        "%%track\nfrom xgboost import XGBClassifier\nfrom lightgbm import LGBMClassifier\n"
        "from catboost import CatBoostClassifier\nfrom sklearn.decomposition import PCA\n"
        "xgb_clf = XGBClassifier(n_estimators=3).fit(X, y)\n"
        "lgb_clf = LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y)\n"
        "cb_clf = CatBoostClassifier(iterations=3, verbose=0, allow_writing_files=False)\n"
        "cb_clf.fit(X, y)\n"
        "pca = PCA().fit(X)\npca_full = PCA(svd_solver='full').fit(X)"
    )
    run = _last_run()
    assert not any("random_state" in w for w in run.warnings), run.warnings
    assert shell.user_ns["pca"]._fit_svd_solver in ("full", "covariance_eigh")
    shell.run("%%track\nforest = RandomForestClassifier(n_estimators=3).fit(X, y)")
    assert [w for w in _last_run().warnings if "random_state" in w] == [
        "forest (RandomForestClassifier) has random_state=None: any randomness it uses comes "
        "from NumPy's global state, which depends on what ran before; pass random_state= to "
        "pin it"
    ]


@pytest.mark.parametrize(
    "code, trained, not_trained",
    [
        ("clf.fit(X, y)", {"clf"}, {"X_test"}),
        ("bst = xgb.train(params, dtrain)", {"bst"}, {"params_copy"}),
        ("trainer.fit(model, datamodule=dm)", {"trainer", "model", "dm"}, set()),
        ("study.optimize(objective, n_trials=3)", {"study"}, set()),
        ("models['lr'].fit(X, y)", {"models"}, set()),
        ("for c in (a, b):\n    c.partial_fit(X, y)", {"a", "b", "c"}, set()),
        ("fitted = [m.fit(X, y) for m in ms]", {"ms", "fitted"}, set()),
        (  # a plain PyTorch loop: the model is only called, the optimizer steps
            "for xb, yb in loader:\n    loss = loss_fn(net(xb), yb)\n"
            "    loss.backward()\n    opt.step()",
            {"net", "opt"},
            set(),
        ),
        ("acc = clf.score(X, y)\nclf.predict(X)", {"acc"}, {"clf"}),
        ("best = search.best_estimator_", set(), {"best", "search"}),
        ("for name, score in zip(names, rf.feature_importances_):\n    print(name)", set(), {"rf"}),
    ],
)
def test_what_a_cell_trains_is_read_from_its_code(
    code: str, trained: set[str], not_trained: set[str]
) -> None:
    analysis = analyze_cell(code)
    assert analysis is not None
    assert trained <= set(analysis.trained)
    assert not (not_trained & set(analysis.trained))


def test_loop_and_comprehension_variables_are_loop_vars() -> None:
    analysis = analyze_cell(
        "for name, score in zip(a, b):\n    pass\nbest = max(acc for acc in c)\nf1 = 0.5"
    )
    assert analysis is not None
    assert set(analysis.loop_vars) == {"name", "score", "acc"}
