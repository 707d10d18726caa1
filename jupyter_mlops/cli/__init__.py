"""The ``jupyter-mlops`` command: one module per command group over the core API."""

from __future__ import annotations

from .app import build_parser, main, run

__all__ = ["build_parser", "main", "run"]
