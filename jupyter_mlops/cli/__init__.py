"""The ``jupyter-mlops`` command: one module per command group over the core API.

``build_parser``, ``main`` and ``run`` (:mod:`.app`) are imported on first use: the ``%mlops``
magic builds its parsers with :mod:`.runs` and must not import every command group with them
(``%load_ext`` time)."""

from __future__ import annotations

from typing import Any

__all__ = ["build_parser", "main", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
