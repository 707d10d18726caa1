"""Production monitoring of the blessed model: ``predict`` and ``log_labels`` record scored
batches and delayed labels; ``evaluate`` runs a monitor's drift, performance and slice checks and
its actions (notify, retrain, rollback); ``report`` and the plots show the history."""

from __future__ import annotations

from .evaluation import Evaluation, evaluate
from .live_data import live_validation_set
from .serving import LabelsLogged, flush, log_labels, predict
from .spec import MonitorSpec, load_monitor

__all__ = [
    "Evaluation",
    "LabelsLogged",
    "MonitorSpec",
    "evaluate",
    "flush",
    "live_validation_set",
    "load_monitor",
    "log_labels",
    "predict",
]
