"""The training cells ``bench_frameworks.py`` times, shared by both sides: ours (an IPython shell
with ``%%track``) and MLflow's (``mlflow_side.py``, in MLflow's venv, under ``mlflow.autolog()``).

Each case is a setup cell (data, the model's class: untimed) and the timed training cell. This
module imports nothing but the standard library, so that either side can load it; the cells
import the frameworks themselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

ROUNDS = 1_000  # boosting rounds of the XGBoost cells (issue 21)
FEATURES = 20

XGB_SETUP = """\
import numpy as np
import xgboost as xgb
rng = np.random.default_rng(0)
X = rng.normal(size=({rows}, {features})).astype(np.float32)
noise = rng.normal(scale=0.5, size={rows})
y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] * X[:, 3] + noise > 0).astype(np.int64)
cut = {rows} * 4 // 5
X_train, y_train, X_valid, y_valid = X[:cut], y[:cut], X[cut:], y[cut:]
dtrain = xgb.DMatrix(X_train, label=y_train)
dvalid = xgb.DMatrix(X_valid, label=y_valid)
params = {{"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": 4,
          "eta": 0.05, "nthread": 1}}
"""
XGB_TRAIN = (
    "bst = xgb.train(params, dtrain, num_boost_round={rounds}, evals=[(dvalid, 'valid')],"
    " verbose_eval=False)"
)
XGB_FIT = (
    "clf = xgb.XGBClassifier(n_estimators={rounds}, max_depth=4, learning_rate=0.05,"
    " n_jobs=1)\nclf.fit(X_train, y_train, eval_set=[(X_valid, y_valid)], verbose=False)"
)

LIGHTNING_SETUP = """\
import logging
import warnings
import torch
import lightning as L
from torch.utils.data import DataLoader, TensorDataset
warnings.filterwarnings("ignore", ".*does not have many workers.*")
warnings.filterwarnings("ignore", ".*LeafSpec.*")  # Lightning 2.6 on torch 2.13, not the cell's
logging.getLogger("lightning").setLevel(logging.ERROR)
logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
torch.set_num_threads(1)


class Tiny(L.LightningModule):
    def __init__(self, lr=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(8, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


generator = torch.Generator().manual_seed(0)
x = torch.randn(4096, 8, generator=generator)
loader = DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=32)
"""
LIGHTNING_TRAIN = """\
model = Tiny()
trainer = L.Trainer(max_steps={steps}, accelerator="cpu", devices=1, logger=False,
                    enable_checkpointing=False, enable_progress_bar=False,
                    enable_model_summary=False)
trainer.fit(model, loader)
"""


@dataclass(frozen=True)
class Case:
    """One timed cell: ``setup`` runs once, untimed; ``cell`` is what is timed."""

    key: str
    title: str
    setup: str
    cell: str


def xgboost_cases(rows: int, rounds: int = ROUNDS) -> list[Case]:
    setup = XGB_SETUP.format(rows=rows, features=FEATURES)
    return [
        Case("xgb.train", f"xgb.train x{rounds}", setup, XGB_TRAIN.format(rounds=rounds)),
        Case(
            "XGBClassifier.fit",
            f"XGBClassifier x{rounds}",
            setup,
            XGB_FIT.format(rounds=rounds),
        ),
    ]


def lightning_case(steps: int) -> Case:
    return Case(
        "lightning",
        f"Lightning {steps:,} steps",
        LIGHTNING_SETUP,
        LIGHTNING_TRAIN.format(steps=steps),
    )


def paired(
    run_plain: Callable[[], None],
    run_tracked: Callable[[], None],
    pairs: int,
    before: Callable[[bool], None] | None = None,
) -> dict[str, list[float]]:
    """Seconds of ``pairs`` untracked and tracked runs, alternating which goes first so that a
    machine growing busier or quieter weighs on both alike; ``before(tracked)`` runs untimed
    before each (MLflow's side switches autolog on or off there).

    Wall time (``plain``, ``tracked``) and the process's CPU time, every thread counted
    (``plain_cpu``, ``tracked_cpu``): other processes on a shared machine stretch the first
    and barely touch the second, while a background writer's work is in both."""
    out: dict[str, list[float]] = {k: [] for k in ("plain", "tracked", "plain_cpu", "tracked_cpu")}
    for i in range(pairs):
        order = ((False, run_plain, "plain"), (True, run_tracked, "tracked"))
        for is_tracked, fn, key in order if i % 2 == 0 else order[::-1]:
            if before is not None:
                before(is_tracked)
            cpu, start = time.process_time(), time.perf_counter()
            fn()
            out[key].append(time.perf_counter() - start)
            out[f"{key}_cpu"].append(time.process_time() - cpu)
    return out
