"""A module's import, followed by a call-back: how a meta-path finder of ours acts on a library
the user imports while a cell or run is active (an RNG library to seed or record, a training
framework to hook). The finder delegates the search to the normal path finder and only wraps
the loader, so the module loads exactly as it would."""

from __future__ import annotations

import importlib.machinery
from collections.abc import Callable
from typing import Any


def spec_calling_back(name: str, path: Any, after: Callable[[Any], None]) -> Any:
    """The spec the path finder gives for ``name``, its loader calling ``after(module)`` once
    the module has executed (None when no such module exists)."""
    spec = importlib.machinery.PathFinder.find_spec(name, path)
    loader = getattr(spec, "loader", None)
    if spec is None or loader is None or not hasattr(loader, "exec_module"):
        return spec
    run_module = loader.exec_module

    def exec_module(module: Any) -> None:
        run_module(module)
        after(module)

    loader.exec_module = exec_module
    return spec


__all__ = ["spec_calling_back"]
