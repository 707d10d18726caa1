"""The contract every framework module of this package fulfils (a *flavor*, as MLflow says).

A flavor knows one training framework (XGBoost, LightGBM, PyTorch …) and answers four
questions, each optional:

- ``describe(name, obj)``: is ``obj``, found in a tracked cell's namespace, a fitted model of
  this framework? If so, what it says about its training (:class:`ModelFacts`);
- ``save(obj)`` / ``load(payload, header)``: the model in the framework's own safe format
  (never a pickle), so that a team store loads it without trust;
- ``install(current_run)``: patch the framework's training entry points while a run is
  active, and return the function that undoes the patches. A patch calls ``current_run()``
  when the framework is called, and records on the :class:`RunSink` it returns; None (no run
  in this context) means the call goes straight through, untouched;
- ``predict(model, X)``: predictions for a frame, with the framework's own conversion (a
  ``DMatrix``, a tensor) done for the user.

A flavor module imports its framework only inside these functions: ``import jupyter_mlops``
imports no framework, and a flavor is consulted only when its framework is in ``sys.modules``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class RunSink(Protocol):
    """What a training hook records on: the active run (``tracking.ActiveRun``). A protocol,
    so that this package sits below tracking and the store (``model_format`` uses it)."""

    def log_params(self, params: Mapping[str, Any]) -> None: ...
    def log_metric(self, key: str, value: Any, step: int | None = None) -> None: ...
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None: ...
    def log_curve(self, key: str, values: Iterable[Any], start: int = 0) -> None: ...
    def log_bytes(self, data: bytes, name: str, kind: str = "file") -> Any: ...
    def warn(self, message: str) -> None: ...


CurrentRun = Callable[[], RunSink | None]


@dataclass(frozen=True)
class ModelFacts:
    """What a fitted model says about its training, as recorded on the run.

    ``params`` are keyed without the variable name (the caller prefixes ``name.``);
    ``curves`` map a metric name, as the framework names it (``validation_0-logloss``), to
    its value per round or epoch (step 0 first); ``metrics`` are final numbers
    (``best_iteration``, ``best_score``, ``aic``); ``tables`` are small tables (feature
    importance, a coefficients table) as ``{"columns": [...], "rows": [[...], ...]}``;
    ``texts`` are text artifacts (a statsmodels summary); ``warnings`` are one-line
    reproducibility warnings (an unpinned seed that the framework really draws from)."""

    params: Mapping[str, Any] = field(default_factory=dict)
    curves: Mapping[str, list[float]] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    # False for what is no model (an optimizer, an LR scheduler): its facts are recorded, but
    # --log-model does not store the object (it would be pickled).
    model: bool = True


@dataclass(frozen=True)
class Flavor:
    """One framework's support. ``module`` is the top-level module that must be imported for
    the flavor to be consulted; ``supported`` is the version range its hooks were tested on
    (a newer version is tracked as far as it goes, with one warning naming what was not)."""

    name: str
    module: str
    supported: str
    describe: Callable[[str, Any], ModelFacts | None] | None = None
    save: Callable[[Any], tuple[bytes, dict[str, Any]] | None] | None = None
    load: Callable[[bytes, Mapping[str, Any]], Any] | None = None
    install: Callable[[CurrentRun], Callable[[], None]] | None = None
    predict: Callable[[Any, Any], Any] | None = None


__all__ = ["CurrentRun", "Flavor", "ModelFacts", "RunSink"]
