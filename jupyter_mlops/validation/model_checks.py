"""Built-in model gates: metric thresholds, no regression vs the blessed model on the same fresh
validation data, per-slice metrics, and meta-metrics (duration, memory, model size, latency).
The gate-kind table (:mod:`.kinds`) loads ``KINDS`` on its first lookup. scikit-learn is
imported only when a model is scored.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import FeatureMismatchError
from .gates import (
    META_FIELDS,
    GateContext,
    GateInputError,
    GateKind,
    GateSpec,
    Outcome,
    bounds_text,
    finite_number,
    non_empty_str,
    non_negative,
    one_of,
    whole_count,
    within_bounds,
)


def _bounded(name: str, value: float, spec: GateSpec) -> Outcome:
    """A value checked against the gate's ``min``/``max``."""
    return Outcome(
        within_bounds(value, spec.options),
        value,
        bounds_text(spec.options),
        f"{name} = {value:.4g}",
    )


def _check_metric(spec: GateSpec, ctx: GateContext) -> Outcome:
    name = spec.options["metric"]
    if name not in ctx.metrics:
        have = ", ".join(sorted(ctx.metrics)) or "none"
        raise GateInputError(f"metric '{name}' was not logged by the run (metrics: {have})")
    return _bounded(name, float(ctx.metrics[name]), spec)


def _check_meta(spec: GateSpec, ctx: GateContext) -> Outcome:
    name = spec.options["metric"]
    if ctx.meta.get(name) is None:
        raise GateInputError(f"{name} was not measured for this run")
    return _bounded(name, float(ctx.meta[name]), spec)


@dataclass(frozen=True)
class ModelMetric:
    higher_is_better: bool
    uses_proba: bool
    compute: Callable[[Any, Any, Any], float]  # (y_true, predictions or probabilities, model)


def _skm() -> Any:
    try:
        import sklearn.metrics as skm
    except ImportError:
        from ..exceptions import MissingDependencyError

        raise MissingDependencyError("scikit-learn", "A model-metric gate") from None
    return skm


def _f1(y: Any, pred: Any, model: Any) -> float:
    import numpy as np

    binary = set(np.unique(y).tolist()) <= {0, 1}
    return _skm().f1_score(y, pred, average="binary" if binary else "macro", zero_division=0)


def _roc_auc(y: Any, proba: Any, model: Any) -> float:
    if proba.ndim == 2 and proba.shape[1] == 2:
        return _skm().roc_auc_score(y, proba[:, 1])
    return _skm().roc_auc_score(
        y, proba, multi_class="ovr", labels=getattr(model, "classes_", None)
    )


MODEL_METRICS: dict[str, ModelMetric] = {
    "accuracy": ModelMetric(True, False, lambda y, p, m: _skm().accuracy_score(y, p)),
    "f1": ModelMetric(True, False, _f1),
    "roc_auc": ModelMetric(True, True, _roc_auc),
    "r2": ModelMetric(True, False, lambda y, p, m: _skm().r2_score(y, p)),
    "rmse": ModelMetric(False, False, lambda y, p, m: _skm().mean_squared_error(y, p) ** 0.5),
    "mae": ModelMetric(False, False, lambda y, p, m: _skm().mean_absolute_error(y, p)),
    "log_loss": ModelMetric(
        False, True, lambda y, p, m: _skm().log_loss(y, p, labels=getattr(m, "classes_", None))
    ),
}


def _validation(ctx: GateContext) -> tuple[Any, Any]:
    if ctx.validation is None:
        raise GateInputError(
            "no validation data; log it in the notebook with mlops.log_validation_data(X, y)"
        )
    return ctx.validation


