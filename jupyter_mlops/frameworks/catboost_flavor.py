"""CatBoost: ``CatBoostClassifier``, ``CatBoostRegressor``, ``CatBoostRanker`` and ``CatBoost``
models fitted in a tracked cell.

Supported: catboost >= 1.2, < 2 (tested on 1.2.10). Nothing is patched: a fitted model keeps
everything it learned, read after the cell by :func:`describe`:

- params: what the user set (``get_params()``) plus the important ones in effect, from
  ``get_all_params()`` (iterations, learning_rate, depth, loss_function, eval_metric,
  l2_leaf_reg, random_seed …);
- curves: ``get_evals_result()``, named ``<set>-<metric>`` (``learn-Logloss``,
  ``validation-Logloss``; several eval sets are ``validation_0``, ``validation_1`` …);
- ``best_iteration``/``best_score`` when an eval set was given (CatBoost then keeps the best
  model: ``use_best_model``); ``best_score`` is the eval metric on the (last) validation set;
- the importance table (``PredictionValuesChange`` per feature: CatBoost has no split count).

Models are saved as ``.cbm`` and rebuilt as the same class.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import Flavor, ModelFacts
from .boosting import as_data, curves_of, framework_class, importance_table, number

_CLASSES = ("CatBoostClassifier", "CatBoostRegressor", "CatBoostRanker", "CatBoost")
_IMPORTANT = (
    "iterations",
    "learning_rate",
    "depth",
    "loss_function",
    "eval_metric",
    "l2_leaf_reg",
    "random_seed",
    "bootstrap_type",
    "subsample",
    "border_count",
)


def _plain(value: Any) -> Any:
    """CatBoost's float32 settings (``0.13856999576091766``) as the float32 they are."""
    return number(repr(value)) if isinstance(value, float) else value


def _best(model: Any) -> dict[str, float]:
    best = model.get_best_iteration()
    if best is None:
        return {}
    out = {"best_iteration": float(best)}
    scores = model.get_best_score()
    sets = [s for s in scores if s != "learn"]
    if sets:
        metrics = scores[sets[-1]]
        metric = str(model.get_all_params().get("eval_metric", ""))
        value = metrics.get(metric, next(iter(metrics.values()), None))
        if value is not None:
            out["best_score"] = float(value)
    return out


def describe(name: str, model: Any) -> ModelFacts | None:
    import catboost  # type: ignore[import-untyped]

    if not isinstance(model, catboost.CatBoost) or not model.is_fitted():
        return None
    params = {k: as_data(v) for k, v in model.get_params().items() if v is not None}
    effective = model.get_all_params()
    for key in _IMPORTANT:
        if key in effective:
            params.setdefault(key, _plain(effective[key]))
    names = model.feature_names_ or [str(i) for i in range(len(model.get_feature_importance()))]
    table = importance_table(
        names,
        {"prediction_values_change": [float(v) for v in model.get_feature_importance()]},
    )
    return ModelFacts(
        params=params,
        curves=curves_of(model.get_evals_result()),
        metrics=_best(model),
        tables={"importance": table},
    )


def save(model: Any) -> tuple[bytes, dict[str, Any]] | None:
    import catboost

    if not isinstance(model, catboost.CatBoost):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.cbm"
        model.save_model(str(path), format="cbm")
        return path.read_bytes(), {
            "class": framework_class(model, "catboost", _CLASSES, "CatBoost"),
            "format": "cbm",
        }


def load(payload: bytes, header: Mapping[str, Any]) -> Any:
    import catboost

    name = header.get("class")
    if name not in _CLASSES:
        raise ValueError(f"unknown CatBoost model class {name!r}; log the model again")
    model = getattr(catboost, str(name))()
    model.load_model(blob=payload, format="cbm")
    return model


FLAVOR = Flavor(
    name="catboost",
    module="catboost",
    supported=">=1.2,<2",
    describe=describe,
    save=save,
    load=load,
)
