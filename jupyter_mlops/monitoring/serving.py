"""``mlops.predict`` and ``mlops.log_labels``: score with the blessed model, record the batch.

``predict`` is a drop-in for ``load_model(name).predict(X)``: it returns exactly what the blessed
model returns, at the model's speed. Behind the call (``recorder.py``), per batch, it records a
mergeable profile of the features (binned like the reference, so daily batches add up to a
weekly profile without the rows), a profile of the predictions, the model's latency, the row
count and each row's id with its prediction (what delayed labels join onto). Versions in stage
``shadow`` score the same rows on threads of their own; their predictions are recorded and never
returned. ``flush()`` waits for the records; every reader of them flushes first.
"""

from __future__ import annotations

import copy
import json
import logging
import pickle
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..entities import ModelStage, ModelVersion
from ..exceptions import ValidationError
from ..store.base import MonitorBatch, MonitorEvent, RunStore
from . import recorder

# (store location, name, version) -> unpickled model: serving code calls predict per request,
# and unpickling a model each time would dominate its latency. A version's bytes never change.
_MODELS: dict[tuple[str, str, int], Any] = {}
_REFERENCES: dict[tuple[str, str, int], dict[str, Any] | None] = {}
# (store location, name, version) -> the profile its batches are binned like, found once: the
# training profile, else the version's first stored batch, else the first batch it scores.
_BINS: dict[tuple[str, str, int], dict[str, Any]] = {}
_LOCK = threading.Lock()
log = logging.getLogger(__name__)


def _store(store: RunStore | None) -> RunStore:
    if store is not None:
        return store
    from ..tracking import default_tracker

    return default_tracker().store


def _load(store: RunStore, mv: ModelVersion) -> tuple[Any, float | None]:
    """The version's model, and the seconds it took to load if this call loaded it."""
    key = (store.location, mv.name, mv.version)
    with _LOCK:
        if key in _MODELS:
            return _MODELS[key], None
        from ..registry import ModelRegistry

        t0 = time.perf_counter()
        _MODELS[key] = ModelRegistry(store).load_version(mv)
        return _MODELS[key], time.perf_counter() - t0


def cached_model(store: RunStore, mv: ModelVersion) -> Any:
    return _load(store, mv)[0]


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
    (so that every later batch merges with it), else None (a first batch bins itself). Found
    once per version and process, with one indexed read: never a read of the history per call."""
    key = (store.location, mv.name, mv.version)
    with _LOCK:
        if key in _BINS:
            return _BINS[key]
    found = training_profile(store, mv)
    if found is None:
        first = store.monitor_batches(mv.name, version=mv.version, limit=1)
        found = first[0].profile if first else None
    if found is not None:
        with _LOCK:
            found = _BINS.setdefault(key, found)
    return found


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
    return [str(i) for i in ids]


def _keep_rows(st: RunStore, frame: Any, row_ids: list[str]) -> str:
    """Store the batch's rows; returns their artifact URI."""
    # The ids ride in ``attrs`` (which pickle keeps and ``equals`` ignores): they are what
    # joins a kept row to its delayed label (``live_validation_set``).
    kept = frame.copy(deep=False)
    kept.attrs = {"row_ids": row_ids}
    return st.artifacts.put_bytes(pickle.dumps(kept))[2]


def _batch_profile(frame: Any, bins: dict[str, Any] | None, slice_by: str | None) -> dict:
    """The batch's feature profile, binned like ``bins`` (None: the batch bins itself)."""
    from ..validation.profiles import profile

    return profile(frame, bins_from=bins).to_dict()


@dataclass
class _Batch:
    """A scored batch, as ``predict`` hands it to the recorder: what its record is made of."""

    st: RunStore
    name: str
    version: ModelVersion
    X: Any  # the rows as the model got them (a copy: the caller may reuse its buffer)
    y: Any  # the model's output (a copy)
    latency: float
    when: float
    batch_id: str
    ids: list[Any] | None
    slice_by: str | None
    keep_rows: bool

    def batch(
        self,
        mv: ModelVersion,
        role: str,
        values: list[Any],
        took: float | None,
        prof: dict[str, Any],
        rows_uri: str | None,
    ) -> MonitorBatch:
        import pandas as pd

        predictions = profile_of(pd.DataFrame({"prediction": values}))
        return MonitorBatch(
            self.batch_id,
            self.name,
            mv.version,
            role,
            self.when,
            len(values),
            took,
            prof,
            predictions,
            rows_uri,
        )

    def rows(
        self, mv: ModelVersion, row_ids: list[str], values: list[Any], slices: list[Any]
    ) -> list[tuple[Any, ...]]:
        return [
            (self.name, mv.version, rid, self.batch_id, json.dumps(v), s, self.when)
            for rid, v, s in zip(row_ids, values, slices, strict=True)
        ]


def profile_of(frame: Any) -> dict[str, Any]:
    from ..validation.profiles import profile

    return profile(frame).to_dict()


