"""Recording runs: ``Tracker`` (explicit store, explicit runs) and the module-level fluent API.

The fluent functions (``mlops.log_metric`` …) act on the active run, kept in a ``ContextVar``
rather than a global stack, so a run left over by an exception can never capture the next one.
Writes are batched: params/metrics are buffered and handed to the store at most every
``FLUSH_SECONDS`` (and at the end), so a training loop logging every step costs microseconds per
call, and a killed process loses at most the last couple of seconds of curve points.

Writes go through the store's background writer (``store/writer.py``), so a store locked by
another process never holds up the user's code. Durability is waited for where a caller needs
it: :func:`flush`, :meth:`ActiveRun.flush`, the end of a run outside IPython (a script's
``with start_run():``), and every read through a tracker (``runs``, ``get_run``,
``metric_history``), which first waits for that process's queued writes, so you always read your
own runs. Inside IPython a run's end waits only briefly (``SETTLE_SECONDS``) and not at all once
the store is found locked; records still queued when the process exits are written with a bounded
wait (``flush_timeout``). Write failures are reported as :class:`TrackingWarning` at the next
call into jupyter-mlops.
"""

from __future__ import annotations

# Split by concern: the Tracker and ActiveRun in tracker.py, the module-level API in fluent.py,
# the cell tracker in cell.py; the names other modules use are re-exported here.
from .fluent import (
    default_tracker,
    flush,
    get_run,
    load_dataset,
    log_artifact,
    log_dataset,
    log_figure,
    log_metric,
    log_metrics,
    log_model,
    log_param,
    log_params,
    log_validation_data,
    metric_history,
    reading_tracker,
    reset_default_tracker,
    runs,
    set_store,
    set_tags,
    start_run,
)
from .tracker import (
    DEFAULT_EXPERIMENT,
    FLUSH_ITEMS,
    FLUSH_SECONDS,
    HEARTBEAT_SECONDS,
    PARENT_ENV,
    REPRODUCES_TAG,
    SETTLE_SECONDS,
    ActiveRun,
    Tracker,
    TrackingWarning,
    active_run,
    set_ambient_run,
    status_for_exception,
    warn_not_recorded,
)

__all__ = [
    "ActiveRun",
    "DEFAULT_EXPERIMENT",
    "FLUSH_ITEMS",
    "FLUSH_SECONDS",
    "HEARTBEAT_SECONDS",
    "PARENT_ENV",
    "REPRODUCES_TAG",
    "SETTLE_SECONDS",
    "Tracker",
    "TrackingWarning",
    "active_run",
    "default_tracker",
    "flush",
    "get_run",
    "log_artifact",
    "load_dataset",
    "log_dataset",
    "log_figure",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_validation_data",
    "metric_history",
    "reading_tracker",
    "reset_default_tracker",
    "runs",
    "set_ambient_run",
    "set_store",
    "set_tags",
    "start_run",
    "status_for_exception",
    "warn_not_recorded",
]
