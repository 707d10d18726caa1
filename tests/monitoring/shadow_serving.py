"""The one place the shadow tests record production batches (``mlops.predict``) and their
labels: if batches are written in the background, the flush before reading evidence goes here."""

from __future__ import annotations

from jupyter_mlops.monitoring import log_labels, predict

from .helpers import DAY, T0, features, truth


def serve(name: str, day: int, *, seed: int, n: int = 200, tie: bool = False) -> None:
    """Day ``day``'s batch of ``n`` rows (features drawn with ``seed + day``) served at
    ``T0 + day`` days, labelled a minute later. ``tie``: rows with x2 = 0, where every
    Threshold model predicts alike."""
    X = features(n, seed=seed + day).drop(columns="region")
    if tie:
        X = X.assign(x2=0.0)
    ids = [f"{day}-{i}" for i in range(n)]
    predict(name, X, ids=ids, now=T0 + day * DAY)
    log_labels(name, ids, truth(X), now=T0 + day * DAY + 60)