def _record(job: _Batch, sync: bool) -> None:
    """Make and write the blessed batch's record, then hand the rows to each shadow."""
    st, mv = job.st, job.version
    frame = _frame(job.X)
    row_ids = _ids(job.ids, len(frame), job.batch_id)
    slices = [None] * len(frame) if job.slice_by is None else frame[job.slice_by].astype(str)
    slices = list(slices)
    bins = bins_for(st, mv)
    prof = _batch_profile(frame, bins, job.slice_by)
    if bins is None:  # the version's first batch: the later ones are binned like it
        with _LOCK:
            _BINS.setdefault((st.location, mv.name, mv.version), prof)
    rows_uri = _keep_rows(st, frame, row_ids) if job.keep_rows else None
    values = [_plain(v) for v in list(job.y)]
    st.record_batch(
        [job.batch(mv, "blessed", values, job.latency, prof, rows_uri)],
        job.rows(mv, row_ids, values, slices),
    )
    for shadow in (m for m in st.list_models(job.name) if m.stage is ModelStage.SHADOW):
        score = _shadow_job(job, shadow, prof, rows_uri, row_ids, slices)
        if sync:
            score()
        else:
            _submit_shadow(job, shadow, score, len(row_ids))


def _shadow_job(
    job: _Batch,
    mv: ModelVersion,
    prof: dict[str, Any],
    rows_uri: str | None,
    row_ids: list[str],
    slices: list[Any],
) -> recorder.Job:
    """Score the batch with the shadow ``mv`` and record it; a failure is recorded instead."""

    def score() -> None:
        try:
            model = cached_model(job.st, mv)
            t0 = time.perf_counter()
            out = model.predict(job.X)
            took = time.perf_counter() - t0
            values = [_plain(v) for v in list(out)]
            rows = job.rows(mv, row_ids, values, slices)
        except Exception as e:  # a shadow's own failure: recorded, never the caller's
            detail = {
                "version": mv.version,
                "batch_id": job.batch_id,
                "error": f"{type(e).__name__}: {e}",
            }
            job.st.log_monitor_event(MonitorEvent(job.name, job.when, "shadow", "failed", detail))
            return
        job.st.record_batch([job.batch(mv, "shadow", values, took, prof, rows_uri)], rows)

    return score


def _submit_shadow(job: _Batch, mv: ModelVersion, score: recorder.Job, n: int) -> None:
    st, name, when = job.st, job.name, job.when

    def overflow(batches: int, rows: int) -> None:
        detail = {
            "version": mv.version,
            "batches": batches,
            "rows": rows,
            "why": "the shadow's queue was full: it was still scoring earlier batches",
        }
        st.log_monitor_event(MonitorEvent(name, when, "shadow", "overflow", detail))

    def stalled(tag: Any) -> None:
        batch_id, when = tag
        detail = {
            "version": mv.version,
            "batch_id": batch_id,
            "why": f"still scoring after {recorder.SHADOW_WAIT:g}s",
        }
        _submit_event(st, MonitorEvent(name, when, "shadow", "stalled", detail))

    key = (st.location, name, mv.version)
    worker = recorder.shadow_worker(key, stalled)
    worker.submit(score, n, key, overflow, (job.batch_id, job.when))


def _submit(job: _Batch, n: int) -> None:
    st, name, when = job.st, job.name, job.when

    def overflow(batches: int, rows: int) -> None:
        detail = {
            "batches": batches,
            "rows": rows,
            "why": "the record queue was full: the store fell behind the predictions",
        }
        st.log_monitor_event(MonitorEvent(name, when, "overflow", "dropped", detail))

    recorder.recorder().submit(lambda: _record(job, False), n + 1, (st.location, name), overflow)


def _snapshot(value: Any) -> Any:
    """A copy the caller may overwrite after the call (a NumPy array's or a DataFrame's copy
    is one memcpy per column; a list's, shallow)."""
    return value.copy() if hasattr(value, "copy") else copy.copy(value)


def _check_args(X: Any, ids: Sequence[Any] | None, slice_by: str | None) -> list[Any] | None:
    """What is wrong with the call, as a ``ValidationError``, before anything is scored."""
    n = len(X)
    found = None if ids is None else list(ids)
    if found is not None and len(found) != n:
        raise ValidationError(f"predict got {n} rows but {len(found)} ids; pass one id per row")
    if slice_by is not None and slice_by not in _frame(X).columns:
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
    ``slice_by`` is a column of ``X`` whose value groups the per-slice metrics; ``now`` is the
    batch's time (injectable for tests and back-fills)."""
    st = _store(store)
    blessed = st.get_model(name)
    row_ids = _check_args(X, ids, slice_by)
    model, loaded = _load(st, blessed)
    t0 = time.perf_counter()
    y = model.predict(X)
    latency = time.perf_counter() - t0  # the model's alone: its loading is recorded apart
    when = time.time() if now is None else now
    job = _Batch(
        st,
        name,
        blessed,
        _snapshot(X),
        _snapshot(y),
        latency,
        when,
        uuid.uuid4().hex[:16],
        row_ids,
        slice_by,
        keep_rows,
    )
    if loaded is not None:
        _record_load(job, loaded, sync)
    if sync:
        _record(job, True)
    else:
        _submit(job, len(X))
    return y


def _record_load(job: _Batch, seconds: float, sync: bool) -> None:
    """A monitor event for the model's load, once per version and process."""
    event = MonitorEvent(
        job.name, job.when, "load", "ok", {"version": job.version.version, "seconds": seconds}
    )
    if sync:
        job.st.log_monitor_event(event)
    else:
        _submit_event(job.st, event)


def _submit_event(st: RunStore, event: MonitorEvent) -> None:
    """Write ``event`` behind the call (in order with the batches)."""

    def overflow(batches: int, rows: int) -> None:
        log.warning(
            "monitor event %s of %r not recorded: the record queue was full", event.kind, event.name
        )

    recorder.recorder().submit(lambda: st.log_monitor_event(event), 1, None, overflow)


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
