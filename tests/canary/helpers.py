"""Real scikit-learn models registered through the registry, and a label stream served
through ``mlops.predict`` and ``mlops.log_labels`` with an injected clock."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import jupyter_mlops as mlops
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.store.base import RunStore

T0 = 1_700_000_000.0  # a fixed epoch: no test reads the wall clock
NAME = "churn"


def features(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x1": rng.normal(0, 1, n), "x2": rng.normal(0, 1, n)})


def truth(X: pd.DataFrame) -> np.ndarray:
    return (X["x1"] + 0.5 * X["x2"] > 0).astype(int).to_numpy()


def fitted(kind: str) -> Any:
    """``good``: both features (~99 %); ``x1``: x1 alone (~85 %); ``dummy``: a constant."""
    X = features(2000, 0)
    y = truth(X)
    if kind == "dummy":
        return DummyClassifier(strategy="constant", constant=0).fit(X, y)
    cols = ["x1", "x2"] if kind == "good" else ["x1"]
    pick = ColumnTransformer([("keep", "passthrough", cols)])
    return Pipeline([("pick", pick), ("lr", LogisticRegression())]).fit(X, y)


def register(tracker: mlops.Tracker, kind: str, *, bless: bool = False, name: str = NAME) -> int:
    with tracker.start_run(experiment=name) as run:
        run.log_model(fitted(kind), "model")
    registry = ModelRegistry(tracker.store)
    mv = registry.register(name, tracker.get_run(run.id), "model")
    if bless:
        registry.bless(mv.ref)
    return mv.version


class Traffic:
    """Requests with fresh ids, scored by ``mlops.predict`` and labelled at once."""

    def __init__(self, store: RunStore, name: str = NAME, seed: int = 1) -> None:
        self.store, self.name = store, name
        self.seeds = itertools.count(seed)
        self.ids = itertools.count()

    def serve(self, n: int, now: float, *, label: bool = True) -> tuple[list[str], Any]:
        X = features(n, next(self.seeds))
        ids = [f"user-{next(self.ids)}" for _ in range(n)]
        y = mlops.predict(self.name, X, ids, now=now, sync=True, store=self.store)
        if label:
            mlops.log_labels(self.name, ids, truth(X), now=now, store=self.store)
        return ids, y
