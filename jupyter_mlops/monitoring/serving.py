"""``mlops.predict`` and ``mlops.log_labels``: score with the blessed model, record the batch.

``predict`` is a drop-in for ``load_model(name).predict(X)``: it returns exactly what the blessed
model returns, at the model's speed; a framework model gets its framework's conversion of X
first (a ``DMatrix`` for an XGBoost Booster, a tensor for a torch module: see
:func:`jupyter_mlops.frameworks.predict`). Behind the call (``recorder.py``), per batch, it
records a mergeable profile of the features (binned like the reference, so daily batches add up
to a weekly profile without the rows), a profile of the predictions, the model's latency, the row
count and each row's id with its prediction (what delayed labels join onto). Versions in stage
``shadow`` score the same rows on threads of their own; their predictions are recorded and never
returned. ``flush()`` waits for the records; every reader of them flushes first.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..entities import ModelVersion
from ..exceptions import ValidationError
from ..frameworks import predict as framework_predict
from ..store.base import MonitorEvent, RunStore
from ..validation.contract import contract_check
from . import recorder
from .canary_routing import predict_arms
from .recording import Batch, as_frame, load, plain, record, submit, submit_event
from .recording import bins_for as bins_for
from .recording import cached_model as cached_model
from .recording import training_profile as training_profile

log = logging.getLogger(__name__)


def _store(store: RunStore | None) -> RunStore:
    if store is not None:
        return store
    from ..tracking import default_tracker

    return default_tracker().store


def _snapshot(value: Any) -> Any:
    """A copy the caller may change after the call without changing the record. Under
    copy-on-write (pandas >= 3 always has it) a DataFrame's shallow copy is one: it shares the
    data until either side writes. A deep copy of 10,000 x 20 floats into fresh memory takes
    ~0.6 ms, a third of a linear model's own time on them. Anything else is copied."""
    pd = sys.modules.get("pandas")  # not imported: X cannot be a DataFrame
    if pd is not None and isinstance(value, pd.DataFrame) and _copy_on_write(pd):
        return value.copy(deep=False)
    return value.copy() if hasattr(value, "copy") else copy.copy(value)


def _copy_on_write(pd: Any) -> bool:
    return int(pd.__version__.split(".")[0]) >= 3


def _check_args(X: Any, ids: Sequence[Any] | None, slice_by: str | None) -> list[Any] | None:
    """What is wrong with the call, as a ``ValidationError``, before anything is scored."""
    n = len(X)
    found = None if ids is None else list(ids)
    if found is not None and len(found) != n:
        raise ValidationError(f"predict got {n} rows but {len(found)} ids; pass one id per row")
    if slice_by is not None and slice_by not in as_frame(X).columns:
        raise ValidationError(
            f"slice_by={slice_by!r} is not a column of X; pick one of X's columns"
        )
    return found


def predict(
    name: str,
    X: Any,
    ids: Sequence[Any] | None = None,
    *,
    slice_by: str | None = None,
    keep_rows: bool = False,
    now: float | None = None,
    sync: bool = False,
    store: RunStore | None = None,
) -> Any:
    """The blessed ``name``'s predictions for ``X``; records the batch (and shadow scores)
    behind the call (``sync=True``: before returning, shadows included).

    ``ids`` name the rows for ``log_labels`` (default: generated, so labels cannot join);
    ``slice_by`` is a column of ``X`` whose value groups the per-slice metrics and profiles;
    ``now`` is the batch's time (injectable for tests and back-fills). Under a running
    canary, the rows whose ids route to the candidate are scored and recorded by it (see
    :mod:`.canary_routing`); without ids, every row stays on the blessed version."""
    st = _store(store)
    row_ids = _check_args(X, ids, slice_by)
    when = time.time() if now is None else now

    def score(mv: ModelVersion, rows: Any, arm_ids: list[Any] | None, role: str) -> Any:
        return _score(st, name, mv, rows, arm_ids, when, slice_by, keep_rows, sync, role)

    if row_ids is not None:  # a running canary takes the rows its ids route to it
        routed = predict_arms(st, name, X, row_ids, score)
        if routed is not None:
            return routed
    return score(st.get_model(name), X, row_ids, "blessed")


