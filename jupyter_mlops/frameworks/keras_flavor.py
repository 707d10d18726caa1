"""Keras 3 (any backend): what ``Model.fit`` did, and the model as a ``.keras`` file.

Supported: keras >= 3.0, < 4 (tested on 3.15 with the torch backend). Keras 2 (``tf.keras``)
is not this flavor: its models come from ``tensorflow``, a framework we do not hook.

- **A tracked cell**: the model's ``history`` (the ``History`` Keras keeps on the model after
  ``fit``, whether or not the cell keeps its return value) gives one stepped metric per key
  (``loss``, ``val_loss``, every compiled metric; step = epoch index), read once at the end
  of the cell: nothing runs per batch or per epoch. A fitted model is described once, by the
  first tracked cell that sees its new ``History``: a later cell that only reads the model
  records nothing for it.
- **A script or pipeline run** (``mlops.start_run()``): no namespace to read, so ``fit`` is
  wrapped while the run is active. The wrapper calls the real ``fit`` and, once it returns
  (or raises: the epochs done are kept), records the same facts on the run, the params under
  the model's Keras name (``sequential.optimizer.learning_rate``). In a cell the wrapper only
  notes the ``batch_size`` it was called with, for the cell's description.
- **The model**: ``model.save`` to a ``.keras`` zip, loaded with ``safe_mode=True``, so a
  team store loads it without trust. A model holding a Python lambda (a ``Lambda`` layer) is
  refused by ``safe_mode``: ``save`` returns None, and the model is stored as a pickle, which
  a team store loads only with trust, as any pickle.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import warnings
import weakref
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .base import CurrentRun, Flavor, ModelFacts, RunSink

SUPPORTED = ">=3.0,<4"
# History objects already recorded (by a cell's description or on a script's run): a model
# is described once per fit. Weak: a History lives as long as its model keeps it.
_DESCRIBED: weakref.WeakSet[Any] = weakref.WeakSet()
# What only the fit call knows (batch_size), per History, for the cell's description.
_FIT_ARGS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_DEFAULT_BATCH_SIZE = 32  # Keras' batch size for array inputs when none is given


def _plain(value: Any) -> Any:
    """A float32 number as its shortest float32 spelling (Keras holds its optimizer's
    learning rate as float32: 1e-2 reads back as 0.009999999776482582)."""
    if isinstance(value, float) and float(np.float32(value)) == value:
        return float(str(np.float32(value)))
    return value


def _optimizer_params(optimizer: Any) -> dict[str, Any]:
    """The optimizer's class and each set key of its config (``None`` means not set)."""
    out: dict[str, Any] = {"optimizer": type(optimizer).__name__}
    for key, value in optimizer.get_config().items():
        if key == "name" or value is None:
            continue
        if isinstance(value, Mapping):  # a serialized schedule (ExponentialDecay …)
            out[f"optimizer.{key}"] = value.get("class_name", "schedule")
            for k, v in (value.get("config") or {}).items():
                if v is not None and not isinstance(v, (Mapping, list)):
                    out[f"optimizer.{key}.{k}"] = _plain(v)
        elif isinstance(value, (bool, int, float, str)):
            out[f"optimizer.{key}"] = _plain(value)
    return out


def _summary(model: Any) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *a, **k: lines.append(line))
    return "\n".join(lines)


def _facts(model: Any, history: Any) -> ModelFacts:
    """What ``model`` and the ``History`` of its last ``fit`` say about that training."""
    # Keras warns as it reads itself (get_config converts variables with numpy's old
    # protocol): not the user's cell output.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read_facts(model, history)


def _read_facts(model: Any, history: Any) -> ModelFacts:
    params: dict[str, Any] = {}
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        params.update(_optimizer_params(optimizer))
    if isinstance(getattr(model, "loss", None), str):
        params["loss"] = model.loss
    fit = history.params or {}
    if fit.get("epochs") is not None:
        params["epochs"] = fit["epochs"]
    if fit.get("steps") is not None:
        params["steps_per_epoch"] = fit["steps"]
    batch_size = _FIT_ARGS.get(history, {}).get("batch_size")
    if batch_size is not None:
        params["batch_size"] = batch_size
    params["params_count"] = int(model.count_params())
    ran = len(history.epoch)
    # A key evaluated on some epochs only (validation_freq > 1) has no value per step: left out.
    curves = {
        key: [float(v) for v in values]
        for key, values in history.history.items()
        if len(values) == ran
    }
    return ModelFacts(params=params, curves=curves, texts={"summary": _summary(model)})


def _new_history(model: Any) -> Any:
    """The model's ``History`` if it holds epochs no one recorded yet, else None."""
    from keras.callbacks import History  # type: ignore[import-untyped,unused-ignore]

    history = getattr(model, "history", None)
    if not isinstance(history, History) or not history.epoch or history in _DESCRIBED:
        return None
    return history


