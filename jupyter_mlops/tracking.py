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

# Split by concern: the Tracker and ActiveRun in tracker.py, the module-level API in fluent.py.
# Every name stays importable from here (tests, the package front door and other modules do);
# ``name as name`` marks a re-export.
from .fluent import (
    _flush_at_exit as _flush_at_exit,
)
from .fluent import (
    _require_active as _require_active,
)
from .fluent import (
    default_tracker as default_tracker,
)
from .fluent import (
    flush as flush,
)
from .fluent import (
    get_run as get_run,
)
from .fluent import (
    log_artifact as log_artifact,
)
from .fluent import (
    log_dataset as log_dataset,
)
from .fluent import (
    log_figure as log_figure,
)
from .fluent import (
    log_metric as log_metric,
)
from .fluent import (
    log_metrics as log_metrics,
)
from .fluent import (
    log_model as log_model,
)
from .fluent import (
    log_param as log_param,
)
from .fluent import (
    log_params as log_params,
)
from .fluent import (
    log_validation_data as log_validation_data,
)
from .fluent import (
    metric_history as metric_history,
)
from .fluent import (
    reading_tracker as reading_tracker,
)
from .fluent import (
    reset_default_tracker as reset_default_tracker,
)
from .fluent import (
    runs as runs,
)
from .fluent import (
    set_store as set_store,
)
from .fluent import (
    set_tags as set_tags,
)
from .fluent import (
    start_run as start_run,
)
from .tracker import (
    DEFAULT_EXPERIMENT as DEFAULT_EXPERIMENT,
)
from .tracker import (
    FLUSH_ITEMS as FLUSH_ITEMS,
)
from .tracker import (
    FLUSH_SECONDS as FLUSH_SECONDS,
)
from .tracker import (
    HEARTBEAT_SECONDS as HEARTBEAT_SECONDS,
)
from .tracker import (
    PARENT_ENV as PARENT_ENV,
)
from .tracker import (
    REPRODUCES_TAG as REPRODUCES_TAG,
)
from .tracker import (
    SETTLE_SECONDS as SETTLE_SECONDS,
)
from .tracker import (
    ActiveRun as ActiveRun,
)
from .tracker import (
    Tracker as Tracker,
)
from .tracker import (
    TrackingWarning as TrackingWarning,
)
from .tracker import (
    _active as _active,
)
from .tracker import (
    _as_float as _as_float,
)
from .tracker import (
    _check_key as _check_key,
)
from .tracker import (
    _in_ipython as _in_ipython,
)
from .tracker import (
    active_run as active_run,
)
from .tracker import (
    set_ambient_run as set_ambient_run,
)
from .tracker import (
    status_for_exception as status_for_exception,
)
from .tracker import (
    warn_not_recorded as warn_not_recorded,
)

__all__ = [
    "ActiveRun",
    "Tracker",
    "TrackingWarning",
    "active_run",
    "default_tracker",
    "flush",
    "get_run",
    "log_artifact",
    "log_dataset",
    "log_figure",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_validation_data",
    "metric_history",
    "reset_default_tracker",
    "runs",
    "set_store",
    "set_tags",
    "start_run",
    "status_for_exception",
]
