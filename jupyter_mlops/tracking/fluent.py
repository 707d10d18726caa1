"""The module-level fluent API (``mlops.start_run``, ``mlops.log_metric`` …) over a default
tracker for the current project, and the flush of queued records at exit.

The active run is the ``ContextVar`` of :mod:`jupyter_mlops.tracking.tracker`; see
:mod:`jupyter_mlops.tracking` for the batching and durability rules.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..entities import Artifact, Fingerprint, Run
from ..exceptions import NotFoundError, ValidationError
from ..project import Project, find_project
from ..store.writer import StoreWriter, all_writers

if TYPE_CHECKING:
    import pandas as pd

from .tracker import ActiveRun, Tracker, TrackingWarning, _active, active_run, warn_not_recorded

log = logging.getLogger(__name__)

_default: Tracker | None = None
_default_lock = threading.Lock()


def default_tracker(*, create: bool = True) -> Tracker:
    """The tracker for the current project's store (created on first use, unless ``create`` is
    False: then a missing store raises StoreNotFoundError)."""
    global _default
    with _default_lock:
        if _default is None or _default_pid != os.getpid():
            _set_default(Tracker.from_project(find_project(), create=create))
        return _default  # type: ignore[return-value]


_default_pid = -1


def reading_tracker(tracker: Tracker | None = None) -> Tracker:
    """``tracker``, else the default one for reading: a view never creates a store."""
    return tracker if tracker is not None else default_tracker(create=False)


def _set_default(tracker: Tracker | None) -> None:
    global _default, _default_pid
    _default, _default_pid = tracker, os.getpid()


def set_store(location: str | os.PathLike[str] | None, *, create: bool = True) -> Tracker:
    """Point the fluent API at another store (None: back to the project's default)."""
    with _default_lock:
        _set_default(Tracker.from_project(find_project(store=location), create=create))
        return _default  # type: ignore[return-value]


def use_project(project: Project, *, create: bool = True) -> Tracker:
    """Make ``project``'s tracker the default one (a front-end's project, found once)."""
    with _default_lock:
        current = _default if _default_pid == os.getpid() else None
        if current is None or current.project != project:
            _set_default(Tracker.from_project(project, create=create))
        return _default  # type: ignore[return-value]


def reset_default_tracker() -> None:
    """Forget the default tracker (tests, or after changing JUPYTER_MLOPS_STORE)."""
    with _default_lock:
        _set_default(None)
    _active.set(None)


def start_run(
    *,
    experiment: str | None = None,
    name: str | None = None,
    seed: int | Literal["auto"] | None = "auto",
    tags: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    parent_id: str | None = None,
) -> ActiveRun:
    """Start a run on the default tracker; use as ``with mlops.start_run(...) as run:``."""
    return default_tracker().start_run(
        experiment=experiment, name=name, seed=seed, tags=tags, params=params, parent_id=parent_id
    )


def _require_active(what: str) -> ActiveRun:
    run = active_run()
    if run is None:
        raise ValidationError(
            f"{what} needs an active run; use `with mlops.start_run():` or a %%track cell"
        )
    return run


def log_param(key: str, value: Any) -> None:
    _require_active("log_param").log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    _require_active("log_params").log_params(params)


def log_metric(key: str, value: Any, step: int | None = None) -> None:
    _require_active("log_metric").log_metric(key, value, step)


def log_metrics(metrics: Mapping[str, Any], step: int | None = None) -> None:
    _require_active("log_metrics").log_metrics(metrics, step)


def set_tags(tags: Mapping[str, Any]) -> None:
    _require_active("set_tags").set_tags(tags)


def log_artifact(path: str | os.PathLike[str], name: str | None = None) -> Artifact:
    return _require_active("log_artifact").log_artifact(path, name)


def log_model(model: Any, name: str = "model") -> Artifact:
    return _require_active("log_model").log_model(model, name)


def log_figure(figure: Any, name: str = "figure.png") -> Artifact:
    return _require_active("log_figure").log_figure(figure, name)


def log_dataset(
    name: str, obj: Any, role: str = "input", save: bool | None = None, keep: bool | None = None
) -> Fingerprint:
    return _require_active("log_dataset").log_dataset(name, obj, role, save, keep)


def load_dataset(run_id: str, name: str, *, verify: bool = True) -> pd.DataFrame:
    """The DataFrame run ``run_id`` kept as ``name`` (``log_dataset(..., keep=True)``),
    exactly, checked against its recorded fingerprint (``verify``)."""
    from ..store.columns import read_dataset

    tracker = default_tracker(create=False)
    run = tracker.get_run(run_id)
    for a in run.artifacts:
        if a.kind == "dataset" and a.name == f"dataset:{name}":
            return read_dataset(tracker.store.artifacts, a.sha256, verify=verify)
    kept = sorted(a.name.removeprefix("dataset:") for a in run.artifacts if a.kind == "dataset")
    raise NotFoundError(
        f"Run {run_id} kept no dataset {name!r} (kept: {', '.join(kept) or 'none'}); keep one "
        "with mlops.log_dataset(name, df, keep=True)"
    )


def log_validation_data(X: Any, y: Any) -> Artifact:
    return _require_active("log_validation_data").log_validation_data(X, y)


def runs(
    experiment: str | None = None,
    where: str | None = None,
    order_by: str | list[str] | None = None,
    limit: int | None = None,
    include_reproductions: bool = False,
) -> pd.DataFrame:
    """Runs as a DataFrame: id, experiment, name, status, started, duration, seed, gates,
    model, model_stage, params.*, metrics.* (a reproduction's runs only when asked)."""
    return default_tracker(create=False).runs(
        experiment, where, order_by, limit, include_reproductions=include_reproductions
    )


def get_run(run_id: str) -> Run:
    return default_tracker(create=False).get_run(run_id)  # reads never create a store


def metric_history(run_id: str, key: str | None = None) -> pd.DataFrame:
    return default_tracker(create=False).metric_history(run_id, key)


def restore_recorded(sha: str) -> list[str]:
    """Restore the RNG states a run recorded under ``sha`` in the default store; what
    ``reproduce`` runs before replaying a tracked cell that was not seeded."""
    from .seeding import decode_states, restore_states

    text = default_tracker(create=False).store.get_code([sha]).get(sha)
    if text is None:
        raise ValidationError(f"The store holds no RNG state {sha}; it cannot be restored")
    return restore_states(decode_states(text))


def flush(timeout: float | None = None) -> bool:
    """Wait until every run record queued in this process is in its store (or ``timeout``
    seconds pass). True when all of it was written; failures are reported as
    :class:`TrackingWarning`. Reads (``runs``, ``get_run``) already wait for your own writes."""
    deadline = None if timeout is None else time.monotonic() + timeout
    ok = True
    for writer in all_writers():
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        ok = writer.wait(timeout=left) and ok
        ok = _report_writer_errors(writer) and ok
    return ok


def _report_writer_errors(writer: StoreWriter) -> bool:
    errors = writer.take_errors()
    for run_id, why in errors.items():
        warn_not_recorded(why, run_id)
    return not errors


def _flush_at_exit() -> None:
    """Give records still queued a bounded time to reach the store as the process exits; say
    which runs did not make it (they stay 'running' or absent, never half-written, and the
    next open of the store marks a 'running' one 'interrupted')."""
    writers = [w for w in all_writers() if w.pending or w.unwritten()]
    if not writers:
        for w in all_writers():
            _report_writer_errors(w)
        return
    timeout = max(w.exit_timeout for w in writers)
    deadline = time.monotonic() + timeout
    for w in writers:
        w.wait(timeout=max(0.0, deadline - time.monotonic()))
    for w in all_writers():
        _report_writer_errors(w)
        left = w.journal_left()
        if left is not None:  # kept on disk, not lost: say where, and when they are written
            warnings.warn(
                f"jupyter-mlops: {left[1]} record(s) the store {w.store.location} did not take "
                f"within {timeout:g} s of exit are kept in {left[0]}; they are written the next "
                "time the store is opened",
                TrackingWarning,
                stacklevel=2,
            )
        for run_id in w.unwritten():
            warn_not_recorded(
                f"the store {w.store.location} did not take its records within {timeout:g} s "
                "of exit (it is locked or slow; JUPYTER_MLOPS_FLUSH_TIMEOUT sets the wait)",
                run_id,
            )


atexit.register(_flush_at_exit)
