"""XGBoost: the scikit-learn API (``XGBClassifier`` …), ``xgb.train`` and ``xgb.cv``.

Supported: xgboost >= 3.0, < 4 (tested on 3.2.0). What depends on the version: the layout of
``Booster.save_config()`` (where the effective params are read), the keyword arguments of
``xgboost.train``/``xgboost.cv`` (``evals_result``, ``early_stopping_rounds``) and the booster
attributes ``best_iteration``/``best_score``. Another version is tracked as far as it goes:
what fails costs one warning on the run.

- A fitted scikit-learn model in the namespace is described (:func:`describe`): the params the
  user set plus the effective values of the important defaults read from the booster's config
  (``get_params()`` says ``None`` for every default), ``evals_result()`` as curves
  (``validation_0-logloss``), ``best_iteration``/``best_score`` after early stopping, and the
  importance table (gain and weight per feature). ``.fit`` is not patched.
- ``xgboost.train`` and ``xgboost.cv`` are patched while a run is active (:func:`install`):
  the ``params`` dict is recorded key by key with ``num_boost_round``; the eval history
  XGBoost keeps anyway is handed back through an ``evals_result`` dict (the user's own if they
  passed one), so recording costs nothing per round; curves are logged once, after training.
  Only the package attributes are patched: ``XGBModel.fit`` calls ``xgboost.training.train``,
  which stays untouched, so a scikit-learn fit is never recorded twice. A Booster the hook
  recorded is not described again when the cell binds it to a name.
- Models are saved as UBJSON, the scikit-learn classes through their own ``save_model`` (which
  stores the estimator type) and rebuilt as the same class; a raw Booster's predictions get
  their ``DMatrix`` made for the user.
"""

from __future__ import annotations

import inspect
import json
import tempfile
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .base import CurrentRun, Flavor, ModelFacts, RunSink
from .boosting import (
    curves_of,
    flatten_params,
    framework_class,
    importance_table,
    log_curves,
    number,
    patch,
    tracked,
    user_set,
)

# Boosters returned by a patched ``xgb.train``: their params and curves are on the run already.
_RECORDED: weakref.WeakSet[Any] = weakref.WeakSet()

# The classes a saved model may be rebuilt as: a header never names code to import.
_CLASSES = (
    "XGBClassifier",
    "XGBRegressor",
    "XGBRanker",
    "XGBRFClassifier",
    "XGBRFRegressor",
    "XGBModel",
    "Booster",
)

# Important params: (name in the scikit-learn API, native name, section of the config, key).
_IMPORTANT = (
    ("max_depth", "max_depth", "tree_train_param", "max_depth"),
    ("learning_rate", "eta", "tree_train_param", "eta"),
    ("subsample", "subsample", "tree_train_param", "subsample"),
    ("colsample_bytree", "colsample_bytree", "tree_train_param", "colsample_bytree"),
    ("min_child_weight", "min_child_weight", "tree_train_param", "min_child_weight"),
    ("reg_alpha", "alpha", "tree_train_param", "alpha"),
    ("reg_lambda", "lambda", "tree_train_param", "lambda"),
    ("tree_method", "tree_method", "gbtree_train_param", "tree_method"),
    ("random_state", "seed", "generic_param", "seed"),
)


def _section(config: Any, name: str) -> Mapping[str, Any] | None:
    """The first dict called ``name`` in the nested config (a dart booster nests gbtree's)."""
    if isinstance(config, Mapping):
        if isinstance(config.get(name), Mapping):
            return config[name]
        for v in config.values():
            if (found := _section(v, name)) is not None:
                return found
    return None


def _effective(booster: Any, sklearn_names: bool, evals: Mapping[str, Any]) -> dict[str, Any]:
    """The important params as the booster's config holds them."""
    config = json.loads(booster.save_config())
    learner = config.get("learner", {})
    out: dict[str, Any] = {}
    objective = learner.get("objective", {}).get("name")
    if objective:
        out["objective"] = objective
    metrics = [m["name"] for m in learner.get("metrics", []) if "name" in m]
    if not metrics:  # the default metric, chosen from the objective: named in the history
        metrics = sorted({m for per_set in evals.values() for m in per_set})
    if metrics:
        out["eval_metric"] = metrics[0] if len(metrics) == 1 else metrics
    for sk_name, native, section, key in _IMPORTANT:
        values = _section(learner, section)
        if values is not None and key in values:
            out[sk_name if sklearn_names else native] = number(values[key])
    return out


def _importance(booster: Any) -> dict[str, Any]:
    names = booster.feature_names or [f"f{i}" for i in range(booster.num_features())]
    gain = booster.get_score(importance_type="gain")
    weight = booster.get_score(importance_type="weight")
    return importance_table(
        names,
        {
            "gain": [float(gain.get(n, 0.0)) for n in names],
            "weight": [int(weight.get(n, 0)) for n in names],
        },
    )


