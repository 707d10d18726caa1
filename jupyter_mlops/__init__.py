"""jupyter-mlops: experiment tracking and gated pipelines that live inside the notebook.

``import jupyter_mlops as mlops`` gives the core API; ``%load_ext jupyter_mlops`` adds the
``%%track`` and ``%mlops`` magics. Heavy libraries (pandas, NumPy, IPython) load only when used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .entities import Fingerprint, Run, RunKind, RunStatus
from .exceptions import MLOpsError
from .tracking import (
    ActiveRun,
    Tracker,
    TrackingWarning,
    active_run,
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
    runs,
    set_store,
    set_tags,
    start_run,
)

if TYPE_CHECKING:
    import pandas as pd

    from .monitoring.serving import LabelsLogged
    from .validation.drift import DriftReport
    from .validation.profiles import Profile

__version__ = "0.1.0"


def check_drift(
    reference: Any,
    current: Any,
    columns: Sequence[str] | None = None,
    method: str = "auto",
    *,
    alpha: float = 0.05,
    threshold: float | None = None,
    p_min: float | None = None,
    delta: float | None = None,
    by: str | None = None,
    top_slices: int = 20,
) -> DriftReport:
    """Drift of ``current`` from ``reference`` (each a DataFrame or a profile): per column, an
    effect larger than the practical size ``delta`` beyond sampling noise, under one
    false-discovery control; missing, new and all-null columns are named breaches. With ``by``,
    per slice (the ``top_slices`` most frequent values of that column)."""
    from .validation.drift import check_drift as _check_drift

    return _check_drift(
        reference,
        current,
        columns,
        method,
        alpha=alpha,
        threshold=threshold,
        p_min=p_min,
        delta=delta,
        by=by,
        top_slices=top_slices,
    )


def fingerprint(obj: Any) -> Fingerprint:
    """Content hash of a DataFrame, Series, Index, NumPy array, bytes or file path."""
    from .hashing import fingerprint as _fingerprint

    return _fingerprint(obj)


def plot_metric(runs: Any, key: str, *, tracker: Tracker | None = None) -> Any:
    """A matplotlib Figure with one curve per run of metric ``key`` over its steps."""
    from .notebook.plots import plot_metric as _plot

    return _plot(runs, key, tracker=tracker)


def plot_params(runs: Any, x: str, y: str, *, tracker: Tracker | None = None) -> Any:
    """A matplotlib Figure: ``y`` against ``x`` (params or metrics), one point per run."""
    from .notebook.plots import plot_params as _plot

    return _plot(runs, x, y, tracker=tracker)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_mlops``: register ``%%track`` and ``%mlops``."""
    from .notebook.magics import load_ipython_extension as load

    load(ipython)


def load_model(name: str, version: int | str | None = None, *, trust: bool = False) -> Any:
    """Load the blessed version of model ``name`` (or ``version``: a number or an alias such as
    ``"champion"``; ``name`` may also be ``NAME@VERSION`` or ``NAME@ALIAS``) from the registry.

    ``trust=True`` vouches for a model whose loading may run code: a pickle from a team store
    (S3 artifacts, a PostgreSQL store), or a skops file holding types skops does not trust."""
    from .registry import load_model as _load

    return _load(name, version, trust=trust)


def predict(name: str, X: Any, ids: Sequence[Any] | None = None, **kwargs: Any) -> Any:
    """The blessed ``name``'s predictions for ``X``, recording the batch for monitoring (and
    scoring it with any ``shadow`` version, whose predictions are recorded, never returned)."""
    from .monitoring.serving import predict as _predict

    return _predict(name, X, ids, **kwargs)


def register_model(name: str, model_or_ref: Any, *, example: Any = None) -> Any:
    """Register a model as a new candidate version of ``name`` and record its input contract:
    ``model_or_ref`` is a fitted model (logged on the active run, or on a new one) or a run's
    model, ``"RUN_ID[:ARTIFACT]"`` (a short id will do); ``example``: training data to take
    the contract from, when the run recorded none. Returns the ModelVersion."""
    from .validation.registration import register_model as _register

    return _register(name, model_or_ref, example=example)


def set_contract_policy(ref: str, policy: str) -> Any:
    """What input breaking ``NAME@VERSION``'s contract gets in ``predict`` and the server:
    ``reject`` (the default), ``coerce`` or ``warn``. Returns the ModelVersion."""
    from .validation.registration import set_contract_policy as _set

    return _set(ref, policy)[0]


def log_profile(prof: Profile, name: str = "profile") -> Any:
    """Store ``prof`` (``jupyter_mlops.validation.profile(df)``) with the active run: the
    training profile that ``predict`` bins batches like and monitors compare against."""
    from .validation.profiles import log_profile as _log_profile

    return _log_profile(prof, name)


def log_labels(name: str, ids: Sequence[Any], y: Sequence[Any], **kwargs: Any) -> LabelsLogged:
    """Attach ground truth ``y`` to rows ``ids`` scored by ``predict``: how many attached, and
    the ids that were never scored."""
    from .monitoring.serving import log_labels as _log_labels

    return _log_labels(name, ids, y, **kwargs)


def live_validation_set(
    name: str, since: Any = None, until: Any = None, **kwargs: Any
) -> pd.DataFrame:
    """The production rows of ``name`` kept by ``predict(..., keep_rows=True)`` that have
    labels: features, ``label``, row id, batch time and scoring version, newest first."""
    from .monitoring.live_data import live_validation_set as _live

    return _live(name, since, until, **kwargs)


def plot_drift(name: str, column: str | None = None, **kwargs: Any) -> Any:
    """A matplotlib Figure: drift of model ``name``'s batches over time (share drifted, or one
    ``column``'s statistic), with the monitor's threshold and breach markers."""
    from .monitoring.plots import plot_drift as _plot

    return _plot(name, column, **kwargs)


def plot_performance(name: str, metric: str, **kwargs: Any) -> Any:
    """A matplotlib Figure: ``metric`` per labelled batch of the blessed and shadow versions,
    with the monitor's threshold and breach markers."""
    from .monitoring.plots import plot_performance as _plot

    return _plot(name, metric, **kwargs)


def unload_ipython_extension(ipython: Any) -> None:
    from .notebook.magics import unload_ipython_extension as unload

    unload(ipython)


__all__ = [
    "ActiveRun",
    "Fingerprint",
    "MLOpsError",
    "Run",
    "RunKind",
    "RunStatus",
    "Tracker",
    "TrackingWarning",
    "__version__",
    "active_run",
    "check_drift",
    "default_tracker",
    "fingerprint",
    "flush",
    "get_run",
    "live_validation_set",
    "load_ipython_extension",
    "load_model",
    "log_artifact",
    "load_dataset",
    "log_dataset",
    "log_figure",
    "log_labels",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_profile",
    "log_validation_data",
    "metric_history",
    "plot_drift",
    "plot_metric",
    "plot_performance",
    "plot_params",
    "predict",
    "register_model",
    "runs",
    "set_contract_policy",
    "set_store",
    "set_tags",
    "start_run",
    "unload_ipython_extension",
]
