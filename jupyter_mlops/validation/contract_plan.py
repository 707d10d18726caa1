"""The input contract's fast path: a batch shaped like the last one checked against the same
signature (the same column names and dtypes, in the same order) only needs its values checked.

What a signature asks of a batch's *shape* (every column there, no unknown one, each of a kind
it takes as it is) depends only on its column names and dtypes, so the answer is kept per
signature, keyed by the tuple of both (:class:`Plan`). A batch with that key then runs only the
checks of its values: nulls in the columns training had none in, categories training never saw,
each over whole arrays. When they find nothing, the batch passes as it is (reordered if the
signature orders it); when they find anything, or the shape is new or wrong,
:func:`.coercion.check_frame` takes the slow path, which words every violation: so what a
caller sees is the same on both paths, only sooner for a conforming batch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .signature import Signature

_LOCK = threading.Lock()
# id(signature) -> (the signature, kept so the id stays its own; key; plan)
_LAST: dict[int, tuple[Signature, tuple[Any, ...], Plan]] = {}
_MAX_KEPT = 4096


@dataclass(frozen=True)
class Plan:
    """For batches of one shape: the positions to check for nulls (``nonnull``), the
    categorical ones with the categories known (``categorical``), and the labels to reorder the
    batch by (None: scored as it is)."""

    width: int  # the batch's columns
    nonnull: tuple[int, ...]
    categorical: tuple[tuple[int, frozenset[str]], ...]
    order: list[Any] | None


def shape_key(X: Any) -> tuple[Any, ...]:
    """The batch's column labels and dtypes, as one hashable key."""
    mgr = getattr(X, "_mgr", None)
    # The frame's own list of dtypes is ~25x cheaper than building the ``X.dtypes`` Series,
    # which would cost more than the whole check of a 1-row batch; the public one otherwise.
    get = getattr(mgr, "get_dtypes", None)
    dtypes = tuple(get()) if callable(get) else tuple(X.dtypes.tolist())
    return (tuple(X.columns.tolist()), dtypes)


def plan_for(sig: Signature, key: tuple[Any, ...]) -> Plan | None:
    """The plan kept for ``sig`` if its last batch had shape ``key``."""
    with _LOCK:
        found = _LAST.get(id(sig))
    if found is None or found[0] is not sig or found[1] != key:
        return None
    return found[2]


def keep_plan(sig: Signature, key: tuple[Any, ...], plan: Plan) -> None:
    with _LOCK:
        if len(_LAST) >= _MAX_KEPT:  # signatures no longer used: let them go
            _LAST.clear()
        _LAST[id(sig)] = (sig, key, plan)


def values_pass(plan: Plan, X: Any) -> bool:
    """Whether the batch's values break nothing the plan checks (no null where training had
    none, no category unseen in training). Read block by block from the frame (one NumPy
    call for all its float columns, rather than a Series built per column); False, so the
    slow path decides, when the frame's layout is not the one known."""
    try:
        return _blocks_pass(plan, X._mgr.blocks)
    except (AttributeError, TypeError, IndexError, ValueError):
        return False


def _blocks_pass(plan: Plan, blocks: Any) -> bool:
    import numpy as np
    import pandas as pd

    nonnull = set(plan.nonnull)
    known = dict(plan.categorical)
    seen = 0
    for blk in blocks:
        values = blk.values
        locs = blk.mgr_locs.as_array.tolist()
        seen += len(locs)
        if getattr(values, "ndim", 1) == 2:
            rows = [k for k, i in enumerate(locs) if i in nonnull]
            kind = getattr(values.dtype, "kind", "O")
            if rows and kind not in "iub":  # NumPy ints and bools hold no nulls
                part = values[rows]
                if (np.isnan(part) if kind in "fc" else pd.isna(part)).any():
                    return False
            columns = [(values[k], i) for k, i in enumerate(locs) if i in known]
        else:
            if locs[0] in nonnull and pd.isna(values).any():
                return False
            columns = [(values, locs[0])] if locs[0] in known else []
        for column, i in columns:
            found = {str(v) for v in pd.unique(column) if not pd.isna(v)}
            if not found <= known[i]:
                return False
    return seen == plan.width
