"""What the model gates score a framework model by: its class probabilities and the predictions a
metric compares with the labels, the framework's conversion of ``X`` (a ``DMatrix``, a tensor)
done by :func:`jupyter_mlops.frameworks.predict`.

A scikit-learn-style model (``XGBClassifier``, ``LGBMClassifier``, ``CatBoostClassifier``) has
``predict_proba`` and class labels from ``predict``: it is called as it is. A raw XGBoost or
LightGBM ``Booster`` trained with a classification objective predicts the probabilities
themselves (of class 1 for a binary objective): those are its class probabilities, and its
labels are the likeliest class (``p > 0.5`` for a binary objective, as ``XGBClassifier``
decides). Any other model's predictions are what a metric compares with the labels.

A gate's validation frame may be wider than the model's features (a slice column): a
scikit-learn model fitted on named columns takes its own (``model_checks._aligned``), and so
does a Booster that knows its feature names.

Nothing here imports a framework: a Booster is recognised by the class's module and name, and
only once its framework is imported (it could not have been made otherwise).
"""

from __future__ import annotations

import json
from typing import Any

# Objectives whose predictions are class probabilities: (one column: P(class 1)) or (k columns).
_XGBOOST_BINARY = frozenset({"binary:logistic"})
_XGBOOST_MULTI = frozenset({"multi:softprob"})
_LIGHTGBM_BINARY = frozenset({"binary"})
_LIGHTGBM_MULTI = frozenset(
    {"multiclass", "softmax", "multiclassova", "multiclass_ova", "ova", "ovr"}
)


def _booster_objective(model: Any) -> tuple[str, str] | None:
    """(framework, objective) of a raw XGBoost or LightGBM Booster, else None."""
    klass = type(model)
    top = klass.__module__.partition(".")[0]
    if klass.__name__ != "Booster" or top not in ("xgboost", "lightgbm"):
        return None
    if top == "xgboost":
        config = json.loads(model.save_config())
        return top, str(config["learner"]["objective"]["name"])
    return top, str((getattr(model, "params", None) or {}).get("objective", ""))


def _own_columns(model: Any, X: Any) -> Any:
    """``X`` restricted to a Booster's features, in its order, when X is a wider frame that has
    them all; else ``X`` as it is (the framework says what is wrong)."""
    klass = type(model)
    top = klass.__module__.partition(".")[0]
    columns = getattr(X, "columns", None)
    if klass.__name__ != "Booster" or top not in ("xgboost", "lightgbm") or columns is None:
        return X
    names = model.feature_names if top == "xgboost" else model.feature_name()
    have = {str(c): c for c in columns}
    if not names or len(names) >= len(have) or any(n not in have for n in names):
        return X
    return X[[have[n] for n in names]]


def _probability_columns(model: Any) -> str | None:
    """'binary' or 'multi' when the model's own predictions are class probabilities."""
    found = _booster_objective(model)
    if found is None:
        return None
    framework, objective = found
    binary, multi = (
        (_XGBOOST_BINARY, _XGBOOST_MULTI)
        if framework == "xgboost"
        else (_LIGHTGBM_BINARY, _LIGHTGBM_MULTI)
    )
    if objective in binary:
        return "binary"
    return "multi" if objective in multi else None


def has_probabilities(model: Any) -> bool:
    """Whether :func:`class_probabilities` can score ``model``."""
    return hasattr(model, "predict_proba") or _probability_columns(model) is not None


def class_probabilities(model: Any, X: Any) -> Any:
    """An (n, classes) array of ``model``'s class probabilities for ``X``; a TypeError when
    the model gives none (check :func:`has_probabilities` first)."""
    import numpy as np

    from . import predict

    method = getattr(model, "predict_proba", None)
    if method is not None:
        return method(X)
    columns = _probability_columns(model)
    if columns is None:
        raise TypeError(f"{type(model).__name__} gives no class probabilities")
    p = np.asarray(predict(model, _own_columns(model, X)))
    return np.column_stack([1.0 - p, p]) if columns == "binary" and p.ndim == 1 else p


def point_predictions(model: Any, X: Any) -> Any:
    """``model``'s predictions as a metric compares them with the labels: a Booster that
    predicts class probabilities gives its likeliest class; any other model, its predictions
    (:func:`jupyter_mlops.frameworks.predict`)."""
    import numpy as np

    from . import predict

    columns = _probability_columns(model)
    out = predict(model, _own_columns(model, X))
    if columns is None:
        return out
    p = np.asarray(out)
    if columns == "binary" and p.ndim == 1:
        return (p > 0.5).astype(np.int64)
    return p.argmax(axis=1)


__all__ = ["class_probabilities", "has_probabilities", "point_predictions"]
