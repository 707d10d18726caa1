"""What the gradient-boosting flavors (XGBoost, LightGBM, CatBoost) share: the params a user
set, config values as numbers, eval results as curves, the importance table, and a training
function wrapped so that recording can never change or break the user's call.

Nothing here imports a framework.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .base import CurrentRun, RunSink

log = logging.getLogger(__name__)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except Exception:  # arrays and the like: compared by identity only
        return a is b


def user_set(model: Any) -> dict[str, Any]:
    """The scikit-learn-style params of ``model`` that differ from its class's defaults: what
    the user set (XGBoost's ``get_params()`` is mostly ``None``, which says nothing)."""
    params = model.get_params(deep=False)
    try:
        defaults = type(model)().get_params(deep=False)
    except Exception:  # a subclass whose constructor needs arguments: every set value counts
        defaults = {}
    return {
        k: as_data(v)
        for k, v in params.items()
        if v is not None and (k not in defaults or not _same(v, defaults[k]))
    }


def as_data(value: Any) -> Any:
    """``value`` as data that is the same in every session: a function or an object (a
    callback, a custom metric) by its import path, never a repr holding a memory address."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [as_data(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): as_data(v) for k, v in value.items()}
    if type(value).__module__ == "numpy" and hasattr(value, "item"):  # a NumPy scalar
        return value.item()
    named = value if callable(value) and hasattr(value, "__qualname__") else type(value)
    return f"{named.__module__}.{named.__qualname__}"


def number(text: Any) -> Any:
    """A config value as the int or float it stands for. XGBoost's config holds strings, its
    float32 values printed to 9 digits (``"0.300000012"``): read back as the float32 they are
    (``0.3``). Other values unchanged."""
    if not isinstance(text, str):
        return text
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        return value
    import numpy as np

    return float(str(np.float32(value)))


def curves_of(evals: Mapping[str, Mapping[str, Sequence[Any]]] | None) -> dict[str, list[float]]:
    """``{set: {metric: [per round]}}`` (every framework's eval history) as curves named
    ``<set>-<metric>``, as XGBoost prints them."""
    out: dict[str, list[float]] = {}
    for set_name, metrics in (evals or {}).items():
        for metric, values in metrics.items():
            out[f"{set_name}-{metric}"] = [_first(v) for v in values]
    return out


def _first(v: Any) -> float:
    """A round's value; ``xgb.cv``'s history holds (mean, std) pairs."""
    return float(v[0]) if isinstance(v, (tuple, list)) else float(v)


def importance_table(features: Sequence[str], columns: Mapping[str, Sequence[Any]]) -> dict:
    """Feature importance as the table shape runs record, most important first (by the first
    column)."""
    names = list(columns)
    rows = [[str(f), *(_plain(columns[c][i]) for c in names)] for i, f in enumerate(features)]
    rows.sort(key=lambda r: -r[1] if isinstance(r[1], (int, float)) else 0)
    return {"columns": ["feature", *names], "rows": rows}


def _plain(v: Any) -> Any:
    f = float(v)
    return int(f) if f.is_integer() and not isinstance(v, float) else f


def flatten_params(params: Any) -> dict[str, Any]:
    """A ``params`` argument as one param per key. XGBoost also takes a list of pairs, where a
    repeated key (``eval_metric``) means several values: those become a list."""
    if isinstance(params, Mapping):
        return {str(k): as_data(v) for k, v in params.items()}
    out: dict[str, Any] = {}
    for k, v in params or ():
        key, v = str(k), as_data(v)
        if key in out:
            prev = out[key]
            out[key] = [*prev, v] if isinstance(prev, list) else [prev, v]
        else:
            out[key] = v
    return out


def framework_class(model: Any, package: str, classes: Sequence[str], label: str) -> str:
    """The name of the class of ``package`` (one of ``classes``) to rebuild ``model`` as: a
    user's subclass is saved as its framework base."""
    for klass in type(model).__mro__:
        if klass.__module__.startswith(package) and klass.__name__ in classes:
            return klass.__name__
    raise TypeError(f"{type(model).__name__} is not a {label} model")


def log_curves(run: RunSink, curves: Mapping[str, Iterable[float]]) -> None:
    for key, values in curves.items():
        run.log_curve(key, values)


def prefixed(prefix: str, curves: Mapping[str, list[float]]) -> dict[str, list[float]]:
    return {f"{prefix}{k}": v for k, v in curves.items()}


Prepare = Callable[[tuple[Any, ...], dict[str, Any]], tuple[tuple[Any, ...], dict[str, Any], Any]]
Record = Callable[[RunSink, Any, Any], None]


def tracked(
    original: Callable[..., Any],
    what: str,
    current_run: CurrentRun,
    prepare: Prepare,
    record: Record,
) -> Callable[..., Any]:
    """``original`` (a training function), recording on the active run.

    ``prepare(args, kwargs)`` returns the arguments to call ``original`` with (e.g. with an
    ``evals_result`` dict of ours added) and a state; ``record(run, state, result)`` records
    after the call. Either failing costs one warning on the run: the user's call always runs
    as without us and returns (or raises) exactly what ``original`` does.

    The second and later calls in one run (a loop over learning rates) record under
    ``<name>_2.``, ``<name>_3.`` … (``train_2.eta``, ``train_2.test-logloss``), so that
    their curves do not fall on top of each other."""
    name = getattr(original, "__name__", "train")
    calls: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        run = current_run()
        if run is None:
            return original(*args, **kwargs)
        try:
            call_args, call_kwargs, state = prepare(args, kwargs)
            calls[run] = n = calls.get(run, 0) + 1
        except Exception as e:  # arguments we do not understand: train untouched
            _warn(run, what, e)
            return original(*args, **kwargs)
        result = original(*call_args, **call_kwargs)
        try:
            record(run if n == 1 else _Prefixed(run, f"{name}_{n}."), state, result)
        except Exception as e:  # recording must never cost the user the trained model
            _warn(run, what, e)
        return result

    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    wrapper.__name__ = name
    wrapper.__qualname__ = getattr(original, "__qualname__", name)
    wrapper.__doc__ = original.__doc__
    wrapper.__module__ = getattr(original, "__module__", __name__)
    return wrapper


class _Prefixed:
    """``run``, with every key and artifact name prefixed."""

    def __init__(self, run: RunSink, prefix: str) -> None:
        self._run = run
        self._prefix = prefix

    def log_params(self, params: Mapping[str, Any]) -> None:
        self._run.log_params({self._prefix + k: v for k, v in params.items()})

    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        self._run.log_metric(self._prefix + key, value, step)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        self._run.log_metrics({self._prefix + k: v for k, v in metrics.items()}, step)

    def log_curve(self, key: str, values: Iterable[Any], start: int = 0) -> None:
        self._run.log_curve(self._prefix + key, values, start)

    def log_bytes(self, data: bytes, name: str, kind: str = "file") -> Any:
        return self._run.log_bytes(data, self._prefix + name, kind)

    def warn(self, message: str) -> None:
        self._run.warn(message)


def _warn(run: RunSink, what: str, e: Exception) -> None:
    log.debug("%s was not fully recorded", what, exc_info=True)
    try:
        run.warn(f"{what} was not fully recorded ({type(e).__name__}: {e})")
    except Exception:
        log.warning("%s was not recorded", what, exc_info=True)


def patch(module: Any, attrs: Mapping[str, Callable[..., Any]]) -> Callable[[], None]:
    """Set ``module.<attr>`` for each of ``attrs``; the undo restores the originals exactly."""
    originals = {a: getattr(module, a) for a in attrs}
    for a, fn in attrs.items():
        setattr(module, a, fn)

    def undo() -> None:
        for a, fn in originals.items():
            setattr(module, a, fn)

    return undo


__all__ = [
    "as_data",
    "curves_of",
    "flatten_params",
    "importance_table",
    "framework_class",
    "log_curves",
    "number",
    "patch",
    "prefixed",
    "tracked",
    "user_set",
]
