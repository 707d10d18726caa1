"""LightGBM: the scikit-learn API (``LGBMClassifier`` …), ``lgb.train`` and ``lgb.cv``.

Supported: lightgbm >= 4.0, < 5 (tested on 4.7.0). What depends on the version: the
``record_evaluation`` callback (its ``eval_result``), the Booster's ``best_iteration``/
``best_score``, and the private attributes a scikit-learn model is rebuilt with on load (see
:func:`load`). Another version is tracked as far as it goes: what fails costs one warning.

- A fitted scikit-learn model in the namespace is described: the params the user set plus the
  important ones in effect (the resolved ``objective``, the ``metric``), ``evals_result_`` as
  curves named ``<set>-<metric>`` (``valid_0-binary_logloss``, ``training-l2``),
  ``best_iteration``/``best_score`` after early stopping (LightGBM counts iterations from 1;
  ``best_score`` is the first metric of the first validation set), the importance table (gain
  and split count per feature). ``.fit`` is not patched.
- ``lightgbm.train``/``lightgbm.cv`` are patched while a run is active: the ``params`` dict
  recorded key by key with ``num_boost_round``; the eval history through a
  ``record_evaluation`` callback (the user's own if they passed one: their dict is filled
  exactly as before), logged once after training. Only the package attributes are patched:
  ``LGBMModel.fit`` calls ``lightgbm.engine.train`` directly.
- Models are saved as LightGBM's model text; a scikit-learn model is rebuilt as its class
  around the loaded Booster, so ``predict_proba`` works.
"""

from __future__ import annotations

import inspect
import json
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from .base import CurrentRun, Flavor, ModelFacts, RunSink
from .boosting import (
    as_data,
    curves_of,
    flatten_params,
    framework_class,
    importance_table,
    log_curves,
    patch,
    tracked,
    user_set,
)

_RECORDED: weakref.WeakSet[Any] = weakref.WeakSet()
_CLASSES = ("LGBMClassifier", "LGBMRegressor", "LGBMRanker", "LGBMModel", "Booster")
_IMPORTANT = (
    "boosting_type",
    "n_estimators",
    "learning_rate",
    "num_leaves",
    "max_depth",
    "min_child_samples",
    "subsample",
    "colsample_bytree",
    "reg_alpha",
    "reg_lambda",
    "random_state",
)
# Booster params that say where it ran, not how it learned.
_NOT_SETTINGS = {"num_threads", "verbose", "verbosity", "n_jobs"}


def _importance(booster: Any) -> dict[str, Any]:
    return importance_table(
        booster.feature_name(),
        {
            "gain": [float(v) for v in booster.feature_importance("gain")],
            "split": [int(v) for v in booster.feature_importance("split")],
        },
    )


