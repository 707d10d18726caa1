"""Promoted pipelines: the list (``GET pipelines``, ``jupyter-mlops pipelines list``) and one
pipeline (``GET pipelines/NAME``, ``jupyter-mlops pipelines show NAME``).

A pipeline's runs are its *real* runs, newest first: a reproduction re-executes an old run and
is never the pipeline's last status. The pipelines are listed before any store exists (right
after ``promote``), with no runs yet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..codec import from_jsonable
from ..entities import GateResult, RunRow, ScheduleEvent
from ..exceptions import StoreNotFoundError, ValidationError
from .pipeline_form import (
    ParameterInfo,
    named_pipeline,
    next_firings,
    parameter_info,
    schedule_in_words,
)
from .runs import runs_records
from .values import View

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..tracking import Tracker

T = TypeVar("T")


@dataclass(frozen=True)
class PipelineRun(RunRow):
    """A run of the pipeline: a runs-table row, with its gate results on the detail page."""

    gate_results: tuple[GateResult, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        # A runs-table row, plus gate_results only on the detail page (None: left out).
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.gate_results is None:
            del d["gate_results"]
        return d


@dataclass(frozen=True)
class PipelineSummary(View):
    """A pipeline: its schedule (as cron, in words, and the next firings as UTC instants), its
    parameters as form fields, and its last real runs, newest first."""

    name: str
    notebook: str | None
    schedule: str | None
    next_fire: str | None  # ISO-8601
    parameters: tuple[ParameterInfo, ...]
    gates: int
    last_runs: tuple[PipelineRun, ...]
    error: str | None = None  # a spec that does not load
    schedule_text: str | None = None  # the schedule in words, with its time zone
    timezone: str | None = None  # the IANA zone the schedule is read in
    next_fires: tuple[dt.datetime, ...] = ()


@dataclass(frozen=True)
class Pipelines(View):
    pipelines: tuple[PipelineSummary, ...]


@dataclass(frozen=True)
class PipelineDetail(PipelineSummary):
    spec: dict[str, Any] | None = None  # the YAML spec as written: free-form
    schedule_log: tuple[ScheduleEvent, ...] = ()


def stored(open_tracker: Callable[[], T]) -> T | None:
    """The tracker ``open_tracker`` opens, or None while no store exists (a pipeline was
    promoted and never run): the pipeline views then list no runs, not a 404."""
    try:
        return open_tracker()
    except StoreNotFoundError:
        return None


def _recent_runs(
    tracker: Tracker | None, name: str, limit: int, gates: bool
) -> tuple[PipelineRun, ...]:
    if tracker is None:
        return ()
    # A reproduction re-runs an old run: not the pipeline's history, nor its last status.
    ids = tracker.store.search_run_ids(
        where=f"experiment == {name!r} and kind == 'pipeline' and tags.reproduces is None",
        limit=limit,
    )
    if not ids:
        return ()
    frame = tracker.runs(where=f"id in {ids!r}", order_by="-started", include_reproductions=True)
    out = []
    for record in runs_records(frame):
        row = from_jsonable(record, RunRow)
        results = tuple(tracker.store.gate_results(row.id)) if gates else None
        out.append(PipelineRun(**{f.name: getattr(row, f.name) for f in fields(RunRow)},
                               gate_results=results))  # fmt: skip
    return tuple(out)


def _summary(
    tracker: Tracker | None,
    pipelines_dir: Path,
    name: str,
    now: dt.datetime,
    last: int,
    detail: bool,
) -> PipelineDetail:
    from ..pipeline.spec import load_pipeline

    try:
        spec = load_pipeline(name, pipelines_dir)
    except ValidationError as e:
        return PipelineDetail(name, None, None, None, (), 0, (), error=str(e))
    d = spec.to_dict()
    cron = spec.cron
    upcoming = next_firings(cron, now) if cron else ()
    log = tracker.store.schedule_log(pipeline=name, limit=20) if detail and tracker else ()
    return PipelineDetail(
        name=spec.name,
        notebook=str(d.get("notebook")),
        schedule=spec.schedule,
        next_fire=upcoming[0].isoformat() if upcoming else None,
        parameters=tuple(parameter_info(p) for p in spec.parameters),
        gates=len(spec.gates),
        last_runs=_recent_runs(tracker, spec.name, last, gates=detail),
        schedule_text=schedule_in_words(cron) if cron else None,
        timezone=cron.timezone if cron else None,
        next_fires=upcoming,
        spec=d if detail else None,
        schedule_log=tuple(log),
    )


def pipeline_list(
    tracker: Tracker | None, pipelines_dir: Path, now: dt.datetime | None = None
) -> Pipelines:
    """Every promoted pipeline with its schedule, next firings and last 5 real runs
    (``tracker`` None: no store yet, so no runs)."""
    from ..pipeline.spec import list_pipelines

    now = now or dt.datetime.now(dt.timezone.utc)
    found = []
    for name in list_pipelines(pipelines_dir):
        s = _summary(tracker, pipelines_dir, name, now, 5, detail=False)
        found.append(
            PipelineSummary(**{f.name: getattr(s, f.name) for f in fields(PipelineSummary)})
        )
    return Pipelines(tuple(found))


def pipeline_detail(
    tracker: Tracker | None, pipelines_dir: Path, name: str, now: dt.datetime | None = None
) -> PipelineDetail:
    """One pipeline: its spec, next firings, last 20 real runs with their gate results (its
    run history), and the schedule log (``tracker`` None: no store yet)."""
    named_pipeline(name, pipelines_dir)
    now = now or dt.datetime.now(dt.timezone.utc)
    found = _summary(tracker, pipelines_dir, name, now, 20, detail=True)
    if found.error:
        raise ValidationError(found.error)
    return found
