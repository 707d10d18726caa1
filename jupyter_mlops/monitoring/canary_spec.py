"""A canary's declared plan, parsed strictly: its steps (percent of traffic), its guardrails
(``error_rate<1%``, ``p99<50ms``), its look interval and its sequential design (metric,
minimum effect, alpha, beta, minimum labels). Bad text is a one-line ValidationError."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..cron.durations import parse_duration
from ..exceptions import ValidationError
from .sequential import Design

DEFAULT_STEPS = (2.0, 5.0, 10.0, 25.0, 50.0, 100.0)
MAX_STEPS = 20
MIN_INTERVAL = 1.0  # seconds
MAX_INTERVAL = 30 * 86400.0
GUARD_KINDS = {"error_rate": "%", "p50": "ms", "p99": "ms"}
_GUARD = re.compile(r"^\s*(error_rate|p50|p99)\s*<\s*(\d+(?:\.\d+)?)\s*(%|ms|s)\s*$")
_GUARD_HELP = "write error_rate<1%, p50<20ms or p99<50ms"


def parse_steps(text: str | list[Any] | tuple[Any, ...]) -> tuple[float, ...]:
    """``2,5,10,25,50,100`` -> the percents; increasing, in (0, 100], ending at 100."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    if not parts or len(parts) > MAX_STEPS:
        raise ValidationError(f"--steps needs 1 to {MAX_STEPS} percents, e.g. 2,5,10,25,50,100")
    steps: list[float] = []
    for part in parts:
        try:
            value = float(str(part).strip().rstrip("%"))
        except ValueError:
            raise ValidationError(
                f"--steps: {part!r} is not a percent, e.g. 2,5,10,25,50,100"
            ) from None
        if not math.isfinite(value) or not 0 < value <= 100:
            raise ValidationError(f"--steps: {part!r} is outside (0, 100]")
        if steps and value <= steps[-1]:
            raise ValidationError(f"--steps must increase: {value:g} comes after {steps[-1]:g}")
        steps.append(value)
    if steps[-1] != 100:
        raise ValidationError(f"--steps must end at 100 (the candidate takes all traffic); got "
                              f"{steps[-1]:g}")  # fmt: skip
    return tuple(steps)


@dataclass(frozen=True)
class Guard:
    """A guardrail: the candidate arm's ``kind`` (error_rate, p50, p99) must stay below
    ``limit`` (a fraction for error_rate, seconds for a latency)."""

    kind: str
    limit: float

    def describe(self) -> str:
        if self.kind == "error_rate":
            return f"error_rate<{self.limit * 100:g}%"
        return f"{self.kind}<{self.limit * 1000:g}ms"


def parse_guard(text: str) -> Guard:
    """``error_rate<1%`` or ``p99<50ms`` (``s`` also taken for a latency)."""
    found = _GUARD.match(text) if isinstance(text, str) else None
    if found is None:
        raise ValidationError(f"--guard {text!r} is not a guardrail; {_GUARD_HELP}")
    kind, number, unit = found.group(1), float(found.group(2)), found.group(3)
    if number <= 0:
        raise ValidationError(f"--guard {text!r}: the limit must be above 0")
    if kind == "error_rate":
        if unit != "%" or number > 100:
            raise ValidationError(f"--guard {text!r}: an error rate is a percent up to 100%")
        return Guard(kind, number / 100)
    if unit == "%":
        raise ValidationError(f"--guard {text!r}: a latency is in ms or s, e.g. p99<50ms")
    return Guard(kind, number / 1000 if unit == "ms" else number)


@dataclass(frozen=True)
class CanaryPlan:
    """Everything a canary declares before it starts (stored as its ``spec``)."""

    steps: tuple[float, ...] = DEFAULT_STEPS
    guards: tuple[Guard, ...] = ()
    interval: float = 3600.0
    design: Design = field(default_factory=Design)

    def to_dict(self) -> dict[str, Any]:
        d = self.design
        return {
            "steps": list(self.steps),
            "guards": [g.describe() for g in self.guards],
            "interval": self.interval,
            "metric": d.metric,
            "effect": d.effect,
            "alpha": d.alpha,
            "beta": d.beta,
            "min_labels": d.min_labels,
        }

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> CanaryPlan:
        design = Design(
            spec.get("metric", "accuracy"),
            float(spec.get("effect", 0.02)),
            float(spec.get("alpha", 0.05)),
            float(spec.get("beta", 0.2)),
            int(spec.get("min_labels", 200)),
        )
        return cls(
            parse_steps(spec.get("steps", list(DEFAULT_STEPS))),
            tuple(parse_guard(g) for g in spec.get("guards", [])),
            parse_interval(spec.get("interval", 3600.0)),
            design,
        )


def parse_interval(value: str | float) -> float:
    seconds = parse_duration(value)
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ValidationError(f"--interval {value!r} must be between 1s and 30d, e.g. 1h")
    return seconds


def make_plan(
    steps: str | list[Any] = "2,5,10,25,50,100",
    guards: list[str] | tuple[str, ...] = (),
    interval: str | float = "1h",
    *,
    metric: str = "accuracy",
    effect: float = 0.02,
    alpha: float = 0.05,
    beta: float = 0.2,
    min_labels: int = 200,
) -> CanaryPlan:
    """A plan from what a user typed (CLI, REST), each part checked with a one-line error."""
    design = Design(metric, effect, alpha, beta, min_labels)
    return CanaryPlan(
        parse_steps(steps), tuple(parse_guard(g) for g in guards), parse_interval(interval), design
    )


__all__ = ["CanaryPlan", "Guard", "make_plan", "parse_guard", "parse_interval", "parse_steps"]
