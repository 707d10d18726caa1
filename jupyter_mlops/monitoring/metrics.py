"""Performance from labelled production rows: accuracy and F1 for classifiers, RMSE and MAE for
regressors, per batch, per slice and per window, for the blessed version and each shadow."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

CLASSIFIER_METRICS = ("accuracy", "f1")
REGRESSOR_METRICS = ("rmse", "mae")
HIGHER_IS_BETTER = {"accuracy": True, "f1": True, "rmse": False, "mae": False}


def task_of(model: Any, labels: Iterable[Any]) -> str:
    """'classifier' or 'regressor': the model's own word when it has one (scikit-learn's
    ``_estimator_type``, or its tags since 1.6 removed that), else the labels' type (any
    non-integer number makes a regression)."""
    kind = getattr(model, "_estimator_type", None)
    if kind is None and hasattr(model, "__sklearn_tags__"):
        try:
            kind = model.__sklearn_tags__().estimator_type
        except Exception:  # a third-party estimator with broken tags: fall back to the labels
            kind = None
    if kind in ("classifier", "regressor"):
        return str(kind)
    for v in labels:
        if isinstance(v, float) and not v.is_integer():
            return "regressor"
    return "classifier"


def scores(pairs: list[tuple[Any, Any]], task: str) -> dict[str, float]:
    """Metrics over (prediction, label) pairs; F1 is macro-averaged over the labels seen."""
    n = len(pairs)
    if not n:
        return {}
    if task == "regressor":
        err = [float(p) - float(t) for p, t in pairs]
        return {
            "rmse": math.sqrt(sum(e * e for e in err) / n),
            "mae": sum(abs(e) for e in err) / n,
        }
    f1s = []
    for c in {t for _, t in pairs} | {p for p, _ in pairs}:
        tp = sum(1 for p, t in pairs if p == c and t == c)
        fp = sum(1 for p, t in pairs if p == c and t != c)
        fn = sum(1 for p, t in pairs if p != c and t == c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {
        "accuracy": sum(1 for p, t in pairs if p == t) / n,
        "f1": sum(f1s) / len(f1s),
    }


def grouped(
    rows: list[tuple[int, str, float, str, str, str | None, float]],
    tasks: dict[int, str],
    by: str,
) -> dict[tuple[int, Any], dict[str, float]]:
    """Metrics per (version, batch id | slice | None for all) from ``labelled_predictions``."""
    groups: dict[tuple[int, Any], list[tuple[Any, Any]]] = defaultdict(list)
    for version, batch_id, _t, pred, label, slice_, _labelled in rows:
        key = {"batch": batch_id, "slice": slice_, "all": None}[by]
        groups[(version, key)].append((json.loads(pred), json.loads(label)))
    out = {}
    for (version, key), pairs in groups.items():
        out[(version, key)] = {**scores(pairs, tasks.get(version, "classifier")), "n": len(pairs)}
    return out