def _best(booster: Any) -> dict[str, float]:
    """``best_iteration``/``best_score``: XGBoost sets them only when early stopping ran."""
    attrs = booster.attributes()
    return {k: float(attrs[k]) for k in ("best_iteration", "best_score") if k in attrs}


def describe(name: str, model: Any) -> ModelFacts | None:
    import xgboost as xgb

    if isinstance(model, xgb.Booster):
        if model in _RECORDED:  # the hook recorded its params and curves
            return ModelFacts()
        params = {"num_boost_round": model.num_boosted_rounds(), **_effective(model, False, {})}
        return ModelFacts(
            params=params, metrics=_best(model), tables={"importance": _importance(model)}
        )
    if not isinstance(model, xgb.XGBModel):
        return None
    try:
        booster = model.get_booster()
    except Exception:  # not fitted: nothing was trained
        return None
    evals = getattr(model, "evals_result_", None) or {}
    params = user_set(model)
    params.setdefault("n_estimators", model.get_num_boosting_rounds())
    for key, value in _effective(booster, True, evals).items():
        params.setdefault(key, value)
    return ModelFacts(
        params=params,
        curves=curves_of(evals),
        metrics=_best(booster),
        tables={"importance": _importance(booster)},
    )


# -- hooks -------------------------------------------------------------------------------------


def _train_hook(original: Callable[..., Any], current_run: CurrentRun) -> Callable[..., Any]:
    signature = inspect.signature(original)

    def prepare(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        given = bound.arguments
        evals_result = given.get("evals_result")
        if evals_result is None and given.get("evals"):
            evals_result = {}  # XGBoost keeps the history anyway; this hands it back
            kwargs = {**kwargs, "evals_result": evals_result}
        return args, kwargs, (given, evals_result)

    def record(run: RunSink, state: Any, booster: Any) -> None:
        given, evals_result = state
        _RECORDED.add(booster)  # recorded here, even if partly: describe adds nothing
        run.log_params(_call_params(given))
        log_curves(run, curves_of(evals_result))
        for key, value in _best(booster).items():
            run.log_metric(key, value, 0)
        run.log_bytes(json.dumps(_importance(booster)).encode(), "importance.json", kind="table")

    return tracked(original, "xgboost: xgb.train", current_run, prepare, record)


def _call_params(given: Mapping[str, Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    params = flatten_params(given.get("params"))
    params["num_boost_round"] = given["num_boost_round"]
    for key in ("early_stopping_rounds", *extra):
        if given.get(key) is not None:
            params[key] = given[key]
    return params


def _cv_hook(original: Callable[..., Any], current_run: CurrentRun) -> Callable[..., Any]:
    signature = inspect.signature(original)

    def prepare(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return args, kwargs, bound.arguments

    def record(run: RunSink, given: Any, result: Any) -> None:
        run.log_params(_call_params(given, ("nfold",)))
        columns = result.to_dict("list") if hasattr(result, "to_dict") else result
        log_curves(run, {str(k): [float(v) for v in vals] for k, vals in columns.items()})

    return tracked(original, "xgboost: xgb.cv", current_run, prepare, record)


def install(current_run: CurrentRun) -> Callable[[], None]:
    import xgboost

    return patch(
        xgboost,
        {
            "train": _train_hook(xgboost.train, current_run),
            "cv": _cv_hook(xgboost.cv, current_run),
        },
    )


# -- save, load, predict -----------------------------------------------------------------------


def save(model: Any) -> tuple[bytes, dict[str, Any]] | None:
    import xgboost as xgb

    if isinstance(model, xgb.Booster):
        return bytes(model.save_raw("ubj")), {"class": "Booster", "format": "ubj"}
    if not isinstance(model, xgb.XGBModel):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.ubj"
        model.save_model(path)  # stores the estimator type beside the booster
        return path.read_bytes(), {
            "class": framework_class(model, "xgboost", _CLASSES, "XGBoost"),
            "format": "ubj",
        }


def load(payload: bytes, header: Mapping[str, Any]) -> Any:
    import xgboost as xgb

    name = header.get("class")
    if name not in _CLASSES:
        raise ValueError(f"unknown XGBoost model class {name!r}; log the model again")
    model = getattr(xgb, str(name))()
    model.load_model(bytearray(payload))
    return model


def predict(model: Any, X: Any) -> Any:
    import xgboost as xgb

    if isinstance(model, xgb.Booster):
        data = X if isinstance(X, xgb.DMatrix) else xgb.DMatrix(X)
        return model.predict(data)
    return model.predict(X)


FLAVOR = Flavor(
    name="xgboost",
    module="xgboost",
    supported=">=3.0,<4",
    describe=describe,
    save=save,
    load=load,
    install=install,
    predict=predict,
)
