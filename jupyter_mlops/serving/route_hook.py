"""The one place the server asks which version scores which rows: the canary's sticky hash
routing (:func:`jupyter_mlops.monitoring.canary.arms_for`, built beside this package). Where
that module is not installed yet, the blessed version scores every row."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..store.base import RunStore


def _canary() -> Any:
    try:
        return importlib.import_module("jupyter_mlops.monitoring.canary")
    except ImportError:
        return None


def arms(
    store: RunStore, name: str, keys: Sequence[str], now: float, *, blessed: int | None = None
) -> list[tuple[int, Any]]:
    """``[(version, mask)]``: each arm's version and the boolean mask of the rows (by their
    routing ``keys``) it scores; the masks cover every row once. ``blessed``: the blessed
    version when the caller knows it (else it is read from the store for the fallback)."""
    canary = _canary()
    found = None
    if canary is not None and hasattr(canary, "arms_for"):
        found = canary.arms_for(store, name, list(keys), now)
    if not found:
        version = store.get_model(name).version if blessed is None else blessed
        return [(version, np.ones(len(keys), dtype=bool))]
    return [(int(v), np.asarray(mask, dtype=bool)) for v, mask in found]


def shares(store: RunStore, name: str, blessed: int | None) -> dict[int, float]:
    """Each arm's share of the traffic now, by version (the blessed one alone without a
    canary, or where the canary module does not say)."""
    canary = _canary()
    if canary is not None and hasattr(canary, "shares_for"):
        found = canary.shares_for(store, name)
        if found:
            return {int(v): float(s) for v, s in dict(found).items()}
    return {} if blessed is None else {blessed: 1.0}
