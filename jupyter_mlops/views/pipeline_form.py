"""What a front-end needs to offer a pipeline's *Run now* and to show its schedule: each
declared parameter as a form field (its input kind, choices, bounds and default, from the
parameter's type), and the schedule in words with its next firings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .. import bounds
from ..exceptions import NotFoundError, ParameterError, ValidationError
from .values import View

if TYPE_CHECKING:
    from pathlib import Path

    from ..cron import ZonedSchedule
    from ..pipeline.param_types import TypeExpr
    from ..pipeline.params import Parameter
    from ..pipeline.spec import PipelineSpec

# int, float, bool, str: one value of that type; choice: one of ``choices`` (a Literal);
# literal: any other type, typed as a Python literal as with ``run -p``; derived: computed by
# the notebook unless given.
InputKind = Literal["int", "float", "bool", "str", "choice", "literal", "derived"]
NEXT_FIRINGS = 3  # how many upcoming firings a pipeline shows


@dataclass(frozen=True)
class ParameterInfo(View):
    """A declared parameter: typed with a default, or computed from an ``expression``; with
    what a form needs to ask for it (``input``, ``choices``, ``nullable``, and the bounds
    ``minimum``/``maximum`` a number must keep)."""

    name: str
    help: str | None = None
    type: str | None = None
    default: Any = None  # of the declared type: free-form
    expression: str | None = None
    input: InputKind = "literal"
    choices: tuple[Any, ...] = ()  # the values a choice takes: free-form
    nullable: bool = False  # None is a value it accepts
    minimum: int | None = None
    maximum: int | None = None

    def to_dict(self) -> dict[str, Any]:
        # As the spec writes it: a computed parameter has no type, and help only when given.
        return {k: v for k, v in super().to_dict().items() if v is not None or k not in _SPEC_KEYS}


_SPEC_KEYS = ("help", "type", "expression")  # left out when None (schema.OMITTED_WHEN_NONE)


def _input_of(t: TypeExpr) -> tuple[InputKind, tuple[Any, ...], bool]:
    """(input kind, choices, nullable) of a parameter type: ``X | None`` is an optional X."""
    arms = t.args if t.origin == "union" else (t,)
    nullable = any(a.origin == "None" for a in arms)
    rest = [a for a in arms if a.origin != "None"]
    if len(rest) != 1:
        return "literal", (), nullable
    (one,) = rest
    if one.origin in ("int", "float", "bool", "str"):
        return one.origin, (), nullable  # type: ignore[return-value]
    if one.origin == "literal":
        return "choice", one.values, nullable or None in one.values
    return "literal", (), nullable


def parameter_info(p: Parameter) -> ParameterInfo:
    """The form field of a declared parameter."""
    from ..pipeline.param_types import parse_type

    d = p.to_dict()
    if p.derived:
        return ParameterInfo(**d, input="derived")
    kind, choices, nullable = _input_of(parse_type(p.type))
    lo, hi = (bounds.INT64_MIN, bounds.INT64_MAX) if kind == "int" else (None, None)
    return ParameterInfo(
        **d, input=kind, choices=choices, nullable=nullable, minimum=lo, maximum=hi
    )


def check_bounds(params: Iterable[Parameter], values: Mapping[str, Any]) -> None:
    """Refuse an integer parameter outside 64 bits (the bound of every integer the project
    takes), before a run starts; the types are checked by the runner's coercion."""
    for p in params:
        value = values.get(p.name)
        if p.derived or isinstance(value, bool) or not isinstance(value, int):
            continue
        if not bounds.INT64_MIN <= value <= bounds.INT64_MAX:
            raise ParameterError(
                f"Parameter '{p.name}' must be from {bounds.INT64_MIN} to {bounds.INT64_MAX} "
                f"(64 bits), got {value}",
                name=p.name,
                value=value,
            )


def schedule_in_words(cron: ZonedSchedule) -> str:
    """'At 03:00, every day (UTC)': the cron expression in English, in its time zone."""
    from cron_descriptor import (
        CasingTypeEnum,
        ExpressionDescriptor,
        FormatException,
        MissingFieldException,
        Options,
        WrongArgumentException,
    )

    from ..cron import ALIASES

    expr = ALIASES.get(cron.expr.lower(), cron.expr)
    options = Options()
    options.use_24hour_time_format = True
    options.verbose = True
    options.casing_type = CasingTypeEnum.Sentence
    try:
        words = ExpressionDescriptor(expr, options).get_description()
    except (FormatException, MissingFieldException, WrongArgumentException):
        # A schedule our parser took and the describer does not: said as written.
        words = f"cron '{cron.expr}'"
    return f"{words} ({cron.timezone})"


def next_firings(cron: ZonedSchedule, now: dt.datetime) -> tuple[dt.datetime, ...]:
    """The next firings (UTC instants) strictly after ``now``."""
    return tuple(cron.upcoming(now, NEXT_FIRINGS))


@dataclass(frozen=True)
class CheckedParams(View):
    """Parameter values a run of ``pipeline`` would take, converted to their declared types:
    what a form checks before *Run now*, which checks them again."""

    pipeline: str
    params: dict[str, Any]  # by name, of each parameter's type: free-form


def check_run_params(
    pipelines_dir: Path, name: str, params: Mapping[str, Any] | None = None
) -> CheckedParams:
    """The checks *Run now* makes on its parameters, without starting a run: a bad value is
    a ParameterError with the one line the run would refuse it with."""
    from ..pipeline.params import coerce_params

    spec = named_pipeline(name, pipelines_dir)
    # As launch_pipeline_run reads a request's values: text as typed, the rest as a literal.
    raw = {str(k): v if isinstance(v, str) else repr(v) for k, v in (params or {}).items()}
    values = coerce_params(spec.parameters, raw, None, source=f"pipeline '{spec.name}'")
    check_bounds(spec.parameters, values)
    return CheckedParams(spec.name, values)


def named_pipeline(name: str, pipelines_dir: Path) -> PipelineSpec:
    """The spec of pipeline ``name``; NotFoundError (with a did-you-mean) for an unknown one,
    ValidationError for one that does not load."""
    from ..pipeline.spec import list_pipelines, load_pipeline

    if name not in list_pipelines(pipelines_dir):
        try:
            load_pipeline(name, pipelines_dir)  # for its did-you-mean message
        except ValidationError as e:
            raise NotFoundError(str(e)) from None
    return load_pipeline(name, pipelines_dir)
