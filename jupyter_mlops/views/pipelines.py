"""Promoted pipelines: the list (``GET pipelines``, ``jupyter-mlops pipelines list``) and one
pipeline (``GET pipelines/NAME``, ``jupyter-mlops pipelines show NAME``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..codec import from_jsonable
from ..entities import GateResult, RunRow, ScheduleEvent
from ..exceptions import NotFoundError, ValidationError
from .runs import runs_records
from .values import View

if TYPE_CHECKING:
    from ..tracking import Tracker


@dataclass(frozen=True)
class ParameterInfo(View):
    """A declared parameter: typed with a default, or computed from an ``expression``."""

    name: str
    help: str | None = None
    type: str | None = None
    default: Any = None  # of the declared type: free-form
    expression: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # As the spec writes it: a computed parameter has no type and default.
        return {k: v for k, v in super().to_dict().items() if v is not None or k == "default"}


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
    name: str
    notebook: str | None
    schedule: str | None
    next_fire: str | None  # ISO-8601
    parameters: tuple[ParameterInfo, ...]
    gates: int
    last_runs: tuple[PipelineRun, ...]
    error: str | None = None  # a spec that does not load


@dataclass(frozen=True)
class Pipelines(View):
    pipelines: tuple[PipelineSummary, ...]


@dataclass(frozen=True)
class PipelineDetail(PipelineSummary):
    spec: dict[str, Any] | None = None  # the YAML spec as written: free-form
    schedule_log: tuple[ScheduleEvent, ...] = ()


def _recent_runs(tracker: Tracker, name: str, limit: int, gates: bool) -> tuple[PipelineRun, ...]:
    ids = tracker.store.search_run_ids(
        where=f"experiment == {name!r} and kind == 'pipeline'", limit=limit
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
    tracker: Tracker, pipelines_dir: Path, name: str, now: dt.datetime, last: int, detail: bool
) -> PipelineDetail:
    from ..pipeline.spec import load_pipeline

    try:
        spec = load_pipeline(name, pipelines_dir)
    except ValidationError as e:
        return PipelineDetail(name, None, None, None, (), 0, (), error=str(e))
    d = spec.to_dict()
    nxt = spec.cron.next_after(now) if spec.cron else None
    return PipelineDetail(
        name=spec.name,
        notebook=str(d.get("notebook")),
        schedule=spec.schedule,
        next_fire=nxt.isoformat() if nxt is not None else None,
        parameters=tuple(ParameterInfo(**p) for p in d.get("parameters") or []),
        gates=len(spec.gates),
        last_runs=_recent_runs(tracker, spec.name, last, gates=detail),
        spec=d if detail else None,
        schedule_log=tuple(tracker.store.schedule_log(pipeline=name, limit=20)) if detail else (),
    )


def pipeline_list(
    tracker: Tracker, pipelines_dir: Path, now: dt.datetime | None = None
) -> Pipelines:
    """Every promoted pipeline with its schedule, next firing and last 5 runs."""
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
    tracker: Tracker, pipelines_dir: Path, name: str, now: dt.datetime | None = None
) -> PipelineDetail:
    """One pipeline: its spec, next firing, last 20 runs with gate results, schedule log."""
    from ..pipeline.spec import list_pipelines, load_pipeline

    if name not in list_pipelines(pipelines_dir):
        try:
            load_pipeline(name, pipelines_dir)  # for its did-you-mean message
        except ValidationError as e:
            raise NotFoundError(str(e)) from None
    now = now or dt.datetime.now(dt.timezone.utc)
    found = _summary(tracker, pipelines_dir, name, now, 20, detail=True)
    if found.error:
        raise ValidationError(found.error)
    return found