def _describe(name: str, obj: Any) -> ModelFacts | None:
    import keras  # type: ignore[import-untyped,unused-ignore]

    if not isinstance(obj, keras.Model):
        return None
    history = _new_history(obj)
    if history is None:  # never fitted, or a cell that only reads it
        return None
    facts = _facts(obj, history)
    _DESCRIBED.add(history)
    return facts


def _record(run: RunSink, model: Any, history: Any) -> None:
    """A script's or pipeline's run: what a cell's description would give, recorded at once,
    the params under the model's Keras name (there is no variable name to go by)."""
    facts = _facts(model, history)
    _DESCRIBED.add(history)
    run.log_params({f"{model.name}.{k}": v for k, v in facts.params.items()})
    for i, epoch in enumerate(history.epoch):
        run.log_metrics({key: values[i] for key, values in facts.curves.items()}, step=epoch)
    for key, text in facts.texts.items():
        run.log_bytes(text.encode(), f"{model.name}.{key}.txt", kind="text")


def _batch_size(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int | None:
    """The batch size ``fit(x, y, batch_size, …)`` trains with, when it can be known."""
    given = kwargs["batch_size"] if "batch_size" in kwargs else (args[2:3] or [None])[0]
    if given is not None:
        return int(given)
    x = kwargs["x"] if "x" in kwargs else (args[0:1] or [None])[0]
    # Arrays and frames are batched by Keras (32 by default); a dataset brings its own batches.
    return _DEFAULT_BATCH_SIZE if hasattr(x, "shape") else None


def _after_fit(
    current_run: CurrentRun, model: Any, before: Any, args: tuple[Any, ...], kwargs: Any
) -> None:
    run = current_run()
    if run is None:
        return
    try:
        history = _new_history(model)
        if history is None or history is before:
            return
        _FIT_ARGS[history] = {"batch_size": _batch_size(args, kwargs)}
        if getattr(run, "kind", None) != "cell":  # a cell describes its models when it ends
            _record(run, model, history)
    except Exception as e:  # recording must never change what fit returns or raises
        run.warn(
            f"keras: the training of {getattr(model, 'name', 'a model')} was not recorded ({e})"
        )


def _install(current_run: CurrentRun) -> Callable[[], None]:
    import keras  # type: ignore[import-untyped,unused-ignore]

    cls = keras.Model
    own = cls.__dict__.get("fit")  # fit usually comes from the backend's trainer class
    original = cls.fit

    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        before = getattr(self, "history", None)
        try:
            return original(self, *args, **kwargs)
        finally:
            _after_fit(current_run, self, before, args, kwargs)

    cls.fit = fit

    def undo() -> None:
        if own is not None:
            cls.fit = own
        elif cls.__dict__.get("fit") is fit:
            del cls.fit

    return undo


def _lambdas(node: Any) -> bool:
    """Whether a saved model's config holds a Python lambda (which safe_mode refuses)."""
    if isinstance(node, Mapping):
        return node.get("class_name") == "__lambda__" or any(_lambdas(v) for v in node.values())
    if isinstance(node, list):
        return any(_lambdas(v) for v in node)
    return False


def _save(model: Any) -> tuple[bytes, dict[str, Any]] | None:
    import keras  # type: ignore[import-untyped,unused-ignore]

    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras' own (numpy protocol), not the user's output
        path = Path(folder) / "model.keras"
        model.save(path)
        with zipfile.ZipFile(path) as z:
            config = json.loads(z.read("config.json"))
        if _lambdas(config):  # would not load with safe_mode: stored as a pickle instead
            return None
        data = path.read_bytes()
    return data, {"format": "keras", "keras": keras.__version__}


def _load(payload: bytes, header: Mapping[str, Any]) -> Any:
    import keras  # type: ignore[import-untyped,unused-ignore]

    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as f:
            f.write(payload)
        # safe_mode: no Python code in the file is run (Lambda bytecode is refused).
        return keras.saving.load_model(path, safe_mode=True)


def _predict(model: Any, X: Any) -> Any:
    if hasattr(X, "to_numpy"):  # a DataFrame or Series
        X = X.to_numpy(dtype=np.float32)
    elif isinstance(X, np.ndarray) and X.dtype != np.float32:
        X = X.astype(np.float32)
    return model.predict(X, verbose=0)


FLAVOR = Flavor(
    name="keras",
    module="keras",
    supported=SUPPORTED,
    describe=_describe,
    save=_save,
    load=_load,
    install=_install,
    predict=_predict,
)

__all__ = ["FLAVOR", "SUPPORTED"]
