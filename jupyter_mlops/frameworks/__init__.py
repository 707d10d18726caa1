"""What a training cell did in the frameworks it uses: XGBoost, LightGBM, CatBoost, PyTorch,
Lightning, Keras, statsmodels and searches (scikit-learn's, Optuna's).

One module per framework (``<name>_flavor.py``) holds everything that depends on that
framework's version: its :class:`~.base.Flavor` (see :mod:`.base` for the contract) and the
version range it was tested on. This module only finds the flavors and runs them safely: a
flavor that fails costs the user one warning, never the cell.

Nothing here imports a framework. A flavor is consulted only once its framework is in
``sys.modules`` (the user imported it), so tracking a scikit-learn cell costs nothing more.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..import_watch import spec_calling_back
from .base import CurrentRun, Flavor, ModelFacts, RunSink

log = logging.getLogger(__name__)

# Top-level module of a framework -> the flavor module that supports it.
_MODULES: dict[str, str] = {
    "xgboost": "xgboost_flavor",
    "lightgbm": "lightgbm_flavor",
    "catboost": "catboost_flavor",
    "lightning": "lightning_flavor",
    "pytorch_lightning": "lightning_flavor",
    "keras": "keras_flavor",
    "torch": "torch_flavor",
    "statsmodels": "statsmodels_flavor",
    "optuna": "optuna_flavor",
}
_loaded: dict[str, Flavor | None] = {}


def _flavor_module(module: str) -> Flavor | None:
    """The flavor for top-level module ``module``, or None (none written, or it failed)."""
    if module in _loaded:
        return _loaded[module]
    flavor = None
    name = _MODULES.get(module)
    if name is not None:
        try:
            flavor = importlib.import_module(f"{__name__}.{name}").FLAVOR
        except (ImportError, AttributeError):  # not written yet, or a broken install
            log.debug("no flavor for %s", module, exc_info=True)
    _loaded[module] = flavor
    return flavor


def flavor_named(name: str) -> Flavor | None:
    """The flavor called ``name`` (as written in a model file's header)."""
    for module in _MODULES:
        f = _flavor_module(module)
        if f is not None and f.name == name:
            return f
    return None


def imported_flavors() -> list[Flavor]:
    """Flavors of the frameworks this process has imported, each once."""
    out: dict[str, Flavor] = {}
    for module in _MODULES:
        if module in sys.modules and (f := _flavor_module(module)) is not None:
            out.setdefault(f.name, f)
    return list(out.values())


def flavor_of(obj: Any) -> Flavor | None:
    """The flavor of ``obj``'s class: the first class in its MRO that comes from a framework
    we support (a LightningModule defined in the notebook is Lightning's before torch's)."""
    for klass in type(obj).__mro__:
        top = klass.__module__.partition(".")[0]
        if top in _MODULES and top in sys.modules and (f := _flavor_module(top)) is not None:
            return f
    return None


def guarded(
    flavor: Flavor, what: str, warn: Callable[[str], None], fn: Callable[..., Any], *args: Any
) -> Any:
    """``fn(*args)``, or None and one warning when the flavor fails (an unknown version)."""
    try:
        return fn(*args)
    except Exception as e:  # a flavor's failure must never cost the user the cell
        log.debug("%s flavor: %s failed", flavor.name, what, exc_info=True)
        warn(f"{flavor.name}: {what} was not recorded ({type(e).__name__}: {e})")
        return None


def describe_models(
    ns: Mapping[str, Any], names: Iterable[str], warn: Callable[[str], None]
) -> dict[str, tuple[Flavor, ModelFacts]]:
    """The framework models among ``names`` in ``ns``, with what each says of its training."""
    out: dict[str, tuple[Flavor, ModelFacts]] = {}
    if not any(m in sys.modules for m in _MODULES):
        return out
    for name in names:
        obj = ns.get(name)
        if obj is None or isinstance(obj, (int, float, str, bytes, list, dict, tuple)):
            continue
        flavor = flavor_of(obj)
        if flavor is None or flavor.describe is None:
            continue
        facts = guarded(flavor, f"what {name} learned", warn, flavor.describe, name, obj)
        if facts is not None:
            out[name] = (flavor, facts)
    return out


def predict(model: Any, X: Any) -> Any:
    """``model.predict(X)``, with the framework's conversion of ``X`` when it needs one."""
    flavor = flavor_of(model)
    if flavor is not None and flavor.predict is not None:
        return flavor.predict(model, X)
    return model.predict(X)


class _Hooks:
    """The patches of every imported framework, installed while at least one run is active
    (reference counted: runs nest, and a pipeline's ambient run spans many cells).

    A framework first imported while a run is active (``import xgboost`` inside the tracked
    cell) is patched as soon as its import finishes: a finder on ``sys.meta_path``, present
    only while a run is active, wraps the framework's loader (as tracking.seeding does for
    RNG libraries)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._undo: list[tuple[Flavor, Callable[[], None]]] = []
        self._installed: set[str] = set()
        self._current_run: CurrentRun | None = None

    def on(self, current_run: CurrentRun) -> None:
        """One more active run; ``current_run`` returns the run of the calling context."""
        with self._lock:
            self._depth += 1
            self._current_run = current_run
            self._install_new()
            if self not in sys.meta_path and any(m not in sys.modules for m in _MODULES):
                sys.meta_path.insert(0, self)

    def _install_new(self) -> None:
        current_run = self._current_run
        if current_run is None:
            return
        for flavor in imported_flavors():
            if flavor.install is None or flavor.name in self._installed:
                continue
            self._installed.add(flavor.name)
            try:
                self._undo.append((flavor, flavor.install(current_run)))
            except Exception:  # an unknown version: the namespace scan still works
                log.warning("%s: training hooks not installed", flavor.name, exc_info=True)

    def off(self) -> None:
        with self._lock:
            self._depth = max(0, self._depth - 1)
            if self._depth:
                return
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            while self._undo:
                flavor, undo = self._undo.pop()
                try:
                    undo()
                except Exception:
                    log.warning("%s: removing training hooks failed", flavor.name, exc_info=True)
            self._installed.clear()
            self._current_run = None

    @property
    def active(self) -> bool:
        return self._depth > 0

    # importlib's MetaPathFinder protocol: only a supported framework's top-level package
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in _MODULES or name in sys.modules:
            return None
        return spec_calling_back(name, path, self._imported)

    def _imported(self, module: Any) -> None:
        with self._lock:
            if self._depth:
                self._install_new()


HOOKS = _Hooks()


__all__ = [
    "HOOKS",
    "CurrentRun",
    "Flavor",
    "ModelFacts",
    "RunSink",
    "describe_models",
    "flavor_named",
    "flavor_of",
    "guarded",
    "imported_flavors",
    "predict",
]
