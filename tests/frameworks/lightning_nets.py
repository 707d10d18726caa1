"""A tiny LightningModule the Lightning tests train (importable: a model logged from it loads
in a fresh process)."""

from __future__ import annotations

import lightning as L
import torch
from torch.nn import functional as F

from tests.frameworks.nets import MLP


class LitMLP(L.LightningModule):
    """Logs ``train_loss`` per step and ``val_loss`` per validation epoch; ``fail_at``: raise
    in that training step (to test a fit that fails)."""

    def __init__(self, n_in: int = 4, hidden: int = 8, lr: float = 0.05, fail_at: int = -1):
        super().__init__()
        self.save_hyperparameters()
        self.net = MLP(n_in, hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        if self.global_step == self.hparams.fail_at:
            raise ValueError(f"failed at step {self.global_step}")
        x, y = batch
        loss = F.cross_entropy(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        self.log("val_loss", F.cross_entropy(self.net(x), y))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)
