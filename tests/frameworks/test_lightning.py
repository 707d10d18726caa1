"""Lightning in a ``%%track`` cell: what ``self.log`` logs as stepped metrics (exactly the
points the user's own logger gets), ``hparams`` as params, the best checkpoint as a
safetensors model; the trainer, its loggers and callbacks untouched; the hook gone after."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import jupyter_mlops as mlops
from jupyter_mlops import model_format
from jupyter_mlops.registry import ModelRegistry
from tests.conftest import run_fresh

# Lightning's own warnings, not ours (the suite turns warnings into errors): its pytree helper
# on torch 2.13, and its advice on DataLoader workers for these tiny in-memory loaders.
pytestmark = [
    pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated"),
    pytest.mark.filterwarnings("ignore:The '\\w+_dataloader' does not have many workers"),
]

SETUP = """
import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from tests.frameworks.lightning_nets import LitMLP

rng = np.random.default_rng(0)
X = torch.from_numpy(rng.normal(size=(64, 4)).astype("float32"))
y = (X[:, 0] + X[:, 1] > 0).long()
data = torch.utils.data.TensorDataset(X, y)
train = torch.utils.data.DataLoader(data, batch_size=8)
val = torch.utils.data.DataLoader(data, batch_size=32)

class EpochCounter(Callback):
    def __init__(self):
        self.epochs = 0
    def on_train_epoch_end(self, trainer, module):
        self.epochs += 1