def _listed(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")


def model_predict(model: Any, X: Any, who: str, method: str = "predict") -> Any:
    """``model.predict(X)`` (or ``method``: ``"predict_proba"``), through the framework's
    conversion of X (:mod:`jupyter_mlops.frameworks.calls`: a raw Booster scores a ``DMatrix``
    and its labels are its likeliest class); when the model refuses X for its features, say so
    in plain words (FeatureMismatchError) instead of scikit-learn's "The feature names should
    match …", which a gate table cuts off and which does not say what to do.

    A wider frame is fine: a model fitted on named columns takes its own, in its order, so a
    blessed model and a candidate on another feature set are scored on the same rows.
    """
    from ..frameworks.calls import class_probabilities, point_predictions

    call = class_probabilities if method == "predict_proba" else point_predictions

    def predict(rows: Any) -> Any:
        return call(model, rows)

    try:
        return predict(X)
    except ValueError:
        aligned = _aligned(model, X, who)
        if aligned is None:
            raise
        return predict(aligned)


def _aligned(model: Any, X: Any, who: str) -> Any:
    """X with the model's own columns, or None when features are not what went wrong."""
    names = getattr(model, "feature_names_in_", None)
    columns = getattr(X, "columns", None)
    fix = "log the full validation frame and select features inside the model pipeline"
    if names is not None and columns is not None:
        names = [str(n) for n in names]
        have = {str(c): c for c in columns}
        missing = [n for n in names if n not in have]
        if missing:
            raise FeatureMismatchError(
                f"{who} expects {len(names)} features, this run's validation rows have "
                f"{len(have)} (missing: {_listed(missing)}); {fix}"
            ) from None
        selected = [have[n] for n in names]
        return None if selected == list(columns) else X[selected]
    expected = getattr(model, "n_features_in_", None)
    shape = getattr(X, "shape", None)
    if isinstance(expected, int) and shape is not None and len(shape) == 2 and shape[1] != expected:
        raise FeatureMismatchError(
            f"{who} expects {expected} features, this run's validation rows have {shape[1]}; {fix}"
        ) from None
    return None


def _who(ctx: GateContext, which: str) -> str:
    if which == "candidate":
        return "this run's model"
    ref = ctx.blessed_ref
    return f"the blessed model {ref}" if ref else "the blessed model"


def _predictions(ctx: GateContext, which: str, proba: bool) -> Any:
    import numpy as np

    from ..frameworks.calls import has_probabilities

    model = ctx.candidate_model if which == "candidate" else ctx.blessed_model
    if model is None:
        raise GateInputError(f"no {which} model; log the model in the notebook")
    key = (which, id(model), proba)
    if key not in ctx.cache:
        X = _validation(ctx)[0]
        if proba and not has_probabilities(model):
            raise GateInputError(f"the {which} model has no predict_proba, which this metric needs")
        method = "predict_proba" if proba else "predict"
        ctx.cache[key] = np.asarray(model_predict(model, X, _who(ctx, which), method))
    return ctx.cache[key]


def score_model(ctx: GateContext, which: str, metric: str, rows: Any = None) -> float:
    """``metric`` of the candidate or blessed model on the validation data (or some of its rows)."""
    import numpy as np

    m = MODEL_METRICS[metric]
    y = np.asarray(_validation(ctx)[1])
    pred = _predictions(ctx, which, m.uses_proba)
    if rows is not None:
        y, pred = y[rows], pred[rows]
    model = ctx.candidate_model if which == "candidate" else ctx.blessed_model
    return float(m.compute(y, pred, model))


def _check_no_regression(spec: GateSpec, ctx: GateContext) -> Outcome:
    o = spec.options
    name = o["metric"]
    m = MODEL_METRICS[name]
    _validation(ctx)
    cand = score_model(ctx, "candidate", name)
    if ctx.blessed_model is None:
        message = f"no blessed model yet: only value thresholds apply ({name} = {cand:.4g})"
        return Outcome(None, cand, "", message, {"candidate": cand})
    blessed = score_model(ctx, "blessed", name)
    allowed = o.get("abs_tolerance", 0.0) + o.get("rel_tolerance", 0.0) * abs(blessed)
    limit = blessed - allowed if m.higher_is_better else blessed + allowed
    ok = cand >= limit if m.higher_is_better else cand <= limit
    sign = ">=" if m.higher_is_better else "<="
    message = (
        f"{name}: candidate {cand:.4g} vs blessed {blessed:.4g} (allowed change {allowed:.4g})"
    )
    details = {"candidate": cand, "blessed": blessed, "delta": cand - blessed, "allowed": allowed}
    return Outcome(ok, cand, f"{sign} {limit:.4g}", message, details)


def _score_slice(ctx: GateContext, which: str, metric: str, rows: Any) -> tuple[float, str]:
    """A slice's score, or why it has none: a small slice may hold one class only, where
    sklearn warns and returns nan (or raises); that slice is reported as skipped instead."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = score_model(ctx, which, metric, rows)
        except ValueError as e:
            return math.nan, str(e)
    if math.isfinite(value):
        return value, ""
    return value, str(caught[-1].message) if caught else f"{metric} is undefined on this slice"


def _check_slice(spec: GateSpec, ctx: GateContext) -> Outcome:
    import pandas as pd

    o = spec.options
    X, _ = _validation(ctx)
    column, name = o["column"], o["metric"]
    if not hasattr(X, "columns") or column not in X.columns:
        raise GateInputError(f"slice column '{column}' is not a column of the validation data X")
    codes, values = pd.factorize(X[column])
    min_size, which = o.get("min_size", 1), o.get("model", "candidate")
    scores: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    for k, value in enumerate(values):
        rows = codes == k
        n = int(rows.sum())
        if n < min_size:
            skipped[str(value)] = f"{n} rows < min_size {min_size}"
            continue
        score, problem = _score_slice(ctx, which, name, rows)
        if problem:
            skipped[str(value)] = problem
        else:
            scores[str(value)] = {"n": n, "value": score}
    details = {"slices": scores, "skipped": skipped}
    threshold = f"each {name} {bounds_text(o)}"
    if not scores:
        return Outcome(None, None, threshold, f"no slice of '{column}' could be scored", details)
    failing = {k: v["value"] for k, v in scores.items() if not within_bounds(v["value"], o)}
    worst_of = min if MODEL_METRICS[name].higher_is_better else max
    worst = worst_of(scores, key=lambda k: scores[k]["value"])
    message = ", ".join(f"{column}={k}: {v:.4g}" for k, v in failing.items())
    message = message or f"{len(scores)} slices pass; worst {column}={worst}"
    return Outcome(not failing, scores[worst]["value"], threshold, message, details)


def _kinds() -> dict[str, GateKind]:
    bounds = {"min": (False, finite_number), "max": (False, finite_number)}
    model_metric = (True, one_of(*MODEL_METRICS))
    tolerances = {"abs_tolerance": (False, non_negative), "rel_tolerance": (False, non_negative)}
    slice_fields = {"column": (True, non_empty_str), "metric": model_metric} | bounds
    slice_fields |= {
        "min_size": (False, whole_count),
        "model": (False, one_of("candidate", "blessed")),
    }
    meta_fields = {"metric": (True, one_of(*META_FIELDS)), "max": (True, finite_number)}
    kinds = {
        "metric": GateKind(
            _check_metric, {"metric": (True, non_empty_str)} | bounds, (("min", "max"),)
        ),
        "no_regression": GateKind(_check_no_regression, {"metric": model_metric} | tolerances),
        "slice": GateKind(_check_slice, slice_fields, (("min", "max"),)),
        "meta": GateKind(_check_meta, meta_fields),
    }
    return kinds


KINDS = _kinds()  # read by the gate-kind table (.kinds) on its first lookup
