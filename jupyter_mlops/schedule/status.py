"""What the scheduler reports: its status (next firings and log) and one line per schedule."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..entities import ScheduleEvent
from ..monitoring.spec import MonitorSpec
from ..pipeline.spec import PipelineSpec

UTC = dt.timezone.utc


@dataclass(frozen=True)
class SchedulerStatus:
    """What ``jupyter-mlops scheduler --status`` shows: next firings, then the latest log rows."""

    next: dict[str, dt.datetime]  # pipeline -> next firing time (UTC), by name
    log: list[ScheduleEvent]  # newest first


@dataclass(frozen=True)
class ScheduleInfo:
    """One line of ``jupyter-mlops schedule list``: a scheduled pipeline and how it is doing."""

    pipeline: str
    cron: str
    timezone: str
    paused: bool
    catchup: str
    next: list[dt.datetime]  # UTC instants
    last_status: str | None  # the outcome of its latest firing (passed, gate_failed, ...)
    last_run: str | None
    last_at: dt.datetime | None
    gates: str | None  # passed | failed | None: the gate outcome of the latest run
    kind: str = "pipeline"  # pipeline | monitor (then `pipeline` is the monitor's name)


def schedule_info(
    name: str,
    kind: str,
    spec: PipelineSpec | MonitorSpec,
    paused: bool,
    last: ScheduleEvent | None,
    gates: str | None,
    count: int,
    now: dt.datetime,
) -> ScheduleInfo:
    """The line of a scheduled pipeline or monitor, from its spec and its latest firing."""
    assert spec.cron is not None
    return ScheduleInfo(
        pipeline=name,
        cron=spec.cron.expr,
        timezone=spec.timezone or "UTC",
        paused=paused,
        catchup=spec.catchup if isinstance(spec, PipelineSpec) else "latest",
        next=[] if paused else spec.cron.upcoming(now, count),
        last_status=last.outcome if last else None,
        last_run=last.run_id if last else None,
        last_at=last.scheduled_for if last else None,
        gates=gates,
        kind=kind,
    )
