"""The record stage of a pipeline run: the honest status of an execution that failed, whether
to retry it, and what follows a firing (notifications queued, retention applied)."""

from __future__ import annotations

import logging
from pathlib import Path

from ..entities import RunStatus
from ..project import Project
from ..store.base import RunStore
from .engine import Ending, Execution
from .result import PipelineResult
from .spec import PipelineSpec

log = logging.getLogger(__name__)


def failure_status(execution: Execution, spec: PipelineSpec, output: Path) -> tuple[RunStatus, str]:
    """The status and error a run ends with when its notebook did not run to the end."""
    where = (
        f"cell {execution.cell_index} of {output}"
        if execution.cell_index is not None
        else str(output)
    )
    if execution.ending is Ending.INTERRUPTED:
        return RunStatus.INTERRUPTED, "interrupted (Ctrl-C) while executing the notebook"
    if execution.ending is Ending.KILLED:  # not the notebook's fault: someone ended its kernel
        return RunStatus.INTERRUPTED, (
            f"interrupted: {execution.evalue} while executing the notebook; partial output in "
            f"{output}"
        )
    if execution.ending is Ending.TIMEOUT:
        return RunStatus.FAILED, (
            f"timed out: the run exceeded its timeout of {spec.timeout}; partial output in {output}"
        )
    if execution.ending is Ending.KERNEL_DIED:
        return RunStatus.FAILED, f"the kernel died: {execution.evalue}; see {output}"
    return RunStatus.FAILED, (
        f"{execution.ename}: {execution.evalue} in {where}\n{execution.traceback or ''}"
    )


def retry_reason(spec: PipelineSpec, execution: Execution) -> str | None:
    """Why this attempt should be retried (kernel death, timeout, a ``retry_on`` error), or None.

    ``retry_on`` names match the failing cell's exception name, with or without its module
    (``ConnectionError`` matches ``requests.exceptions.ConnectionError`` too).
    """
    if execution.ending is Ending.KERNEL_DIED:
        return "the kernel died"
    if execution.ending is Ending.TIMEOUT:
        return f"timed out after {spec.timeout}"
    if execution.ending is Ending.CELL_ERROR and execution.ename and spec.retry_on:
        name = execution.ename
        short = name.rpartition(".")[2]
        if name in spec.retry_on or short in {n.rpartition(".")[2] for n in spec.retry_on}:
            return f"{name} (in retry_on)"
    return None


def follow_up(
    spec: PipelineSpec, result: PipelineResult, store: RunStore, started: float, project: Project
) -> list[str]:
    """Notifications (queued, not sent) and retention after a firing: logged on failure, never
    raised. Returns the ids of the notifications queued."""
    from .notify import notify_run
    from .retention import collect_garbage

    queued: list[str] = []
    try:
        queued = [n.id for n in notify_run(spec, result, store, started, root=project.root)]
    except Exception:  # a notification must never fail the run
        log.exception("pipeline %s: notification failed", spec.name)
    if spec.retention is not None:
        try:
            report = collect_garbage(
                store, keep=spec.retention, outputs_dir=project.outputs_dir, pipeline=spec.name
            )
            log.info("pipeline %s: retention: %s", spec.name, report.describe())
        except Exception:  # retention must never fail the run
            log.exception("pipeline %s: retention failed", spec.name)
    return queued


__all__ = ["failure_status", "follow_up", "retry_reason"]
