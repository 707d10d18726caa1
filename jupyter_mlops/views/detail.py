"""One run: its detail (``GET runs/ID``, ``jupyter-mlops show``), a metric's history, an
artifact's file and the executed notebook of a pipeline run."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, BinaryIO

from ..codec import utc
from ..entities import ModelVersion, Run
from ..exceptions import NotFoundError, StoreError, StoreUnavailableError
from ..store.confined import ConfinedFile, open_confined
from .gate_lines import GateLine, GateOutcome, gate_lines, gate_outcome
from .values import View

if TYPE_CHECKING:
    from ..tracking import Tracker
    from ..tracking.compare import RunDiff


@dataclass(frozen=True)
class MetricDelta(View):
    old: float | None
    new: float | None


@dataclass(frozen=True)
class RunChanges(View):
    """What changed since the previous run of the experiment (``diff_runs``): params as
    ``[old, new]``, metric deltas, and the changed parts (columns, index, schema) of inputs."""

    previous_id: str | None
    params_changed: dict[str, tuple[Any, Any]]
    metric_deltas: dict[str, MetricDelta]
    inputs_changed: dict[str, list[str]]
    inputs_same: tuple[str, ...]
    inputs_new: tuple[str, ...]

    @classmethod
    def of(cls, diff: RunDiff) -> RunChanges:
        return cls(
            previous_id=diff.previous_id,
            params_changed=dict(diff.params_changed),
            metric_deltas={k: MetricDelta(o, n) for k, (o, n) in diff.metric_deltas.items()},
            inputs_changed=dict(diff.inputs_changed),
            inputs_same=tuple(diff.inputs_same),
            inputs_new=tuple(diff.inputs_new),
        )


@dataclass(frozen=True)
class RunDetail(Run):
    """A run (its fields, as the JSON contract lists them) with its gate results (failed first,
    each with its observed value for people) and their outcome, the model versions it
    registered, whether it has an output notebook, its child runs, and what changed since the
    previous run."""

    since_previous: RunChanges | None = None
    children: tuple[str, ...] = ()
    gate_results: tuple[GateLine, ...] = ()
    gate_outcome: GateOutcome | None = None
    models: tuple[ModelVersion, ...] = ()
    output_notebook: bool = False


def run_detail(tracker: Tracker, run_id: str) -> RunDetail:
    """Run ``run_id`` (an id or unique prefix) with everything its detail page shows."""
    from ..tracking.compare import diff_runs

    run = tracker.get_run(run_id)
    store = tracker.store
    gates = store.gate_results(run.id)
    return RunDetail(
        **{f.name: getattr(run, f.name) for f in fields(Run)},
        since_previous=RunChanges.of(diff_runs(tracker.previous_run(run), run)),
        children=tuple(store.search_run_ids(where=f"parent_id == {run.id!r}", limit=200)),
        gate_results=gate_lines(gates),
        gate_outcome=gate_outcome(gates),
        models=tuple(m for m in store.list_models() if m.run_id == run.id),
        output_notebook=_has_output_notebook(tracker, run.id),
    )


@dataclass(frozen=True)
class MetricPoint(View):
    step: int
    value: float | None
    time: dt.datetime | None


@dataclass(frozen=True)
class MetricSeries(View):
    """The history of one metric of one run: one point per step, the newest value at a step.
    ``stepped`` is False for a scalar (logged without a step: one point at step 0), which
    front-ends show as a value or a bar, not as a curve."""

    run_id: str
    key: str
    steps: tuple[MetricPoint, ...]
    stepped: bool


def metric_series(tracker: Tracker, run_id: str, key: str) -> MetricSeries:
    run = tracker.get_run(run_id)
    hist = tracker.metric_history(run.id, key)
    if hist.empty:
        known = ", ".join(sorted(run.metrics)) or "none"
        raise NotFoundError(f"Run {run.short_id} has no metric {key!r}; its metrics: {known}")
    points = curve_points(
        zip(hist["step"].tolist(), hist["value"].tolist(), hist["time"].tolist(), strict=True)
    )
    steps = tuple(MetricPoint(s, v, utc(t)) for s, v, t in points)
    return MetricSeries(run.id, key, steps, any(p.step > 0 for p in steps))


def curve_points(
    history: Iterable[tuple[int, float | None, float]],
) -> list[tuple[int, float | None, float]]:
    """(step, value, time) in step order, the newest value at each step. A step-0 value logged
    after the curve passed step 0 is a final value that stores before issue 19 recorded at step
    0 (now at the curve's end, ``ActiveRun.curve_end``): it is no point of the curve."""
    by_step: dict[int, tuple[int, float | None, float]] = {}
    reached = None  # the time the curve first passed step 0
    for step, value, t in sorted(history, key=lambda p: p[2]):
        step, t = int(step), float(t)
        if step == 0 and reached is not None:
            continue
        if step > 0 and reached is None:
            reached = t
        by_step[step] = (step, None if value is None or value != value else float(value), t)
    return [by_step[s] for s in sorted(by_step)]


@dataclass(frozen=True)
class ArtifactFile:
    """An artifact opened for download: stream ``file`` (and close it), never reopen by path."""

    name: str
    kind: str
    file: BinaryIO
    size: int


def artifact_file(tracker: Tracker, run_id: str, name: str) -> ArtifactFile:
    """The stored file of artifact ``name`` of a run (with an object store, the local cache's
    verified copy), opened. Only names the run logged resolve, and the file is the one its
    recorded sha256 names, opened without following any link out of the store, so no name
    reaches another file (``../``, absolute paths and links out end as not found)."""
    run = tracker.get_run(run_id)
    missing = NotFoundError(
        f"Run {run.short_id} has no artifact {name!r}; its artifacts: "
        + (", ".join(a.name for a in run.artifacts) or "none")
    )
    if not name or name.startswith(("/", "\\")) or ".." in Path(name).parts:
        raise missing
    art = next((a for a in reversed(run.artifacts) if a.name == name), None)
    if art is None:
        raise missing
    try:
        f = tracker.store.artifacts.open_blob(art.uri, art.sha256)
    except StoreUnavailableError:  # the object store is down: say that, not "no such artifact"
        raise
    except (StoreError, LookupError):
        raise missing from None
    return ArtifactFile(art.name, art.kind, f, os.fstat(f.fileno()).st_size)


def _open_output_notebook(tracker: Tracker, run_id: str) -> ConfinedFile:
    """The executed notebook of a pipeline run, opened inside the project's outputs folder
    (NotFoundError when it is missing or leads out of that folder)."""
    return open_confined(tracker.project.outputs_dir, PurePath(run_id, "output.ipynb"))


def _has_output_notebook(tracker: Tracker, run_id: str) -> bool:
    try:
        _open_output_notebook(tracker, run_id).file.close()
    except (NotFoundError, StoreUnavailableError):
        return False
    return True


@dataclass(frozen=True)
class OutputNotebook(View):
    """The executed notebook of a pipeline run; ``root_path`` is its path relative to the
    Jupyter server's root (None elsewhere, and when it lies outside)."""

    run_id: str
    path: str
    content: dict[str, Any]  # the notebook's JSON: free-form
    root_path: str | None = None


def output_notebook(tracker: Tracker, run_id: str, root: Path | None = None) -> OutputNotebook:
    run = tracker.get_run(run_id)
    try:
        opened = _open_output_notebook(tracker, run.id)
    except NotFoundError:
        raise NotFoundError(
            f"Run {run.short_id} has no output notebook; only pipeline runs "
            "(`jupyter-mlops run`) have one"
        ) from None
    with opened.file as f:
        content = json.loads(f.read())
    path = Path(opened.path).resolve()
    inside = root is not None and path.is_relative_to(root.resolve())
    rel = path.relative_to(root.resolve()).as_posix() if root is not None and inside else None
    return OutputNotebook(run.id, str(opened.path), content, rel)