def _best(best_iteration: int, best_score: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """``best_iteration`` (> 0 only when early stopping ran) and the first validation set's
    first metric there."""
    if not best_iteration or best_iteration <= 0:
        return {}
    out = {"best_iteration": float(best_iteration)}
    sets = [s for s in best_score if s != "training"] or list(best_score)
    first = list(best_score.get(sets[0], {}).values()) if sets else []
    if first:
        out["best_score"] = float(first[0])
    return out


def describe(name: str, model: Any) -> ModelFacts | None:
    import lightgbm as lgb

    if isinstance(model, lgb.Booster):
        if model in _RECORDED:  # the hook recorded its params and curves
            return ModelFacts()
        params = {
            k: as_data(v)
            for k, v in model.params.items()
            if v is not None and k not in _NOT_SETTINGS
        }
        params["num_boost_round"] = model.current_iteration()
        return ModelFacts(
            params=params,
            metrics=_best(model.best_iteration, model.best_score),
            tables={"importance": _importance(model)},
        )
    if not isinstance(model, lgb.LGBMModel) or not model.__sklearn_is_fitted__():
        return None
    booster = model.booster_
    params = user_set(model)
    for key, value in model.get_params(deep=False).items():
        if key in _IMPORTANT and value is not None:
            params.setdefault(key, value)
    objective = getattr(model, "objective_", None)
    if isinstance(objective, str):
        params["objective"] = objective
    if booster.params.get("metric") is not None:
        metric = booster.params["metric"]
        params.setdefault(
            "metric", metric[0] if isinstance(metric, list) and len(metric) == 1 else metric
        )
    return ModelFacts(
        params=params,
        curves=curves_of(model.evals_result_ or {}),
        metrics=_best(model.best_iteration_, model.best_score_),
        tables={"importance": _importance(booster)},
    )


# -- hooks -------------------------------------------------------------------------------------


def _history_of(callbacks: Any) -> dict[str, Any] | None:
    """The dict a ``record_evaluation`` callback among the user's fills, if there is one."""
    for cb in callbacks or ():
        if type(cb).__name__ == "_RecordEvaluationCallback" and isinstance(
            getattr(cb, "eval_result", None), dict
        ):
            return cb.eval_result
    return None


def _call_params(given: Mapping[str, Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    params = flatten_params(given.get("params"))
    params["num_boost_round"] = given["num_boost_round"]
    for key in extra:
        if given.get(key) is not None:
            params[key] = given[key]
    return params


def _train_hook(original: Callable[..., Any], current_run: CurrentRun) -> Callable[..., Any]:
    import lightgbm as lgb

    signature = inspect.signature(original)

    def prepare(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        bound = signature.bind(*args, **kwargs)
        history = _history_of(bound.arguments.get("callbacks"))
        if history is None and bound.arguments.get("valid_sets"):
            history = {}  # the scores LightGBM computes anyway, handed back once per round
            bound.arguments["callbacks"] = [
                *(bound.arguments.get("callbacks") or ()),
                lgb.record_evaluation(history),
            ]
            args, kwargs = bound.args, bound.kwargs
        bound.apply_defaults()
        return args, kwargs, (bound.arguments, history)

    def record(run: RunSink, state: Any, booster: Any) -> None:
        given, history = state
        _RECORDED.add(booster)  # recorded here, even if partly: describe adds nothing
        run.log_params(_call_params(given))
        log_curves(run, curves_of(history))
        for key, value in _best(booster.best_iteration, booster.best_score).items():
            run.log_metric(key, value, 0)
        run.log_bytes(json.dumps(_importance(booster)).encode(), "importance.json", kind="table")

    return tracked(original, "lightgbm: lgb.train", current_run, prepare, record)


def _cv_hook(original: Callable[..., Any], current_run: CurrentRun) -> Callable[..., Any]:
    signature = inspect.signature(original)

    def prepare(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return args, kwargs, bound.arguments

    def record(run: RunSink, given: Any, result: Any) -> None:
        run.log_params(_call_params(given, ("nfold",)))
        log_curves(run, {str(k): v for k, v in result.items() if isinstance(v, list)})

    return tracked(original, "lightgbm: lgb.cv", current_run, prepare, record)


def install(current_run: CurrentRun) -> Callable[[], None]:
    import lightgbm

    return patch(
        lightgbm,
        {
            "train": _train_hook(lightgbm.train, current_run),
            "cv": _cv_hook(lightgbm.cv, current_run),
        },
    )


# -- save, load, predict -----------------------------------------------------------------------


def _json_params(model: Any) -> dict[str, Any]:
    """The constructor params that are data (a callable objective is not: left out)."""
    out = {}
    for k, v in model.get_params(deep=False).items():
        try:
            json.dumps(v)
        except (TypeError, ValueError):
            continue
        out[k] = v
    return out


def save(model: Any) -> tuple[bytes, dict[str, Any]] | None:
    import lightgbm as lgb

    if isinstance(model, lgb.Booster):
        return model.model_to_string().encode(), {"class": "Booster", "format": "text"}
    if not isinstance(model, lgb.LGBMModel):
        return None
    header: dict[str, Any] = {
        "class": framework_class(model, "lightgbm", _CLASSES, "LightGBM"),
        "format": "text",
        "params": _json_params(model),
        "objective": model.objective_ if isinstance(model.objective_, str) else None,
        "n_features_in": int(model.n_features_in_),
    }
    if isinstance(model, lgb.LGBMClassifier):
        header["classes"] = model.classes_.tolist()
    return model.booster_.model_to_string().encode(), header


def load(payload: bytes, header: Mapping[str, Any]) -> Any:
    """The model saved by :func:`save`. A scikit-learn model is rebuilt around the Booster
    through the attributes ``LGBMModel.fit`` sets (LightGBM offers no public way to wrap a
    trained Booster); those are the version-dependent part of this flavor."""
    import lightgbm as lgb

    name = header.get("class")
    if name not in _CLASSES:
        raise ValueError(f"unknown LightGBM model class {name!r}; log the model again")
    booster = lgb.Booster(model_str=payload.decode())
    if name == "Booster":
        return booster
    model = getattr(lgb, str(name))(**dict(header.get("params") or {}))
    model._Booster = booster
    model._n_features = booster.num_feature()
    model._n_features_in = int(header.get("n_features_in", booster.num_feature()))
    model._fitted_with_feature_names = not all(
        f == f"Column_{i}" for i, f in enumerate(booster.feature_name())
    )
    model._objective = header.get("objective")
    model._evals_result = {}
    model._best_iteration = booster.best_iteration
    model._best_score = booster.best_score
    if "classes" in header:
        import numpy as np
        from lightgbm.sklearn import _LGBMLabelEncoder

        model._le = _LGBMLabelEncoder().fit(np.asarray(header["classes"]))
        model._classes = model._le.classes_
        model._n_classes = len(model._classes)
        model._class_map = dict(
            zip(model._classes, model._le.transform(model._classes), strict=True)
        )
    model.fitted_ = True
    return model


FLAVOR = Flavor(
    name="lightgbm",
    module="lightgbm",
    supported=">=4.0,<5",
    describe=describe,
    save=save,
    load=load,
    install=install,
)
