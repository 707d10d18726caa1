"""Which estimators get the random_state=None warning: only those that, with their actual
parameters, draw random numbers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeRegressor

from jupyter_mlops.tracking.seeding import random_state_unpinned, uses_randomness

DETERMINISTIC = [
    Ridge(),
    Ridge(solver="cholesky"),
    RidgeClassifier(),
    LogisticRegression(),
    LogisticRegression(solver="newton-cg"),
    Lasso(),
    ElasticNet(selection="cyclic"),
    SVC(),
    LinearSVC(dual=False),
    SGDClassifier(shuffle=False),
    PCA(svd_solver="full"),
    KMeans(n_clusters=2, init=np.zeros((2, 3)), n_init=1),
    LinearRegression(),  # has no random_state at all
]
RANDOM = [
    Ridge(solver="sag"),
    Ridge(solver="saga"),
    LogisticRegression(solver="saga"),
    LogisticRegression(solver="liblinear"),
    Lasso(selection="random"),
    SVC(probability=True),
    LinearSVC(),
    SGDClassifier(),
    SGDClassifier(shuffle=False, early_stopping=True),
    PCA(),
    PCA(svd_solver="randomized"),
    KMeans(n_clusters=2),
    MiniBatchKMeans(n_clusters=2),
    RandomForestClassifier(),
    DecisionTreeRegressor(),
    MLPClassifier(),
]


@pytest.mark.parametrize("est", DETERMINISTIC, ids=repr)
def test_deterministic_estimators_are_not_flagged(est) -> None:
    assert not random_state_unpinned(est)


@pytest.mark.parametrize("est", RANDOM, ids=repr)
def test_random_estimators_are_flagged_until_pinned(est) -> None:
    assert uses_randomness(est)
    assert random_state_unpinned(est)
    est.set_params(random_state=0)
    assert not random_state_unpinned(est)


def test_cell_warns_for_random_estimators_only(shell) -> None:
    import jupyter_mlops as mlops

    shell.run(
        "import numpy as np\nfrom sklearn.linear_model import Ridge\n"
        "from sklearn.ensemble import RandomForestRegressor\n"
        "X = np.arange(40.0).reshape(20, 2); y = X[:, 0] * 2"
    )
    shell.run("%%track\nridge = Ridge().fit(X, y)")
    shell.run("%%track\nsag = Ridge(solver='sag', max_iter=5000).fit(X, y)")
    shell.run("%%track\nforest = RandomForestRegressor(n_estimators=3).fit(X, y)")
    frame = mlops.runs(order_by="started")
    warnings = [" ".join(mlops.get_run(rid).warnings) for rid in frame["id"]]
    assert "random_state=None" not in warnings[0]
    assert "sag (Ridge) has random_state=None" in warnings[1]
    assert "forest (RandomForestRegressor) has random_state=None" in warnings[2]
