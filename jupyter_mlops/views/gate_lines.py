"""Gate results as the run detail shows them: the most urgent first, each with what it
measured in its own unit, and the one word the run's header says about them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Literal

from ..entities import GateResult, GateStatus
from ..validation.report import observed_text

GateOutcome = Literal["passed", "warned", "failed"]

# Failed gates first, then warned, passed and skipped: what needs a look comes first.
_ORDER = {GateStatus.FAIL: 0, GateStatus.WARN: 1, GateStatus.PASS: 2, GateStatus.SKIP: 3}


@dataclass(frozen=True)
class GateLine(GateResult):
    """A gate result with ``observed_text``: ``observed`` for people, in the unit of the
    threshold ('2d3h' next to '<= 7d', '4.17%', '0.6434'); ``observed`` stays the raw value."""

    observed_text: str = ""

    @classmethod
    def of(cls, result: GateResult) -> GateLine:
        raw = {f.name: getattr(result, f.name) for f in fields(GateResult)}
        return cls(**raw, observed_text=observed_text(result))


def gate_lines(results: Iterable[GateResult]) -> tuple[GateLine, ...]:
    """``results`` as lines, failed first, then warned, passed and skipped (stable within)."""
    return tuple(sorted((GateLine.of(r) for r in results), key=lambda r: _ORDER[r.status]))


def gate_outcome(results: Iterable[GateResult]) -> GateOutcome | None:
    """'failed' when a gate failed, else 'warned' when one warned, else 'passed'; None
    without gates."""
    statuses = {r.status for r in results}
    if not statuses:
        return None
    if GateStatus.FAIL in statuses:
        return "failed"
    return "warned" if GateStatus.WARN in statuses else "passed"
