"""Scheduling: run promoted pipelines when their cron expression fires.

:mod:`.firings` holds the pure :func:`~.firings.due`, :mod:`.lease` the lease a firing runs
under, :mod:`.clock` the (injectable) clock, :mod:`.status` what is reported, and
:mod:`.scheduler` the loop; cron syntax itself is :mod:`jupyter_mlops.cron` (a pipeline spec
validates its schedule with it, and the spec sits below this package).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "Due": "firings",
    "Missed": "firings",
    "Scheduler": "scheduler",
    "due": "firings",
    "pipeline_lock": "scheduler",
    "scheduler_clock": "clock",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