original_fit = L.Trainer.fit
"""

FIT = """L.seed_everything(0, verbose=False)
model = LitMLP(hidden={hidden})
counter, best = EpochCounter(), ModelCheckpoint(monitor="val_loss")
trainer = L.Trainer(
    max_epochs=2, logger={logger}, callbacks=[counter, best], log_every_n_steps=4,
    enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
    default_root_dir="{root}",
)
callbacks_before, loggers_before = list(trainer.callbacks), list(trainer.loggers)
trainer.fit(model, train, val)
"""
# 64 rows in batches of 8: 8 steps an epoch, 16 in 2 epochs. train_loss goes to the loggers
# every 4th step (log_every_n_steps), val_loss once per validation epoch.
STEPS = 16
TRAIN_POINTS = STEPS // 4
VAL_POINTS = 2


def _last_run() -> mlops.Run:
    return mlops.get_run(mlops.runs(limit=1)["id"].iloc[0])


def _points(run: mlops.Run, key: str) -> list[tuple[int, float]]:
    frame = mlops.metric_history(run.id, key)
    return list(zip(frame["step"].tolist(), frame["value"].tolist(), strict=True))


def _csv_points(path: Path, key: str) -> list[tuple[int, float]]:
    frame = pd.read_csv(path).dropna(subset=[key])
    return list(zip(frame["step"].tolist(), frame[key].tolist(), strict=True))


def test_a_fit_records_metrics_hparams_and_the_best_checkpoint(shell, tmp_path: Path) -> None:
    shell.run(SETUP)
    logger = f'CSVLogger("{tmp_path}/csv")'
    shell.run("%%track\n" + FIT.format(hidden=8, logger=logger, root=tmp_path))
    ns, run = shell.user_ns, _last_run()
    csv = tmp_path / "csv" / "lightning_logs" / "version_0" / "metrics.csv"
    train, val = _points(run, "train_loss"), _points(run, "val_loss")
    assert [s for s, _ in train] == [3, 7, 11, 15] and len(train) == TRAIN_POINTS
    assert [s for s, _ in val] == [7, 15] and len(val) == VAL_POINTS
    # The very points the user's own logger wrote (its CSV rounds nothing: float repr).
    assert train == _csv_points(csv, "train_loss")
    assert val == _csv_points(csv, "val_loss")
    assert {k: run.params[k] for k in ("n_in", "hidden", "lr", "fail_at")} == {
        "n_in": 4,
        "hidden": 8,
        "lr": 0.05,
        "fail_at": -1,
    }
    # configure_optimizers' SGD, as torch's flavor records an optimizer.
    assert {k: v for k, v in run.params.items() if k.startswith("optimizer.")} == {
        "optimizer.class": "SGD",
        "optimizer.lr": 0.05,
        "optimizer.momentum": 0,
        "optimizer.dampening": 0,
        "optimizer.weight_decay": 0,
        "optimizer.nesterov": False,
        "optimizer.maximize": False,
    }
    best = ns["best"]
    # Relative to the working directory (the test's), as it is under it.
    path = Path(best.best_model_path).relative_to(tmp_path)
    assert run.params["checkpoint.best_model_path"] == str(path)
    # The checkpoint the fit wrote, and that we read, is no input of the cell.
    assert not [d.name for d in run.inputs if d.name.endswith(".ckpt")]
    assert run.params["checkpoint.monitor"] == "val_loss"
    assert run.metrics["checkpoint.best_model_score"] == float(best.best_model_score)
    assert float(best.best_model_score) == min(v for _, v in val)
    # The trainer as the user made it: the same callbacks and loggers, each having worked.
    assert ns["trainer"].callbacks == ns["callbacks_before"]
    assert ns["trainer"].loggers == ns["loggers_before"]
    assert ns["counter"].epochs == 2
    assert ns["L"].Trainer.fit is ns["original_fit"]
    assert "log_metrics" not in vars(ns["trainer"]._logger_connector)
    assert run.warnings == ()


def test_the_best_checkpoint_is_a_safetensors_model_that_loads_elsewhere(
    shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    from safetensors.torch import load

    monkeypatch.setenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS", "")
    shell.run(SETUP)
    shell.run("%%track\n" + FIT.format(hidden=6, logger="False", root=tmp_path))
    run, best = _last_run(), shell.user_ns["best"]
    art = next(a for a in run.artifacts if a.name == "best_checkpoint")
    assert art.kind == "model"
    data = mlops.default_tracker().store.artifacts.read_bytes(art.uri, art.sha256)
    assert model_format.format_of(data) == model_format.NATIVE
    header, payload = model_format.read_envelope(data, "best_checkpoint")
    assert header["flavor"] == "lightning" and header["qualname"] == "LitMLP"
    assert header["init"] == {"n_in": 4, "hidden": 6, "lr": 0.05, "fail_at": -1}
    ckpt = torch.load(best.best_model_path, weights_only=True)["state_dict"]
    weights = load(payload)
    assert weights.keys() == ckpt.keys()
    assert all(weights[k].equal(ckpt[k]) for k in ckpt)
    ModelRegistry().register("lit", run, "best_checkpoint")
    X = shell.user_ns["X"].numpy()
    np.save(tmp_path / "X.npy", X)
    model = shell.user_ns["LitMLP"](hidden=6)
    model.load_state_dict(ckpt)
    with torch.no_grad():
        expected = model(torch.from_numpy(X)).numpy()
    out = run_fresh(
        "import json, sys, numpy as np, jupyter_mlops as mlops\n"
        "from jupyter_mlops.frameworks import predict\n"
        "print(json.dumps(predict(mlops.load_model('lit', 1), np.load(sys.argv[1])).tolist()))",
        str(tmp_path / "X.npy"),
    )
    assert np.array_equal(np.array(json.loads(out), dtype=np.float32), expected)


def test_without_a_logger_the_metrics_are_still_recorded(shell, tmp_path: Path) -> None:
    shell.run(SETUP)
    shell.run("%%track\n" + FIT.format(hidden=8, logger="False", root=tmp_path))
    run = _last_run()
    assert [s for s, _ in _points(run, "train_loss")] == [3, 7, 11, 15]
    assert [s for s, _ in _points(run, "val_loss")] == [7, 15]
    assert shell.user_ns["trainer"].loggers == []
    # No logger: Lightning puts the checkpoints under default_root_dir, as without tracking.
    assert Path(shell.user_ns["best"].best_model_path).parent == tmp_path / "checkpoints"


def test_a_fit_that_fails_records_what_it_logged_and_unhooks(shell, tmp_path: Path) -> None:
    shell.run(SETUP)
    cell = FIT.format(hidden=8, logger="False", root=tmp_path).replace(
        "LitMLP(hidden=8)", "LitMLP(hidden=8, fail_at=9)"
    )
    with pytest.raises(ValueError, match="failed at step 9"):
        shell.run("%%track\n" + cell)
    run = _last_run()
    assert run.status is mlops.RunStatus.FAILED
    # Steps 3 and 7 were logged, and the first validation epoch, before step 9 failed.
    assert [s for s, _ in _points(run, "train_loss")] == [3, 7]
    assert [s for s, _ in _points(run, "val_loss")] == [7]
    assert shell.user_ns["L"].Trainer.fit is shell.user_ns["original_fit"]


def test_tracking_changes_no_weight(shell, tmp_path: Path) -> None:
    shell.run(SETUP)
    shell.run(FIT.format(hidden=8, logger="False", root=tmp_path / "plain"))
    plain = {k: v.clone() for k, v in shell.user_ns["model"].state_dict().items()}
    shell.run("%%track\n" + FIT.format(hidden=8, logger="False", root=tmp_path / "tracked"))
    tracked = shell.user_ns["model"].state_dict()
    assert plain.keys() == tracked.keys()
    assert all(plain[k].numpy().tobytes() == tracked[k].numpy().tobytes() for k in plain)


def test_the_module_is_described_as_a_torch_module(shell, tmp_path: Path) -> None:
    shell.run(SETUP)
    shell.run("%%track\n" + FIT.format(hidden=8, logger="False", root=tmp_path))
    run = _last_run()
    # 4*8 + 8 and 8*2 + 2 parameters (the wrapped MLP).
    assert run.params["model.class"] == "tests.frameworks.lightning_nets.LitMLP"
    assert run.params["model.parameters"] == 58
    assert "model.architecture.txt" in {a.name for a in run.artifacts}
    # Outside a run the patched fit is gone and fitting records nothing.
    assert shell.user_ns["L"].Trainer.fit is shell.user_ns["original_fit"]


@pytest.mark.slow
def test_the_example_notebook_runs(tmp_path: Path) -> None:
    from tests.frameworks.test_torch import _execute_notebook

    text = _execute_notebook("lightning", tmp_path)
    assert "{'hidden': 16, 'lr': 0.05, 'checkpoint.monitor': 'val_loss'}" in text
    run = mlops.get_run(mlops.runs(experiment="cancer-lightning")["id"].iloc[0])
    # 400 rows in batches of 50, 3 epochs: 24 steps, train_loss every 4th, val_* each epoch.
    assert len(_points(run, "train_loss")) == 24 // 4
    assert [s for s, _ in _points(run, "val_loss")] == [7, 15, 23]
    assert len(_points(run, "val_acc")) == 3
    assert run.metrics["checkpoint.best_model_score"] == min(v for _, v in _points(run, "val_loss"))
    assert "best_checkpoint" in {a.name for a in run.artifacts if a.kind == "model"}


def test_pytorch_lightning_is_recorded_too(shell, tmp_path: Path) -> None:
    shell.run(SETUP)
    shell.run(
        "import pytorch_lightning as pl\n"
        "original_pl_fit = pl.Trainer.fit\n"
        "class PlNet(pl.LightningModule):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.lin = torch.nn.Linear(4, 2)\n"
        "    def training_step(self, batch, batch_idx):\n"
        "        loss = torch.nn.functional.cross_entropy(self.lin(batch[0]), batch[1])\n"
        "        self.log('loss', loss)\n"
        "        return loss\n"
        "    def configure_optimizers(self):\n"
        "        return torch.optim.Adam(self.parameters(), lr=0.02)\n"
    )
    shell.run(
        "%%track\n"
        "pl_trainer = pl.Trainer(max_epochs=1, logger=False, log_every_n_steps=2,\n"
        "    enable_checkpointing=False, enable_progress_bar=False,\n"
        f"    default_root_dir='{tmp_path}', enable_model_summary=False, accelerator='cpu')\n"
        "pl_trainer.fit(PlNet(), train)\n"
    )
    run = _last_run()
    # 8 steps, logged every 2nd: steps 1, 3, 5, 7.
    assert [s for s, _ in _points(run, "loss")] == [1, 3, 5, 7]
    assert run.params["optimizer.class"] == "Adam" and run.params["optimizer.lr"] == 0.02
    assert shell.user_ns["pl"].Trainer.fit is shell.user_ns["original_pl_fit"]


def test_a_lightning_we_cannot_hook_costs_one_warning_not_the_fit(
    shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_mlops.frameworks import lightning_flavor

    class Moved:  # a Lightning whose trainer no longer has the private connector we wrap
        def __init__(self, trainer: object, run: object) -> None:
            raise AttributeError("'Trainer' object has no attribute '_logger_connector'")

    monkeypatch.setattr(lightning_flavor, "_FitRecording", Moved)
    shell.run(SETUP)
    shell.run("%%track\n" + FIT.format(hidden=8, logger="False", root=tmp_path))
    run = _last_run()
    assert shell.user_ns["counter"].epochs == 2  # the fit ran to the end
    assert run.warnings == (
        "lightning: self.log metrics not recorded (AttributeError: 'Trainer' object has no "
        "attribute '_logger_connector')",
    )
    assert "train_loss" not in run.metrics
    assert run.params["lr"] == 0.05 and "best_checkpoint" in {a.name for a in run.artifacts}


def test_a_tracked_fit_prints_what_an_untracked_one_does(
    shell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import logging

    # Lightning's messages go through logging (its own handler holds whatever sys.stderr was
    # when lightning was imported), on the loggers of whichever of its packages logs them
    # (pytorch_lightning's once imported): a handler of the test's on each reads them all.
    messages = io.StringIO()
    handler = logging.StreamHandler(messages)
    loggers = [logging.getLogger(n) for n in ("lightning", "pytorch_lightning", "lightning_fabric")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        shell.run(SETUP)
        capsys.readouterr()
        shell.run(FIT.format(hidden=8, logger="False", root=tmp_path / "plain"))
        plain, plain_log = capsys.readouterr(), messages.getvalue()
        messages.truncate(0)
        messages.seek(0)
        shell.run("%%track\n" + FIT.format(hidden=8, logger="False", root=tmp_path / "tracked"))
        tracked, tracked_log = capsys.readouterr(), messages.getvalue()
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    assert "max_epochs=2" in plain_log  # Lightning's own messages, the very same ones
    assert tracked_log == plain_log
    assert tracked.err == plain.err
    # The same printed output, then the run's summary below it.
    assert tracked.out.startswith(plain.out) and "● run" in tracked.out[len(plain.out) :]
