"""Models registered and blessed through the real registry, on synthetic data with known truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

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


MONITOR_FILE = """\
cooldown: 1d
checks:
  - {kind: drift, max_share: 0.0, action: notify}
  - {kind: performance, metric: accuracy, min: 0.8, action: none}
"""
STEADY_PIPELINE = """\
version: 1
name: steady
notebook: steady.ipynb
monitor:
  window: daily
  checks:
    - {kind: drift, max_share: 0.0, action: notify}
"""


def build_monitored(tracker: mlops.Tracker, root: Path, *, steady_in_pipeline: bool = True) -> None:
    """Two monitors over real predict/log_labels batches, evaluated each day:

    - ``churn`` (``monitors/churn.yaml``): v1 blessed, v2 in shadow; days 0-3 at ``T0 + d``
      days; day 2's labels are wrong (accuracy 0 breaches min 0.8) and day 3's inputs drift
      on ``x1`` (a breach whose ``notify`` action is taken);
    - ``steady`` (the ``monitor:`` key of ``pipelines/steady.yaml``, or ``monitors/steady.yaml``
      where a project must not gain a pipeline): two quiet days.
    """
    from jupyter_mlops.monitoring import evaluate, log_labels, predict

    (root / "monitors").mkdir(exist_ok=True)
    (root / "monitors" / "churn.yaml").write_text(MONITOR_FILE)
    if steady_in_pipeline:
        (root / "pipelines").mkdir(exist_ok=True)
        (root / "pipelines" / "steady.yaml").write_text(STEADY_PIPELINE)
    else:
        monitor = yaml.safe_load(STEADY_PIPELINE)["monitor"]
        (root / "monitors" / "steady.yaml").write_text(yaml.safe_dump(monitor))
    register(tracker, "churn", Threshold())
    v2 = register(tracker, "churn", Threshold(w=0.6), bless=False)
    ModelRegistry(tracker.store).shadow(f"churn@{v2}", reason="candidate")
    register(tracker, "steady", Threshold())
    for day in range(4):
        X = features(300, seed=day, shift=2.0 if day == 3 else 0.0).drop(columns="region")
        ids = [f"{day}-{i}" for i in range(300)]
        predict("churn", X, ids=ids, now=T0 + day * DAY)
        y = truth(X)
        log_labels("churn", ids, 1 - y if day == 2 else y, now=T0 + day * DAY + 60)
        evaluate("churn", now=T0 + day * DAY + 120)
    for day in range(2):
        X = features(200, seed=50 + day).drop(columns="region")
        predict("steady", X, ids=[f"s{day}-{i}" for i in range(200)], now=T0 + day * DAY)
        evaluate("steady", now=T0 + day * DAY + 120)