def _score(
    st: RunStore,
    name: str,
    mv: ModelVersion,
    X: Any,
    row_ids: list[Any] | None,
    when: float,
    slice_by: str | None,
    keep_rows: bool,
    sync: bool,
    role: str,
) -> Any:
    """Score ``X`` with ``mv`` and record the batch (as ``role``); returns the predictions."""
    model, loaded = load(st, mv)
    X = contract_check(st, mv, X, model)  # this version's input contract (ContractError)
    t0 = time.perf_counter()
    y = framework_predict(model, X)
    latency = time.perf_counter() - t0  # the model's alone: its loading is recorded apart
    job = Batch(
        st,
        name,
        mv,
        _snapshot(X),
        _snapshot(y),
        latency,
        when,
        uuid.uuid4().hex[:16],
        row_ids,
        slice_by,
        keep_rows,
        role,
    )
    if loaded is not None:
        _record_load(job, loaded, sync)
    if sync:
        record(job, True)
    else:
        submit(job, len(X))
    return y


def _record_load(job: Batch, seconds: float, sync: bool) -> None:
    """A monitor event for the model's load, once per version and process."""
    event = MonitorEvent(
        job.name, job.when, "load", "ok", {"version": job.version.version, "seconds": seconds}
    )
    if sync:
        job.st.log_monitor_event(event)
    else:
        submit_event(job.st, event)


def flush(timeout: float | None = None) -> bool:
    """Wait until every batch ``predict`` scored in this process is recorded (readers of the
    records do this themselves); True when all landed (see ``recorder.flush``)."""
    return recorder.flush(timeout)


UNKNOWN_SAMPLE = 5  # how many unknown ids a LabelsLogged keeps to show


@dataclass(frozen=True)
class LabelsLogged:
    """What ``log_labels`` did: ``attached`` labels joined rows scored earlier; ``unknown`` ids
    were never scored by the model (``unknown_ids``: the first few). Unknown ids' labels are
    kept all the same: they join a row scored with that id later."""

    attached: int
    unknown: int = 0
    unknown_ids: tuple[str, ...] = ()

    def describe(self) -> str:
        text = f"{self.attached} label(s) attached"
        if self.unknown:
            sample = ", ".join(repr(i) for i in self.unknown_ids)
            more = ", …" if self.unknown > len(self.unknown_ids) else ""
            text += (
                f"; {self.unknown} id(s) were never scored ({sample}{more}): pass the same ids "
                "to predict(..., ids=) and log_labels"
            )
        return text


def log_labels(
    name: str,
    ids: Sequence[Any],
    y: Sequence[Any],
    *,
    now: float | None = None,
    store: RunStore | None = None,
) -> LabelsLogged:
    """Attach ground truth ``y`` to the rows ``ids`` scored earlier: how many joined a scored
    row, and which ids were never scored (logged as a warning)."""
    ids = [str(i) for i in ids]
    labels = [plain(v) for v in list(y)]
    if len(ids) != len(labels):
        raise ValidationError(f"log_labels got {len(ids)} ids but {len(labels)} labels")
    st = _store(store)
    st.get_model(name, 1)  # a clear error for an unknown model
    when = time.time() if now is None else now
    unknown = st.log_labels(
        name, [(i, json.dumps(v)) for i, v in zip(ids, labels, strict=True)], when
    )
    result = LabelsLogged(len(ids) - len(unknown), len(unknown), tuple(unknown[:UNKNOWN_SAMPLE]))
    if unknown:
        log.warning("log_labels(%r): %s", name, result.describe())
    return result
