"""Tiny networks the framework tests train: importable, so a model logged from them loads in
a fresh process without the notebook that trained it."""

from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    """n_in -> hidden -> n_out; the constructor arguments kept as attributes, so a logged
    model is rebuilt from its file alone."""

    def __init__(self, n_in: int, hidden: int = 8, n_out: int = 2) -> None:
        super().__init__()
        self.n_in, self.hidden, self.n_out = n_in, hidden, n_out
        self.layers = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
