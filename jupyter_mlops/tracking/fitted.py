"""The models a tracked cell fitted, found by name, and their params as stable values.

Which names a cell trained is decided from its code (:func:`.analysis.trained_names`); here
those names are looked up: a dict or list of models is expanded into its entries
(``models[lr]``), and each object is recorded once. A param value is made of data only (a
class by its name, a distribution by its name and arguments), never a repr holding a memory
address, so the same session run twice records the same params.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from .analysis import FIT_METHODS, STEP_METHODS

# Containers larger than this are data, not a set of models trained in a loop.
_MAX_MODELS = 100
_ADDRESS = re.compile(r" (object )?at 0x[0-9a-fA-F]+")
_MAX_ARRAY_ITEMS = 20


def _modelish(obj: Any) -> bool:
    return any(hasattr(obj, a) for a in ("fit", "get_params", "state_dict", "optimize"))


def _entries(name: str, obj: Any) -> list[tuple[str, Any]]:
    """``(label, model)`` for a container of models: ``models[lr]`` for a dict's entry or a
    ``("lr", model)`` pair, ``models[0]`` for a list's item; the object itself otherwise."""
    if isinstance(obj, Mapping) and 0 < len(obj) <= _MAX_MODELS:
        items = [(f"{name}[{k}]", v) for k, v in obj.items() if isinstance(k, (str, int))]
    elif isinstance(obj, (list, tuple)) and 0 < len(obj) <= _MAX_MODELS:
        items = []
        for i, v in enumerate(obj):
            if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str):
                items.append((f"{name}[{v[0]}]", v[1]))
            else:
                items.append((f"{name}[{i}]", v))
    else:
        return [(name, obj)]
    return [(k, v) for k, v in items if _modelish(v)]


def fitted_objects(
    ns: Mapping[str, Any], trained: Iterable[str], loop_vars: Iterable[str] = ()
) -> dict[str, Any]:
    """The objects the cell trained, by the name they are recorded under; each object once,
    under a namespace name before a loop variable (which holds the last model of its loop)."""
    loops = set(loop_vars)
    out: dict[str, Any] = {}
    seen: set[int] = set()
    for name in sorted(trained, key=lambda n: n in loops):
        obj = ns.get(name)
        if obj is None or isinstance(obj, (bool, int, float, str, bytes)) or inspect.ismodule(obj):
            continue
        for label, value in _entries(name, obj):
            if id(value) not in seen:
                seen.add(id(value))
                out[label] = value
    return out


def fitted_estimators(ns: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """scikit-learn estimators among ``names`` that are fitted (pipelines included)."""
    if "sklearn" not in sys.modules:
        return {}
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    out = {}
    for n in names:
        obj = ns.get(n)
        if isinstance(obj, BaseEstimator):
            try:
                check_is_fitted(obj)
            except (NotFittedError, TypeError, ValueError, AttributeError):
                continue
            out[n] = obj
    return out


def distribution_value(obj: Any) -> dict[str, Any] | None:
    """A frozen scipy.stats distribution as data: ``{"dist": "loguniform", "args": [0.01,
    100]}`` (and ``kwds`` such as ``loc``/``scale`` when given); None for anything else."""
    dist = getattr(obj, "dist", None)
    if not type(obj).__module__.startswith("scipy.stats") or dist is None:
        return None
    out: dict[str, Any] = {
        "dist": getattr(dist, "name", type(dist).__name__),
        "args": [param_value(a) for a in getattr(obj, "args", ())],
    }
    kwds = getattr(obj, "kwds", None)
    if kwds:
        out["kwds"] = {str(k): param_value(v) for k, v in kwds.items()}
    return out


def set_params(est: Any) -> dict[str, Any]:
    """The params of ``est`` that differ from its class's defaults: what the user set."""
    try:
        signature = inspect.signature(type(est).__init__)
    except (TypeError, ValueError):
        return dict(est.get_params(deep=False))
    out = {}
    for k, v in est.get_params(deep=False).items():
        p = signature.parameters.get(k)
        if p is None or p.default is inspect.Parameter.empty or not _same(v, p.default):
            out[k] = v
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # an array compared elementwise, or an object refusing ==
        return a is b


def _qualified(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if name is None:
        return type(obj).__name__
    return f"{module}.{name}" if module and module != "builtins" else str(name)


def param_value(v: Any) -> Any:
    """``v`` as a JSON param value that two identical sessions record alike."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if type(v).__module__ == "numpy" and getattr(v, "ndim", None) == 0:
        return v.item()
    if isinstance(v, Mapping):
        return {str(k): param_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [param_value(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return sorted((param_value(x) for x in v), key=repr)
    if (dist := distribution_value(v)) is not None:
        return dist
    if hasattr(v, "get_params") and not isinstance(v, type):
        return {"class": type(v).__name__, "params": param_value(set_params(v))}
    if hasattr(v, "shape") and hasattr(v, "tolist"):
        if getattr(v, "size", _MAX_ARRAY_ITEMS + 1) <= _MAX_ARRAY_ITEMS:
            return param_value(v.tolist())
        return {"array": list(v.shape), "dtype": str(getattr(v, "dtype", ""))}
    if isinstance(v, type) or inspect.isroutine(v):
        return _qualified(v)
    text = repr(v)
    # An object without a repr of its own shows its address, which changes every session.
    return type(v).__name__ if _ADDRESS.search(text) else text


def _holds_estimators(value: Any) -> bool:
    if not isinstance(value, (list, tuple)):
        return False
    items = [i for v in value for i in (v if isinstance(v, tuple) else (v,))]
    return any(hasattr(i, "get_params") for i in items)


def estimator_params(name: str, est: Any) -> dict[str, Any]:
    """``name.key`` for each of ``est``'s params (nested ones as ``a__b``), as stable values."""
    out = {}
    for k, v in est.get_params(deep=True).items():
        if _holds_estimators(v):  # Pipeline.steps and the like: the steps' params follow
            continue
        if hasattr(v, "get_params") and not isinstance(v, type):
            v = type(v).__name__  # a nested estimator: its own params follow as a__b
        out[f"{name}.{k}"] = param_value(v)
    return out


def code_names(code: Any, out: dict[str, None]) -> None:
    """The names ``code`` uses (globals and attributes), its nested code objects' too."""
    out.update(dict.fromkeys(code.co_names))
    for const in code.co_consts:  # nested functions, lambdas, comprehensions
        if hasattr(const, "co_names"):
            code_names(const, out)


def trained_by_functions(
    ns: Mapping[str, Any], calls: Iterable[tuple[str, tuple[str, ...]]]
) -> list[str]:
    """Names the cell passes to a notebook function that fits or steps something
    (``train_epoch(model, loader, opt)``, ``fit_all(models)``): what that function trains."""
    out: list[str] = []
    for func, args in calls:
        fn = ns.get(func)
        code = getattr(fn, "__code__", None)
        if code is None or getattr(fn, "__globals__", None) is not ns:
            continue
        names: dict[str, None] = {}
        code_names(code, names)
        if not names.keys().isdisjoint(FIT_METHODS | STEP_METHODS):
            out.extend(args)
    return out


__all__ = [
    "code_names",
    "distribution_value",
    "estimator_params",
    "fitted_estimators",
    "fitted_objects",
    "param_value",
    "set_params",
    "trained_by_functions",
]
