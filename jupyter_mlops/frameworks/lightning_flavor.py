"""Lightning (``lightning`` and ``pytorch_lightning`` 2.x; tested on 2.6): what
``Trainer.fit`` trained, recorded while a run is active.

``install`` wraps ``Trainer.fit``. Inside a run, a fit records:

- every metric ``self.log(...)`` logs, as a stepped metric, exactly as Lightning hands it to
  its loggers (the same steps, the same values, ``epoch`` included): the trainer's private
  ``_logger_connector.log_metrics`` is wrapped on that trainer for the duration of the fit, so
  this works with ``logger=False`` too, and no logger or callback is added to the trainer (a
  logger of ours would move the checkpoint folder and ``trainer.log_dir``). The points are
  buffered and written every 1,000 logging calls and when the fit ends;
- the module's ``hparams`` (``save_hyperparameters()``) as params, under their own names, and
  its optimizers and LR schedulers as torch's flavor records them (``optimizer.lr``,
  ``lr_scheduler.gamma``);
- the best checkpoint of the first ``ModelCheckpoint`` callback: its weights (read with
  ``torch.load(weights_only=True)``) as a safetensors model artifact ``best_checkpoint``,
  ``checkpoint.best_model_path`` and ``checkpoint.monitor`` as params and
  ``checkpoint.best_model_score`` as a metric. The ``.ckpt`` itself is a pickle: never logged.

The trainer, its loggers and callbacks are left exactly as they were; the wrapper is removed
when the run ends. A ``LightningModule`` in a tracked cell's namespace is described, saved,
loaded and used for predictions as a torch module (:mod:`.torch_flavor`).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from . import torch_flavor
from .base import CurrentRun, Flavor, ModelFacts, RunSink

log = logging.getLogger(__name__)

SUPPORTED = ">=2.0,<2.7"
PACKAGES = ("lightning.pytorch", "pytorch_lightning")
FLUSH_EVERY = 1000
CHECKPOINT_ARTIFACT = "best_checkpoint"


def _plain(value: Any) -> bool:
    return torch_flavor._jsonable(value)


class _FitRecording:
    """What one ``fit`` inside a run records; every step is guarded by the caller."""

    def __init__(self, trainer: Any, run: RunSink) -> None:
        self.trainer = trainer
        self.run = run
        self.points: list[tuple[int, dict[str, float]]] = []
        self._warned = False
        self.connector = trainer._logger_connector
        self._had_own = "log_metrics" in vars(self.connector)
        self._original = self.connector.log_metrics
        self.connector.log_metrics = self._log_metrics

    def _log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        try:
            self._note(metrics, step)
        except Exception as e:  # recording must never cost the user the fit
            self.warn(f"self.log metrics ({type(e).__name__}: {e})")
        self._original(metrics, step)

    def _note(self, metrics: Mapping[str, Any], step: int | None) -> None:
        """The points Lightning's ``_LoggerConnector.log_metrics`` gives its loggers."""
        if not metrics:
            return
        values = {k: float(v) for k, v in metrics.items()}
        if step is None:
            step_metric = values.pop("step", None)
            if step_metric is not None:
                step = int(step_metric)
            else:
                values.setdefault("epoch", float(self.trainer.current_epoch))
                step = self.trainer.fit_loop.epoch_loop._batches_that_stepped
        self.points.append((int(step), values))
        if len(self.points) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        points, self.points = self.points, []
        for step, values in points:
            self.run.log_metrics(values, step=step)

    def warn(self, what: str) -> None:
        if not self._warned:  # one warning, not one per logging call
            self._warned = True
            self.run.warn(f"lightning: {what} not recorded")

    def stop(self) -> None:
        if self._had_own:
            self.connector.log_metrics = self._original
        else:
            del self.connector.log_metrics
        self.flush()


def hparams_params(module: Any) -> dict[str, Any]:
    """``save_hyperparameters()``'s values that are plain data (a nested dict as ``a.b``)."""
    out: dict[str, Any] = {}

    def add(prefix: str, mapping: Mapping[str, Any]) -> None:
        for key, value in mapping.items():
            if isinstance(value, Mapping):
                add(f"{prefix}{key}.", value)
            elif _plain(value):
                out[f"{prefix}{key}"] = value

    add("", getattr(module, "hparams", None) or {})
    return out


def _checkpoint_callback(trainer: Any) -> Any:
    for cb in getattr(trainer, "checkpoint_callbacks", ()):
        if getattr(cb, "best_model_path", ""):
            return cb
    return None


