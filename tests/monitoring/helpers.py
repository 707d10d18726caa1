"""Models registered and blessed through the real registry, on synthetic data with known truth."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import jupyter_mlops as mlops
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.validation.profiles import profile

DAY = 86400.0
T0 = 1_700_000_000.0  # an arbitrary fixed epoch: no test reads the wall clock


def features(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x1": rng.normal(shift, 1.0, n),
            "x2": rng.normal(0.0, 1.0, n),
            "region": rng.choice(["north", "south"], n),
        }
    )


def truth(X: pd.DataFrame) -> np.ndarray:
    return (X["x1"] + 0.5 * X["x2"] > 0).astype(int).to_numpy()


class Threshold:
    """A tiny classifier: predicts x1 + w * x2 > 0 (``flip`` inverts it: a bad model)."""

    _estimator_type = "classifier"

    def __init__(self, w: float = 0.5, flip: bool = False) -> None:
        self.w, self.flip = w, flip

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        y = (X["x1"] + self.w * X["x2"] > 0).astype(int).to_numpy()
        return 1 - y if self.flip else y


def register(
    tracker: mlops.Tracker, name: str, model: Any, *, bless: bool = True, ref: bool = True
) -> int:
    """Log ``model`` (and the training data's profile) in a run, register it, maybe bless it."""
    with tracker.start_run(experiment=name) as run:
        run.log_model(model, "model")
        if ref:
            prof = profile(features(2000, seed=0).drop(columns="region"))
            run.log_bytes(prof.to_json().encode(), "profile:train", kind="profile")
    registry = ModelRegistry(tracker.store)
    mv = registry.register(name, tracker.get_run(run.id), "model")
    if bless:
        registry.bless(mv.ref)
    return mv.version
