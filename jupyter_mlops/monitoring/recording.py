"""What ``mlops.predict`` records, made behind the call (``recorder.py`` runs it): the batch's
feature profile (binned like the version's reference, found once per version), the prediction
profile, the model's latency, each row's id with its prediction, the kept rows; then each
shadow version's scores, on a thread of its own. Also the process's caches of loaded models and
training profiles, which serving and the monitors share."""

from __future__ import annotations

import json
import logging
import pickle
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..entities import ModelStage, ModelVersion
from ..frameworks import predict as framework_predict
from ..store.base import MonitorBatch, MonitorEvent, RunStore
from . import recorder
from .profile_text import encoded

# (store location, name, version) -> unpickled model: serving code calls predict per request,
# and unpickling a model each time would dominate its latency. A version's bytes never change.
_MODELS: dict[tuple[str, str, int], Any] = {}
_REFERENCES: dict[tuple[str, str, int], dict[str, Any] | None] = {}
# (store location, name, version) -> the profile its batches are binned like, found once: the
# training profile, else the version's first stored batch, else the first batch it scores.
_BINS: dict[tuple[str, str, int], dict[str, Any]] = {}
# id(bins dict) -> (that dict, kept alive so the id stays its own; the dict parsed)
_PARSED: dict[int, tuple[dict[str, Any], Any]] = {}
_LOCK = threading.Lock()
log = logging.getLogger(__name__)


def load(store: RunStore, mv: ModelVersion) -> tuple[Any, float | None]:
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
    return load(store, mv)[0]


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


def plain(value: Any) -> Any:
    """A prediction or label as plain Python for JSON: a number or text, or a list where a
    model gives several outputs per row (a Booster's or a network's class probabilities)."""
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:
        return value.item()
    return value.tolist() if hasattr(value, "tolist") else value


def plain_values(y: Any) -> list[Any]:
    """``[plain(v) for v in y]``: one ``tolist()`` for a 1-D NumPy array of numbers (the same
    Python numbers, without a call per value)."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "biuf":
        return list(y.tolist())
    return [plain(v) for v in list(y)]


def as_frame(X: Any) -> Any:
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
    """The batch's feature profile, binned like ``bins`` (None: the batch bins itself), with a
    profile per slice when ``slice_by`` is given (:mod:`.slices`)."""
    from ..validation.profiles import profile
    from .slices import slice_profiles

    ref = None if bins is None else _parsed(bins)
    found = profile(frame, bins_from=ref).to_dict() | slice_profiles(frame, slice_by, bins)
    return encoded(found)


def _parsed(bins: dict[str, Any]) -> Any:
    """``bins`` as a Profile, parsed once per reference (a version's bins never change, and
    parsing 100 edges a column was a third of the cost of profiling a small batch)."""
    from ..validation.profiles import as_profile

    with _LOCK:
        found = _PARSED.get(id(bins))
    if found is not None and found[0] is bins:
        return found[1]
    parsed = as_profile(bins)
    with _LOCK:
        if len(_PARSED) >= 1024:  # references dropped from _BINS: let them go
            _PARSED.clear()
        _PARSED[id(bins)] = (bins, parsed)
    return parsed


@dataclass
class Batch:
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
    role: str = "blessed"  # or "canary": the candidate arm of a running canary

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

        if values and isinstance(values[0], list):  # several outputs a row: a column each
            frame = pd.DataFrame(values).rename(columns=lambda i: f"prediction_{i}")
            predictions = profile_of(frame)
        else:  # one column: its profile without building a frame around it
            predictions = _one_column_profile("prediction", pd.Series(values))
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


def _one_column_profile(name: str, series: Any) -> dict[str, Any]:
    from ..validation.profiles import Profile, profile_column

    return Profile(len(series), {name: profile_column(series)}).to_dict()


def profile_of(frame: Any) -> dict[str, Any]:
    from ..validation.profiles import profile

    return profile(frame).to_dict()


def record(job: Batch, sync: bool) -> None:
    """Make and write the blessed batch's record, then hand the rows to each shadow."""
    st, mv = job.st, job.version
    frame = as_frame(job.X)
    row_ids = _ids(job.ids, len(frame), job.batch_id)
    slices = [None] * len(frame) if job.slice_by is None else frame[job.slice_by].astype(str)
    slices = list(slices)
    bins = bins_for(st, mv)
    prof = _batch_profile(frame, bins, job.slice_by)
    if bins is None:  # the version's first batch: the later ones are binned like it
        with _LOCK:
            _BINS.setdefault((st.location, mv.name, mv.version), prof)
    rows_uri = _keep_rows(st, frame, row_ids) if job.keep_rows else None
    values = plain_values(job.y)
    st.record_batch(
        [job.batch(mv, job.role, values, job.latency, prof, rows_uri)],
        job.rows(mv, row_ids, values, slices),
    )
    for shadow in (m for m in st.list_models(job.name) if m.stage is ModelStage.SHADOW):
        score = _shadow_job(job, shadow, prof, rows_uri, row_ids, slices)
        if sync:
            score()
        else:
            _submit_shadow(job, shadow, score, len(row_ids))


def _shadow_job(
    job: Batch,
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
            out = framework_predict(model, job.X)
            took = time.perf_counter() - t0
            values = plain_values(out)
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


def _submit_shadow(job: Batch, mv: ModelVersion, score: recorder.Job, n: int) -> None:
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
        submit_event(st, MonitorEvent(name, when, "shadow", "stalled", detail))

    key = (st.location, name, mv.version)
    worker = recorder.shadow_worker(key, stalled)
    worker.submit(score, n, key, overflow, (job.batch_id, job.when))


def submit(job: Batch, n: int) -> None:
    st, name, when = job.st, job.name, job.when

    def overflow(batches: int, rows: int) -> None:
        detail = {
            "batches": batches,
            "rows": rows,
            "why": "the record queue was full: the store fell behind the predictions",
        }
        st.log_monitor_event(MonitorEvent(name, when, "overflow", "dropped", detail))

    recorder.recorder().submit(lambda: record(job, False), max(n, 1), (st.location, name), overflow)


def submit_event(st: RunStore, event: MonitorEvent) -> None:
    """Write ``event`` behind the call (in order with the batches)."""

    def overflow(batches: int, rows: int) -> None:
        log.warning(
            "monitor event %s of %r not recorded: the record queue was full", event.kind, event.name
        )

    recorder.recorder().submit(lambda: st.log_monitor_event(event), 1, None, overflow)
