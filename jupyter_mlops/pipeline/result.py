"""What one pipeline run came to: its run, how the execution ended, the gates, the model.

Below the runner, which builds it, and what reads it (notifications, sweeps, the CLI). Every
value here is frozen: each stage of the runner returns its piece (an :class:`Attempt`, with the
:class:`Verdict` of its gates), and :func:`pipeline_result` assembles them once, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..entities import ModelVersion, PipelineOutcome, Run
from ..exit_codes import exit_code
from ..validation.gates import GateResult, gates_passed
from .engine import Ending, Execution


@dataclass(frozen=True)
class Verdict:
    """What the gates found on a run that executed, and what became of its model."""

    gates: tuple[GateResult, ...] = ()
    notes: tuple[str, ...] = ()
    model: ModelVersion | None = None
    blessed: bool = False
    held: str | None = None  # why a model that passed its gates was not blessed
    report: Path | None = None


@dataclass(frozen=True)
class Attempt:
    """One execution of the notebook as a run of its own; ``verdict`` is None when it failed."""

    run: Run
    execution: Execution
    output_notebook: Path
    verdict: Verdict | None = None


@dataclass(frozen=True)
class PipelineResult:
    # The lists are built whole by the runner (pipeline_result) and never changed afterwards;
    # they stay lists, as callers compare them with lists.
    run: Run
    execution: Execution
    output_notebook: Path
    gates: list[GateResult] = field(default_factory=list)
    model: ModelVersion | None = None
    blessed: bool = False
    report: Path | None = None
    notes: list[str] = field(default_factory=list)
    attempts: int = 1  # how many runs this firing took (retries included)
    held: str | None = None  # why a model that passed its gates was not blessed (a pin, a sweep)
    notifications: list[str] = field(default_factory=list)  # outbox ids queued for this run

    @property
    def outcome(self) -> PipelineOutcome:
        if self.execution.ending in (Ending.INTERRUPTED, Ending.KILLED):
            return PipelineOutcome.INTERRUPTED
        if not self.execution.succeeded:
            return PipelineOutcome.FAILED
        return PipelineOutcome.PASSED if gates_passed(self.gates) else PipelineOutcome.GATE_FAILED

    @property
    def exit_code(self) -> int:
        """The ``jupyter-mlops run`` exit code of this outcome, for scripts."""
        return exit_code(self.outcome)


def pipeline_result(
    attempt: Attempt, attempts: int, notifications: list[str] | None = None
) -> PipelineResult:
    """The result of a firing: its last attempt, how many attempts it took, what was queued."""
    verdict = attempt.verdict or Verdict()
    return PipelineResult(
        run=attempt.run,
        execution=attempt.execution,
        output_notebook=attempt.output_notebook,
        gates=list(verdict.gates),
        model=verdict.model,
        blessed=verdict.blessed,
        report=verdict.report,
        notes=list(verdict.notes),
        attempts=attempts,
        held=verdict.held,
        notifications=list(notifications or []),
    )


__all__ = ["Attempt", "PipelineResult", "Verdict", "pipeline_result"]
