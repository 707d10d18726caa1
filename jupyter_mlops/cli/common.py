"""What the command modules of ``jupyter-mlops`` share: option types with bounds, and the
tracker a command reads or writes. :mod:`.cli` builds the parser from the command modules
(:mod:`.cli_pipelines`, :mod:`.cli_monitor`, :mod:`.cli_store`, :mod:`.cli_notify`); they import
this module, never :mod:`.cli`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .. import bounds
from ..codec import parse_moment
from ..exceptions import ValidationError


# Option types with bounds (jupyter_mlops.bounds): a value out of range is a usage error
# (exit 2) naming the option and the limit, before any core call.
def integer(option: str, lo: int = bounds.INT64_MIN, hi: int = bounds.INT64_MAX) -> Any:
    return _option_type(lambda text: bounds.parse_int(text, option, lo, hi))


def number(option: str, lo: float | None = None, hi: float | None = None) -> Any:
    return _option_type(lambda text: bounds.parse_float(text, option, lo, hi))


def moment(option: str) -> Any:
    """An ISO-8601 time or epoch seconds, as epoch seconds."""
    return _option_type(lambda value: parse_moment(value, option))


def text(option: str, limit: int = bounds.MAX_KEY_LENGTH) -> Any:
    return _option_type(lambda value: bounds.check_key(value, option, limit))


def pipeline_name(option: str, what: str = "pipeline") -> Any:
    """A pipeline or monitor name: the name rule, at most 128 characters (it names a file)."""
    return _option_type(lambda value: bounds.check_name(value, option, what))


def spec_ref(option: str) -> Any:
    """A pipeline name, or the path of its YAML spec (``.yaml``/``.yml``, or with a ``/``)."""

    def parse(value: str) -> str:
        if value.endswith((".yaml", ".yml")) or "/" in value:
            return bounds.check_key(value, option, 4096)
        return bounds.check_name(value, option)

    return _option_type(parse)


def _option_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(value: str) -> Any:
        try:
            return parse(value)
        except ValidationError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    return convert


def command_tracker(args: argparse.Namespace) -> Any:
    """The store's tracker for this command (``--store`` already applied by ``main``)."""
    from ..tracking import default_tracker

    # read-only commands never create a store
    return default_tracker(create=not getattr(args, "read_only", False))


__all__ = ["command_tracker", "integer", "number", "pipeline_name", "spec_ref", "text"]
