"""PyTorch (torch 2.x; tested on 2.13): what a plain training loop trained, and the module's
weights as safetensors.

- ``describe``: an ``nn.Module`` gives its architecture (``repr``, a text artifact), its class's
  import path and its parameter counts; an optimizer its class and the hyperparameters of its
  ``param_groups``; an LR scheduler its class and settings. Each is recorded only when the
  run built or trained it: its parameters were registered (the module was built) or an
  optimizer holding them stepped while the run was active (torch's global parameter
  registration and optimizer step hooks, installed by ``install``). A cell that only reads a
  trained module records nothing for it. When torch was first imported inside the run itself
  (the hooks could not be on), every module the cell names is recorded.
- ``save``/``load``: the ``state_dict`` as safetensors (data only: loading runs no pickle), with
  the class's import path and the constructor arguments found as attributes of the same name;
  ``load`` imports the class, checks that it is an ``nn.Module`` and loads the weights strictly.
  A class defined in a notebook loads where that notebook's cell defining it has run.
- ``predict``: a frame or array as a float32 tensor on the module's device, in eval mode and
  without gradients; the module's mode is restored afterwards.

torch's RNG state is recorded by ``tracking.seeding``, not here.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import sys
import weakref
from collections.abc import Callable, Collection, Mapping
from typing import Any

from .base import CurrentRun, Flavor, ModelFacts

log = logging.getLogger(__name__)

SUPPORTED = ">=2.0,<2.14"
# param_groups keys that choose an implementation, not the optimisation: noise in a run's params.
_IMPLEMENTATION_KEYS = {"params", "foreach", "fused", "capturable", "differentiable", "initial_lr"}
# Scheduler constructor arguments that are not settings (or move while training).
_NOT_SETTINGS = {"self", "optimizer", "last_epoch", "verbose"}


def _none() -> None:
    return None


_RunMarks = tuple["weakref.WeakSet[Any]", dict[int, "weakref.ref[Any]"]]


class _Marks:
    """What each run did with torch, noted by two global hooks while a run is active (the
    registry they write): the optimizers that stepped and the parameters registered (modules
    built). How ``describe`` tells a module the run built or trained from one it only read."""

    def __init__(self) -> None:
        self.current_run: CurrentRun | None = None
        self.failed = False  # something could not be noted: describe cannot tell either
        # The run and optimizer of the last step noted (weakly: noting keeps nothing alive).
        self._last: tuple[Callable[[], Any], Callable[[], Any]] = (_none, _none)
        # Per run: the optimizers that stepped, and the parameters built by id (a tensor's
        # == is elementwise, so no set of tensors), each held weakly.
        self.by_run: weakref.WeakKeyDictionary[Any, _RunMarks] = weakref.WeakKeyDictionary()

    def _of(self, run: Any) -> _RunMarks:
        marks = self.by_run.get(run)
        if marks is None:
            marks = self.by_run[run] = (weakref.WeakSet(), {})
        return marks

    def stepped(self, optimizer: Any, args: Any = None, kwargs: Any = None) -> None:
        """torch's optimizer step post-hook: must never fail the user's ``step()``."""
        try:
            run = self.current_run() if self.current_run is not None else None
            if run is None or (optimizer is self._last[1]() and run is self._last[0]()):
                return  # the same as the previous step: the common case, kept cheapest
            self._last = (weakref.ref(run), weakref.ref(optimizer))
            self._of(run)[0].add(optimizer)
        except Exception:  # describe then records every module the cell names
            self.failed = True
            log.debug("optimizer step not noted", exc_info=True)

    def built(self, module: Any, name: str, param: Any) -> None:
        """torch's parameter registration hook (a module being built); returns None: the
        parameter is registered as it is."""
        try:
            run = self.current_run() if self.current_run is not None else None
            if run is not None and param is not None:
                self._of(run)[1][id(param)] = weakref.ref(param)
        except Exception:
            self.failed = True
            log.debug("parameter not noted", exc_info=True)

    def touched(self, params: Any) -> bool:
        """Whether the calling context's run built any of ``params`` or stepped an optimizer
        holding one; True when the hooks were not on (torch imported inside the run)."""
        run = self.current_run() if self.current_run is not None else None
        if run is None or self.failed:
            return True
        marks = self.by_run.get(run)
        if marks is None:
            return False
        optimizers, built = marks
        params = list(params)
        if any((ref := built.get(id(p))) is not None and ref() is p for p in params):
            return True
        ids = {id(p) for p in params}
        return any(id(p) in ids for o in optimizers for g in o.param_groups for p in g["params"])

    def clear(self) -> None:
        self.current_run = None
        self.failed = False
        self._last = (_none, _none)
        self.by_run.clear()


MARKS = _Marks()


def _jsonable(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_jsonable(v) for v in value)
    return False


def class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def module_facts(module: Any) -> ModelFacts:
    """Architecture and parameter counts of an ``nn.Module`` (trained or not)."""
    params = list(module.parameters())
    return ModelFacts(
        params={
            "class": class_path(type(module)),
            "parameters": sum(p.numel() for p in params),
            "trainable_parameters": sum(p.numel() for p in params if p.requires_grad),
        },
        texts={"architecture": repr(module)},
    )


def optimizer_params(opt: Any) -> dict[str, Any]:
    """The optimizer's class and hyperparameters: one param per key, per group
    (``group1.lr``) only for a key whose value differs between groups."""
    out: dict[str, Any] = {"class": type(opt).__name__}
    groups = opt.param_groups
    keys = [k for k in groups[0] if k not in _IMPLEMENTATION_KEYS]
    for key in keys:
        # The lr the user set: a scheduler moves "lr" and keeps the first one in "initial_lr".
        values = [g.get("initial_lr", g[key]) if key == "lr" else g.get(key) for g in groups]
        values = [v.item() if hasattr(v, "item") else v for v in values]  # a tensor lr
        if not all(v is not None and _jsonable(v) for v in values):
            continue
        if all(v == values[0] for v in values):
            out[key] = values[0]
        else:
            out.update({f"group{i}.{key}": v for i, v in enumerate(values)})
    return out


def scheduler_params(sched: Any) -> dict[str, Any]:
    """The scheduler's class and the constructor arguments it keeps as attributes."""
    out: dict[str, Any] = {"class": type(sched).__name__}
    out.update(init_args(sched, skip=_NOT_SETTINGS)[0])
    return out


