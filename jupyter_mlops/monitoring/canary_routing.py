"""``mlops.predict`` under a running canary: the rows whose id routes to the candidate
(:func:`.canary.arms_for`) are scored by it and recorded as its batch (role ``canary``), the
rest by the blessed version, and the predictions are put back in the rows' order. Without
ids every row stays on the blessed version: a generated id would route a retry elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..store.base import RunStore
from ..store.sql_rollouts import RolloutTables
from .routing import split

# (version, X of the arm's rows, the arm's ids, role) -> the arm's predictions
Score = Callable[[Any, Any, list[Any], str], Any]


def take(X: Any, mask: Any) -> Any:
    """The rows of ``X`` where ``mask`` is True (a DataFrame, an array or a list of rows)."""
    if hasattr(X, "iloc"):
        return X.iloc[mask]
    if hasattr(X, "shape"):
        return X[mask]
    return [row for row, keep in zip(X, mask, strict=True) if keep]


def predict_arms(st: RunStore, name: str, X: Any, ids: list[Any], score: Score) -> Any | None:
    """The predictions for ``X`` with each row scored by its arm; None without a running
    canary (the caller scores with the blessed version as usual)."""
    import numpy as np

    r = st.active_rollout(name) if isinstance(st, RolloutTables) else None
    if r is None:
        return None
    mask = split(ids, r.share)
    base = st.get_model(name, r.baseline)
    if not mask.any():
        return score(base, X, ids, "blessed")
    cand = st.get_model(name, r.candidate)
    if mask.all():
        return score(cand, X, ids, "canary")
    parts = []
    for mv, m, role in ((base, ~mask, "blessed"), (cand, mask, "canary")):
        arm_ids = [i for i, keep in zip(ids, m, strict=True) if keep]
        parts.append(np.asarray(score(mv, take(X, m), arm_ids, role)))
    out = np.empty((len(ids), *parts[0].shape[1:]), dtype=np.result_type(*parts))
    out[~mask], out[mask] = parts
    return out


__all__ = ["predict_arms", "take"]
