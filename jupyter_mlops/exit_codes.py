"""The exit codes of the ``jupyter-mlops`` command: the one table.

It lives here rather than in :mod:`.cli` because :attr:`PipelineResult.exit_code
<jupyter_mlops.pipeline.runner.PipelineResult.exit_code>` gives scripts (and an Airflow task
running a pipeline) the same code, and the core never imports a front-end.
"""

from __future__ import annotations

from enum import IntEnum

from .entities import PipelineOutcome


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # execution failed, an internal error, or a conflict (already running)
    USAGE = 2  # bad option or parameter, unknown run or model, notebook changed since promote
    GATE = 3  # a blocking gate failed
    DIFFERS = 4  # `reproduce` found differences (verdict `differs` or `inputs changed`)
    NOT_REPLAYED = 5  # `reproduce` could not re-execute the run (verdict `failed`)
    INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


FOR_OUTCOME: dict[PipelineOutcome, ExitCode] = {
    PipelineOutcome.PASSED: ExitCode.OK,
    PipelineOutcome.GATE_FAILED: ExitCode.GATE,
    PipelineOutcome.FAILED: ExitCode.FAILED,
    PipelineOutcome.INTERRUPTED: ExitCode.INTERRUPTED,
    PipelineOutcome.MISSED: ExitCode.OK,
    PipelineOutcome.SKIPPED: ExitCode.OK,
    PipelineOutcome.ERROR: ExitCode.FAILED,
}


def exit_code(outcome: PipelineOutcome) -> int:
    return int(FOR_OUTCOME[outcome])


_MEANING = {
    ExitCode.OK: "ok",
    ExitCode.FAILED: "execution failed",
    ExitCode.USAGE: "usage error",
    ExitCode.GATE: "a gate failed",
    ExitCode.DIFFERS: "a reproduction differs",
    ExitCode.NOT_REPLAYED: "a reproduction failed to re-execute",
    ExitCode.INTERRUPTED: "interrupted",
}


def describe() -> str:
    """The table in one line, for ``--help``."""
    return "exit codes: " + ", ".join(f"{int(c)} {_MEANING[c]}" for c in ExitCode)
