"""The one place the server asks which version scores which rows, and each arm's share: a
running canary's sticky hash routing (:func:`jupyter_mlops.monitoring.canary.arms_for`), the
same routing ``mlops.predict`` uses in-process, so a key lands on the same arm either way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..monitoring.canary import arms_for
from ..store.base import RunStore
from ..store.sql_rollouts import rollout_tables


def arms(
    store: RunStore, name: str, keys: Sequence[str], now: float, *, blessed: int | None = None
) -> list[tuple[int, Any]]:
    """``[(version, mask)]``: each arm's version and the boolean mask of the rows (by their
    routing ``keys``) it scores; the masks cover every row once. ``blessed``: the blessed
    version when the caller knows it (spares a read when no canary runs)."""
    found = arms_for(store, name, list(keys), now)
    if not found:  # no rows
        version = store.get_model(name).version if blessed is None else blessed
        return [(version, np.ones(len(keys), dtype=bool))]
    return [(int(v), np.asarray(mask, dtype=bool)) for v, mask in found]


def shares(store: RunStore, name: str, blessed: int | None) -> dict[int, float]:
    """Each arm's share of the traffic now, by version: the blessed one alone without a
    running canary."""
    r = rollout_tables(store).active_rollout(name)
    if r is None:
        return {} if blessed is None else {blessed: 1.0}
    return {r.baseline: 1.0 - r.share, r.candidate: r.share}
