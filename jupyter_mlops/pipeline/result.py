"""What one pipeline run came to: its run, how the execution ended, the gates, the model.

Below the runner, which builds it, and what reads it (notifications, sweeps, the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..entities import ModelVersion, PipelineOutcome, Run
from ..exit_codes import exit_code
from ..validation.gates import GateResult, gates_passed
from .engine import Ending, Execution


@dataclass
class PipelineResult:
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


__all__ = ["PipelineResult"]