def checkpoint_model(path: str, module: Any) -> bytes:
    """The checkpoint's weights as this flavor's model file (safetensors in the native
    envelope, rebuilt as ``module``'s class); the pickle-based ``.ckpt`` is read with
    ``weights_only=True``, which unpickles plain containers and tensors only."""
    import torch

    from ..model_format import native_envelope

    # Opened read-write: a tracked cell takes a file it opens read-only for an input (see
    # tracking.filewatch), and this checkpoint is the fit's output, not its input.
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:  # a read-only checkpoint: read it plainly
        fd = os.open(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as f:
        ckpt = torch.load(f, map_location="cpu", weights_only=True)
    payload = torch_flavor.state_dict_bytes(ckpt["state_dict"])
    header = torch_flavor.module_header(module, fallback=getattr(module, "hparams", None))
    return native_envelope({**header, "flavor": FLAVOR.name}, payload)


def _record_checkpoint(trainer: Any, run: RunSink, module: Any) -> None:
    cb = _checkpoint_callback(trainer)
    if cb is None:
        return
    path = str(cb.best_model_path)
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    # Under the working directory, relative: the same in every identical session.
    run.log_params({"checkpoint.best_model_path": path if relative.startswith("..") else relative})
    if getattr(cb, "monitor", None):
        run.log_params({"checkpoint.monitor": str(cb.monitor)})
    score = getattr(cb, "best_model_score", None)
    if score is not None:
        run.log_metrics({"checkpoint.best_model_score": float(score)}, step=0)
    run.log_bytes(checkpoint_model(cb.best_model_path, module), CHECKPOINT_ARTIFACT, "model")


def optimizer_params(trainer: Any) -> dict[str, Any]:
    """The fit's optimizers and LR schedulers (``configure_optimizers``), as torch's flavor
    records them: ``optimizer.lr``, ``lr_scheduler.step_size`` (numbered when several)."""
    out: dict[str, Any] = {}
    optimizers = list(trainer.optimizers)
    for i, opt in enumerate(optimizers):
        prefix = "optimizer." if len(optimizers) == 1 else f"optimizer{i}."
        out.update({prefix + k: v for k, v in torch_flavor.optimizer_params(opt).items()})
    configs = list(trainer.lr_scheduler_configs)
    for i, config in enumerate(configs):
        prefix = "lr_scheduler." if len(configs) == 1 else f"lr_scheduler{i}."
        settings = torch_flavor.scheduler_params(config.scheduler)
        out.update({prefix + k: v for k, v in settings.items()})
    return out


def _guard(run: RunSink, what: str, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as e:  # an unknown version: record the rest, never fail the fit
        log.debug("lightning: %s failed", what, exc_info=True)
        run.warn(f"lightning: {what} not recorded ({type(e).__name__}: {e})")
        return None


def _patched_fit(original: Callable[..., Any], current_run: CurrentRun) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        run = current_run()
        if run is None:
            return original(self, *args, **kwargs)
        module = args[0] if args else kwargs.get("model")
        _guard(run, "hparams", lambda: run.log_params(hparams_params(module)))
        recording = _guard(run, "self.log metrics", _FitRecording, self, run)
        try:
            return original(self, *args, **kwargs)
        finally:
            if recording is not None:
                _guard(run, "self.log metrics", recording.stop)
            _guard(run, "the optimizers", lambda: run.log_params(optimizer_params(self)))
            _guard(run, "the best checkpoint", _record_checkpoint, self, run, module)

    return fit


def _trainer_classes() -> list[Any]:
    """The Trainer of each Lightning package already imported (importing one costs seconds;
    ``import lightning`` imports ``lightning.pytorch``)."""
    return [sys.modules[name].Trainer for name in PACKAGES if name in sys.modules]


def install(current_run: CurrentRun) -> Callable[[], None]:
    """Wrap ``Trainer.fit`` of each imported Lightning package."""
    originals = []
    for cls in _trainer_classes():
        original = cls.__dict__["fit"]
        cls.fit = _patched_fit(original, current_run)
        originals.append((cls, original))

    def undo() -> None:
        for cls, original in originals:
            cls.fit = original

    return undo


def describe(name: str, obj: Any) -> ModelFacts | None:
    """A LightningModule the run trained, as a torch module (its hparams are recorded by the
    fit itself); a Trainer or anything else of Lightning's: nothing."""
    import torch

    if isinstance(obj, torch.nn.Module):
        return torch_flavor.describe(name, obj)
    return None


def save_header(module: Any) -> tuple[bytes, dict[str, Any]]:
    """The module as torch saves it, with constructor arguments also looked up in ``hparams``
    (``save_hyperparameters()`` keeps them there rather than as attributes)."""
    hparams = getattr(module, "hparams", None) or {}
    header = torch_flavor.module_header(module, fallback=hparams)
    return torch_flavor.state_dict_bytes(module.state_dict()), header


def save(module: Any) -> tuple[bytes, dict[str, Any]] | None:
    import torch

    return save_header(module) if isinstance(module, torch.nn.Module) else None


FLAVOR = Flavor(
    name="lightning",
    module="lightning",
    supported=SUPPORTED,
    describe=describe,
    save=save,
    load=torch_flavor.load,
    install=install,
    predict=torch_flavor.predict,
)

__all__ = ["CHECKPOINT_ARTIFACT", "FLAVOR", "describe", "hparams_params", "install", "save"]