def init_args(
    obj: Any, skip: Collection[str] = ("self",), fallback: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """(constructor arguments of ``obj`` found as attributes of the same name, or else in
    ``fallback``, as JSON values; the required ones not found)."""
    try:
        sig = inspect.signature(type(obj).__init__)
    except (TypeError, ValueError):
        return {}, []
    found: dict[str, Any] = {}
    missing: list[str] = []
    for p in sig.parameters.values():
        if p.name in skip or p.kind is p.VAR_KEYWORD:
            continue
        if p.kind is p.VAR_POSITIONAL:  # nn.Sequential(*layers): not found on the module
            missing.append(f"*{p.name}")
            continue
        try:
            value = getattr(obj, p.name, inspect.Parameter.empty)
        except Exception:  # a property that fails: as if absent
            value = inspect.Parameter.empty
        if not _jsonable(value) and fallback is not None and p.name in fallback:
            value = fallback[p.name]
        if value is not inspect.Parameter.empty and _jsonable(value):
            found[p.name] = list(value) if isinstance(value, tuple) else value
        elif p.default is inspect.Parameter.empty:
            missing.append(p.name)
    return found, missing


def describe(name: str, obj: Any) -> ModelFacts | None:
    import torch

    if isinstance(obj, torch.nn.Module):
        return module_facts(obj) if MARKS.touched(obj.parameters()) else None
    if isinstance(obj, torch.optim.Optimizer):
        if not MARKS.touched(p for g in obj.param_groups for p in g["params"]):
            return None
        return ModelFacts(params=optimizer_params(obj), model=False)
    if isinstance(obj, torch.optim.lr_scheduler.LRScheduler):
        opt = obj.optimizer
        if not MARKS.touched(p for g in opt.param_groups for p in g["params"]):
            return None
        return ModelFacts(params=scheduler_params(obj), model=False)
    return None


def state_dict_bytes(state: Mapping[str, Any]) -> bytes:
    """A state_dict as safetensors; tied weights (one storage under two names) are copied,
    since safetensors stores each tensor once and refuses shared ones."""
    import torch
    from safetensors.torch import save

    tensors: dict[str, Any] = {}
    seen: set[int] = set()
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(
                f"state_dict entry {key!r} is a {type(value).__name__}, not a tensor; "
                "safetensors stores tensors only"
            )
        t = value.detach().cpu().contiguous()
        ptr = t.untyped_storage().data_ptr()
        tensors[key] = t.clone() if ptr in seen and t.numel() else t
        seen.add(ptr)
    return bytes(save(tensors))


def save(module: Any) -> tuple[bytes, dict[str, Any]] | None:
    import torch

    if not isinstance(module, torch.nn.Module):
        return None  # an optimizer or scheduler is no model
    return state_dict_bytes(module.state_dict()), module_header(module)


def module_header(module: Any, fallback: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What ``load`` rebuilds ``module``'s class from: its import path and the constructor
    arguments found (attributes of the same name, else ``fallback``)."""
    import torch

    cls = type(module)
    init, missing = init_args(module, fallback=fallback)
    header = {
        "module": cls.__module__,
        "qualname": cls.__qualname__,
        "init": init,
        "missing_init": missing,
        "torch": torch.__version__,
    }
    json.dumps(header)  # every value was checked JSON-able; fail here, not at load
    return header


def _resolve_class(module: str, qualname: str) -> type:
    """The class named by a model file's header; a one-line error saying what to import."""
    from ..exceptions import StoreError

    where = f"{module}.{qualname}"
    if module == "__main__":
        target: Any = sys.modules.get("__main__")
        hint = (
            f"it was defined in a notebook: run the cell defining class {qualname} (the same "
            f"layers) before loading, or move it into a module, import it from there and log "
            f"the model again"
        )
    else:
        hint = f"install or put on sys.path the package providing {where}"
        try:
            target = importlib.import_module(module)
        except ImportError:
            target = None
    for part in qualname.split("."):
        target = getattr(target, part, None)
    if target is None:
        raise StoreError(
            f"Cannot rebuild the torch model: class {where} is not defined here; {hint}"
        )
    import torch

    if not (isinstance(target, type) and issubclass(target, torch.nn.Module)):
        raise StoreError(f"Refusing to load a torch model as {where}: it is not an nn.Module")
    return target


def load_into(module: Any, data: bytes) -> Any:
    """Load weights saved by this flavor into ``module`` (built by the caller), strictly.
    ``data``: a model file as the store holds it, or the safetensors bytes alone."""
    from safetensors.torch import load

    from ..model_format import NATIVE_MAGIC, read_envelope

    if data.startswith(NATIVE_MAGIC):
        data = read_envelope(data, "the torch model")[1]
    module.load_state_dict(load(data), strict=True)
    return module


def load(payload: bytes, header: Mapping[str, Any]) -> Any:
    from ..exceptions import StoreError

    cls = _resolve_class(str(header["module"]), str(header["qualname"]))
    if header.get("missing_init"):
        names = ", ".join(header["missing_init"])
        raise StoreError(
            f"Cannot rebuild the torch model {cls.__qualname__}: its constructor arguments "
            f"({names}) were not attributes of the module when it was logged; keep them as "
            f"self.<name> in __init__ and log it again, or build it yourself and call "
            f"jupyter_mlops.frameworks.torch_flavor.load_into(module, model_file_bytes)"
        )
    init = header.get("init") or {}
    if not isinstance(init, dict) or not all(_jsonable(v) for v in init.values()):
        raise StoreError("The torch model file's constructor arguments are not plain values")
    module = cls(**init)
    try:
        return load_into(module, payload)
    except RuntimeError as e:  # the constructed module's shapes differ from the weights
        first = str(e).strip().splitlines()[-1].strip()
        raise StoreError(
            f"Cannot load the torch model {cls.__qualname__}({init}): {first}; keep every "
            f"constructor argument as self.<name> in __init__ and log it again"
        ) from None


def predict(model: Any, X: Any) -> Any:
    """``model(X)`` as numpy, with ``X`` (a DataFrame, array or tensor) as a float32 tensor."""
    import numpy as np
    import torch

    if isinstance(X, torch.Tensor):
        x = X
    else:
        values = X.to_numpy() if hasattr(X, "to_numpy") else X
        x = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
    first = next(model.parameters(), None)
    if first is not None:
        x = x.to(first.device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        model.train(was_training)
    return out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else out


def install(current_run: CurrentRun) -> Callable[[], None]:
    """torch's global optimizer step and parameter registration hooks note, for each run,
    what it trained and built."""
    from torch.nn.modules.module import register_module_parameter_registration_hook
    from torch.optim.optimizer import register_optimizer_step_post_hook

    MARKS.current_run = current_run
    handles = [
        register_optimizer_step_post_hook(MARKS.stepped),
        register_module_parameter_registration_hook(MARKS.built),
    ]

    def undo() -> None:
        for handle in handles:
            handle.remove()
        MARKS.clear()

    return undo


FLAVOR = Flavor(
    name="torch",
    module="torch",
    supported=SUPPORTED,
    describe=describe,
    save=save,
    load=load,
    install=install,
    predict=predict,
)

__all__ = ["FLAVOR", "MARKS", "describe", "load", "load_into", "predict", "save"]
