"""What the command modules of ``jupyter-mlops`` share: option types with bounds, the parent
parsers of shared options, the tracker a command reads or writes, and ``--json`` or text output.
:mod:`.app` builds the parser from the command modules; they import this module, never
:mod:`.app`.
"""

from __future__ import annotations

import argparse
from typing import Any

from .. import bounds
from ..codec import parse_moment
from ..exceptions import ValidationError


# Option types with bounds (jupyter_mlops.bounds): a value out of range is a usage error
# (exit 2, or the magic's UsageError) naming the option and the limit, before any core call.
# Values that compare equal when they accept the same input (closures never do), so
# tests/test_magic_grammar.py can hold the magic's grammar to the CLI's. Plain classes, not
# dataclasses: the magic imports this module at %load_ext, and a dataclass costs ~1 ms to define.
class _OptionType:
    __slots__ = ("limits", "option")

    def __init__(self, option: str, *limits: Any) -> None:
        self.option = option
        self.limits = limits

    def __call__(self, value: str) -> Any:
        try:
            return self.parse(value)
        except ValidationError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    def parse(self, value: str) -> Any:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, _OptionType)
            and (self.option, self.limits) == (other.option, other.limits)
        )

    def __hash__(self) -> int:  # argparse looks a type up in its registry: it must hash
        return hash((type(self), self.option, self.limits))

    def __repr__(self) -> str:
        return f"{type(self).__name__}{(self.option, *self.limits)!r}"


class Integer(_OptionType):
    def parse(self, value: str) -> int:
        return bounds.parse_int(value, self.option, *self.limits)


class Number(_OptionType):
    def parse(self, value: str) -> float:
        return bounds.parse_float(value, self.option, *self.limits)


class Moment(_OptionType):
    """An ISO-8601 time or epoch seconds, as epoch seconds."""

    def parse(self, value: str) -> float:
        return parse_moment(value, self.option)


class Text(_OptionType):
    def parse(self, value: str) -> str:
        return bounds.check_key(value, self.option, *self.limits)


class Name(_OptionType):
    """A pipeline or monitor name: the name rule, at most 128 characters (it names a file)."""

    def parse(self, value: str) -> str:
        return bounds.check_name(value, self.option, *self.limits)


class SpecRef(_OptionType):
    """A pipeline name, or the path of its YAML spec (``.yaml``/``.yml``, or with a ``/``)."""

    def parse(self, value: str) -> str:
        if value.endswith((".yaml", ".yml")) or "/" in value:
            return bounds.check_key(value, self.option, 4096)
        return bounds.check_name(value, self.option)


def integer(option: str, lo: int = bounds.INT64_MIN, hi: int = bounds.INT64_MAX) -> Any:
    return Integer(option, lo, hi)


def number(option: str, lo: float | None = None, hi: float | None = None) -> Any:
    return Number(option, lo, hi)


def moment(option: str) -> Any:
    """An ISO-8601 time or epoch seconds, as epoch seconds."""
    return Moment(option)


def text(option: str, limit: int = bounds.MAX_KEY_LENGTH) -> Any:
    return Text(option, limit)


def pipeline_name(option: str, what: str = "pipeline") -> Any:
    return Name(option, what)


def spec_ref(option: str) -> Any:
    return SpecRef(option)


def pipelines_dir_option() -> argparse.ArgumentParser:
    """The parent parser of the commands that read pipeline specs."""
    pl = argparse.ArgumentParser(add_help=False)
    pl.add_argument(
        "--pipelines-dir",
        help="Where pipeline specs live (default: <project>/pipelines, or the pipelines_dir "
        "setting)",
    )
    return pl


def monitors_dir_option() -> argparse.ArgumentParser:
    """The parent parser of the commands that schedule monitors too."""
    md = argparse.ArgumentParser(add_help=False)
    md.add_argument(
        "--monitors-dir",
        help="where monitor specs live (default: <project>/monitors, or the monitors_dir setting)",
    )
    return md


def command_project(args: argparse.Namespace) -> Any:
    """The project of this command, found once: ``--store``, ``--pipelines-dir`` and
    ``--monitors-dir`` are the argument level of those settings."""
    project = getattr(args, "project", None)
    if project is None:
        from ..project import find_project

        project = find_project(
            store=getattr(args, "store", None),
            pipelines_dir=getattr(args, "pipelines_dir", None),
            monitors_dir=getattr(args, "monitors_dir", None),
        )
        args.project = project
    return project


def command_tracker(args: argparse.Namespace) -> Any:
    """The tracker of this command's project, made the default one (what the command calls
    records there too)."""
    from ..tracking.fluent import use_project

    # read-only commands never create a store
    return use_project(command_project(args), create=not getattr(args, "read_only", False))


def out(args: argparse.Namespace, data: Any, text: str) -> None:
    """``--json``: the value by the package's one encoder (a view's is the REST body)."""
    from ..views import encode

    print(encode(data, indent=2) if getattr(args, "json", False) else text)


def print_json(value: Any) -> None:
    """What ``--json`` prints: the view's value, as the REST API sends it."""
    from ..views import encode

    print(encode(value, indent=2))


def clock() -> Any:
    """Epoch seconds now, or at ``$JUPYTER_MLOPS_NOW`` (tests): when pins start and expire."""
    from ..schedule.scheduler import scheduler_clock

    now = scheduler_clock()
    return lambda: now().timestamp()


__all__ = [
    "print_json",
    "Integer",
    "Name",
    "Number",
    "SpecRef",
    "Text",
    "clock",
    "command_project",
    "command_tracker",
    "integer",
    "moment",
    "monitors_dir_option",
    "number",
    "out",
    "pipeline_name",
    "pipelines_dir_option",
    "spec_ref",
    "text",
]
