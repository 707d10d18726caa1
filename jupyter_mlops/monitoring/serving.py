"""``mlops.predict`` and ``mlops.log_labels``: score with the blessed model, record the batch.

``predict`` is a drop-in for ``load_model(name).predict(X)``: it returns exactly what the blessed
model returns, and records, per batch, a mergeable profile of the features (binned like the
reference, so daily batches add up to a weekly profile without the rows), a profile of the
predictions, the latency, the row count and each row's id with its prediction (what delayed
labels join onto). Versions in stage ``shadow`` score the same rows; their predictions are
recorded and never returned.
"""

from __future__ import annotations

import json
import logging
import pickle
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..entities import ModelStage, ModelVersion
from ..exceptions import ValidationError
from ..store.base import MonitorBatch, RunStore
from .slices import slice_profiles

# (store location, name, version) -> unpickled model: serving code calls predict per request,
# and unpickling a model each time would dominate its latency. A version's bytes never change.
_MODELS: dict[tuple[str, str, int], Any] = {}
_REFERENCES: dict[tuple[str, str, int], dict[str, Any] | None] = {}
_LOCK = threading.Lock()
log = logging.getLogger(__name__)


def _store(store: RunStore | None) -> RunStore:
    if store is not None:
        return store
    from ..tracking import default_tracker

    return default_tracker().store


def cached_model(store: RunStore, mv: ModelVersion) -> Any:
    key = (store.location, mv.name, mv.version)
    with _LOCK:
        if key not in _MODELS:
            from ..registry import ModelRegistry

            _MODELS[key] = ModelRegistry(store).load_version(mv)
        return _MODELS[key]


def training_profile(store: RunStore, mv: ModelVersion) -> dict[str, Any] | None:
    """The profile the version's training run logged (``log_profile``), or None."""
    key = (store.location, mv.name, mv.version)
    with _LOCK:
        if key in _REFERENCES:
            return _REFERENCES[key]
    run = store.get_run(mv.run_id)
    found = None
    arts = sorted((a for a in run.artifacts if a.kind == "profile"), key=lambda a: a.name)
    if arts:
        found = json.loads(store.artifacts.read_bytes(arts[0].uri, arts[0].sha256))
    with _LOCK:
        _REFERENCES[key] = found
    return found


def bins_for(store: RunStore, mv: ModelVersion) -> dict[str, Any] | None:
    """What the version's batches are binned like: its training profile, else its first batch
    (so that every later batch merges with it), else None (a first batch bins itself)."""
    ref = training_profile(store, mv)
    if ref is not None:
        return ref
    first = next(
        (b for b in store.monitor_batches(mv.name) if b.version == mv.version and b.profile), None
    )
    return first.profile if first is not None else None


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _frame(X: Any) -> Any:
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame(X).rename(columns=str)


def _ids(ids: Sequence[Any] | None, n: int, batch_id: str) -> list[str]:
    if ids is None:
        return [f"{batch_id}:{i}" for i in range(n)]
    out = [str(i) for i in ids]
    if len(out) != n:
        raise ValidationError(f"predict got {n} rows but {len(out)} ids; pass one id per row")
    return out


def _keep_rows(st: RunStore, frame: Any, row_ids: list[str]) -> str:
    """Store the batch's rows; returns their artifact URI."""
    # The ids ride in ``attrs`` (which pickle keeps and ``equals`` ignores): they are what
    # joins a kept row to its delayed label (``live_validation_set``).
    kept = frame.copy(deep=False)
    kept.attrs = {"row_ids": row_ids}
    return st.artifacts.put_bytes(pickle.dumps(kept))[2]


def _scores(
    st: RunStore, name: str, blessed: ModelVersion, X: Any, y: Any, latency: float
) -> Iterator[tuple[ModelVersion, str, list[Any], float]]:
    """(version, role, predictions, seconds) for the blessed version (already scored: ``y``
    in ``latency``), then each shadow version, scored on ``X`` as it comes."""
    for mv, role in [
        (blessed, "blessed"),
        *((m, "shadow") for m in st.list_models(name) if m.stage is ModelStage.SHADOW),
    ]:
        if role == "blessed":
            out, took = y, latency
        else:
            t1 = time.perf_counter()
            out = cached_model(st, mv).predict(X)
            took = time.perf_counter() - t1
        yield mv, role, [_plain(v) for v in list(out)], took


def predict(
    name: str,
    X: Any,
    ids: Sequence[Any] | None = None,
    *,
    slice_by: str | None = None,
    keep_rows: bool = False,
    now: float | None = None,
    store: RunStore | None = None,
) -> Any:
    """The blessed ``name``'s predictions for ``X``; records the batch (and shadow scores).

    ``ids`` name the rows for ``log_labels`` (default: generated, so labels cannot join);
    ``slice_by`` is a column of ``X`` whose value groups the per-slice metrics and profiles;
    ``now`` is the batch's time (injectable for tests and back-fills)."""
    from ..validation.profiles import profile

    st = _store(store)
    blessed = st.get_model(name)
    frame = _frame(X)
    if slice_by is not None and slice_by not in frame.columns:
        raise ValidationError(
            f"slice_by={slice_by!r} is not a column of X; pick one of X's columns"
        )
    t0 = time.perf_counter()
    y = cached_model(st, blessed).predict(X)
    latency = time.perf_counter() - t0
    when = time.time() if now is None else now
    batch_id = uuid.uuid4().hex[:16]
    row_ids = _ids(ids, len(frame), batch_id)
    slices = [None] * len(frame) if slice_by is None else frame[slice_by].astype(str).tolist()
    bins = bins_for(st, blessed)  # what the batch, and each slice of it, is binned like
    prof = profile(frame, bins_from=bins).to_dict() | slice_profiles(frame, slice_by, bins)
    rows_uri = _keep_rows(st, frame, row_ids) if keep_rows else None
    batches: list[MonitorBatch] = []
    preds: list[tuple[Any, ...]] = []
    for mv, role, values, took in _scores(st, name, blessed, X, y, latency):
        import pandas as pd

        batches.append(
            MonitorBatch(
                batch_id,
                name,
                mv.version,
                role,
                when,
                len(frame),
                took,
                prof,
                profile(pd.DataFrame({"prediction": values})).to_dict(),
                rows_uri,
            )
        )
        preds.extend(
            (name, mv.version, rid, batch_id, json.dumps(v), s, when)
            for rid, v, s in zip(row_ids, values, slices, strict=True)
        )
    st.record_batch(batches, preds)
    return y


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
    labels = [_plain(v) for v in list(y)]
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
