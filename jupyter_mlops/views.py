"""Views of the store shaped for front-ends: one typed call per question a screen asks.

The REST API (``server/``), the widgets and the CLI render these; none of them shapes data on its
own. Everything here returns JSON-ready values (``to_dict()`` or plain dicts of str, numbers,
lists), with NaN turned into ``None``. Nothing here imports tornado, IPython or ipywidgets.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, BinaryIO

from . import bounds, entities
from .entities import RunKind, RunStatus
from .exceptions import (
    ExperimentNotFoundError,
    NotFoundError,
    StoreError,
    StoreUnavailableError,
    ValidationError,
)
from .store.confined import ConfinedFile, open_confined

if TYPE_CHECKING:
    import pandas as pd

    from .tracking import Tracker

MAX_PAGE = 500


def to_jsonable(value: Any) -> Any:
    """Strict JSON for HTTP and scripts: the package's one cleaner, NaN/inf as null."""
    return entities.to_jsonable(value, non_finite="null", fallback=str)


# -- runs: paged, filtered, sorted ------------------------------------------------------------


@dataclass(frozen=True)
class RunsQuery:
    """What a runs table asks for. ``where`` is the filter language of ``runs()``; ``text``
    matches name, experiment and tags (case-insensitive substring)."""

    experiment: str | None = None
    status: str | None = None
    kind: str | None = None
    notebook: str | None = None
    where: str | None = None
    text: str | None = None
    order_by: str | None = None
    limit: int = 50
    offset: int = 0
    cursor: str | None = None

    @classmethod
    def from_strings(cls, get: Callable[[str], str | None]) -> RunsQuery:
        """Build from query-string values (``get(name)`` is None when absent), each checked
        against its type and bounds."""

        def text(name: str, limit: int = bounds.MAX_KEY_LENGTH, alias: str = "") -> str | None:
            value = get(name) or (get(alias) if alias else None) or None
            return None if value is None else bounds.check_key(value, name, limit)

        return cls(
            experiment=text("experiment"),
            status=text("status"),
            kind=text("kind"),
            notebook=text("notebook", 4096),
            where=text("where", bounds.MAX_WHERE_LENGTH),
            text=text("q", alias="text"),
            order_by=text("order_by", bounds.MAX_ORDER_LENGTH, alias="sort"),
            limit=_int_arg("limit", get("limit"), 50, 1, MAX_PAGE),
            offset=_int_arg("offset", get("offset"), 0, 0, bounds.MAX_OFFSET),
            cursor=text("cursor", 1000),
        )

    def filter_expression(self) -> str | None:
        """The user's ``where`` and the column filters as one expression of the filter language."""
        parts = [f"({self.where})"] if self.where else []
        if self.status is not None:
            _check_choice("status", self.status, [s.value for s in RunStatus])
            parts.append(f"status == {self.status!r}")
        if self.kind is not None:
            _check_choice("kind", self.kind, [k.value for k in RunKind])
            parts.append(f"kind == {self.kind!r}")
        if self.experiment is not None:
            parts.append(f"experiment == {self.experiment!r}")
        if self.notebook is not None:
            parts.append(f"notebook == {self.notebook!r}")
        return " and ".join(parts) or None

    def fingerprint(self) -> str:
        """Identifies the result set (not the page), so a cursor cannot cross queries."""
        key = [self.experiment, self.status, self.kind, self.notebook, self.where, self.text]
        key.append(self.order_by)
        return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]


def _int_arg(name: str, text: str | None, default: int, lo: int, hi: int) -> int:
    if text is None or text == "":
        return default
    return bounds.parse_int(text, name, lo, hi)


def _check_choice(name: str, value: str, choices: list[str]) -> None:
    if value not in choices:
        raise ValidationError(f"Unknown {name} {value!r}; use one of: {', '.join(choices)}")


@dataclass(frozen=True)
class RunsPage:
    """One page of runs; ``next_cursor`` fetches the next page of the same result set, which
    runs started after the first page never shift."""

    rows: list[dict[str, Any]]
    offset: int
    limit: int
    has_more: bool
    next_cursor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.rows,
            "offset": self.offset,
            "limit": self.limit,
            "has_more": self.has_more,
            "next_cursor": self.next_cursor,
        }


@dataclass(frozen=True)
class _Cursor:
    offset: int
    as_of: float
    query: str

    def encode(self) -> str:
        raw = json.dumps({"o": self.offset, "t": self.as_of, "q": self.query}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, query: str) -> _Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            d = json.loads(raw)
            # A cursor comes back from the client, so it is input like any other: a forged
            # offset past 64 bits or below 0, or a time that is not finite, is refused.
            offset = bounds.check_int(d["o"], "cursor offset", 0, bounds.MAX_OFFSET)
            cur = cls(offset, bounds.check_float(d["t"], "cursor time"), str(d["q"]))
        except ValidationError as e:
            raise ValidationError(f"Bad cursor: {e}; pass the next_cursor of a page") from None
        except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
            raise ValidationError(
                f"Bad cursor {text[:40]!r}; pass the next_cursor of a previous page"
            ) from None
        if cur.query != query:
            raise ValidationError(
                "This cursor belongs to another query; start again without a cursor"
            )
        return cur


def runs_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a ``runs()`` frame as JSON records with nested params and metrics."""
    out = []
    for row in frame.to_dict(orient="records"):
        rec: dict[str, Any] = {"params": {}, "metrics": {}}
        for k, v in row.items():
            ns, _, key = str(k).partition(".")
            value = to_jsonable(v)
            if ns in ("params", "metrics") and key:
                if value is not None:
                    rec[ns][key] = value
            else:
                rec[str(k)] = value
        out.append(rec)
    return out


def runs_page(
    tracker: Tracker, query: RunsQuery, clock: Callable[[], float] = time.time
) -> RunsPage:
    """A page of runs with their gate outcome and model version (the ``runs()`` columns).

    Paging by cursor keeps a stable result set: the first page records the time, and later
    pages leave out runs started after it, so new runs never shift rows between pages."""
    if not 1 <= query.limit <= MAX_PAGE:
        raise ValidationError(f"limit must be from 1 to {MAX_PAGE}, got {query.limit}")
    bounds.check_int(query.offset, "offset", 0, bounds.MAX_OFFSET)
    if query.where:
        from .store.query import compile_query

        compile_query(query.where)  # its own message, not one about the combined expression
    where = query.filter_expression()
    fp = query.fingerprint()
    cur = _Cursor.decode(query.cursor, fp) if query.cursor else _Cursor(query.offset, clock(), fp)
    bound = f"started <= {cur.as_of!r}"
    if "reproduces" not in (where or ""):  # a reproduction's runs only when asked by tag
        bound += " and tags.reproduces is None"
    store = tracker.store
    ids = store.search_run_ids(
        where=f"({where}) and {bound}" if where else bound,
        order_by=query.order_by,
        limit=cur.offset + query.limit + 1,
        text=query.text,
    )[cur.offset :]
    has_more = len(ids) > query.limit
    ids = ids[: query.limit]
    if not ids and query.experiment and query.experiment not in store.experiments():
        raise ExperimentNotFoundError(query.experiment, store.experiments(), store.location)
    rows: list[dict[str, Any]] = []
    if ids:
        frame = tracker.runs(where=f"id in {ids!r}", include_reproductions=True)
        by_id = {r["id"]: r for r in runs_records(frame)}
        rows = [by_id[i] for i in ids if i in by_id]
    nxt = replace(cur, offset=cur.offset + len(ids)).encode() if has_more else None
    return RunsPage(rows, cur.offset, query.limit, has_more, nxt)


# -- one run ------------------------------------------------------------------------------------


def run_detail(tracker: Tracker, run_id: str) -> dict[str, Any]:
    """``Run.to_dict()`` plus its gate results, the model versions it registered, whether it
    has an output notebook, its child runs, and ``since_previous``: what changed since the
    previous run of its experiment (``diff_runs``: params, metric deltas, and the names of the
    changed parts — columns, index, schema — of each input)."""
    from .tracking.compare import diff_runs

    run = tracker.get_run(run_id)
    models = [m for m in tracker.store.list_models() if m.run_id == run.id]
    detail = to_jsonable(run)
    detail["since_previous"] = diff_runs(tracker.previous_run(run), run).to_dict()
    detail["children"] = tracker.store.search_run_ids(where=f"parent_id == {run.id!r}", limit=200)
    detail["gate_results"] = tracker.store.gate_results(run.id)
    detail["models"] = models
    detail["output_notebook"] = _has_output_notebook(tracker, run.id)
    return to_jsonable(detail)


def metric_series(tracker: Tracker, run_id: str, key: str) -> dict[str, Any]:
    """The history of one metric of one run: ``{run_id, key, steps: [{step, value, time}]}``."""
    run = tracker.get_run(run_id)
    hist = tracker.metric_history(run.id, key)
    if hist.empty:
        known = ", ".join(sorted(run.metrics)) or "none"
        raise NotFoundError(f"Run {run.short_id} has no metric {key!r}; its metrics: {known}")
    steps = [
        {"step": int(s), "value": to_jsonable(float(v)), "time": to_jsonable(float(t))}
        for s, v, t in zip(hist["step"], hist["value"], hist["time"], strict=False)
    ]
    return {"run_id": run.id, "key": key, "steps": steps}


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
    """The executed notebook of a pipeline run, opened inside the store (NotFoundError when
    it is missing or leads out of the store)."""
    return open_confined(tracker.store.workdir, PurePath("runs", run_id, "output.ipynb"))


def _has_output_notebook(tracker: Tracker, run_id: str) -> bool:
    try:
        _open_output_notebook(tracker, run_id).file.close()
    except (NotFoundError, StoreUnavailableError):
        return False
    return True


def output_notebook(tracker: Tracker, run_id: str) -> dict[str, Any]:
    """The executed notebook of a pipeline run: ``{run_id, path, content}``."""
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
    return {"run_id": run.id, "path": str(opened.path), "content": content}


def compare_runs(tracker: Tracker, run_ids: list[str]) -> dict[str, Any]:
    """Params and metrics of runs aligned: ``{runs, columns, inputs_changed, rows}``; each row
    is ``{key, differs, values: {short id: value}}``, differing rows first in each group."""
    from .tracking.compare import compare_frame, inputs_changed

    if len(run_ids) < 2:
        raise ValidationError("compare needs at least two run ids, e.g. ids=3f2a,9c1e")
    runs = [tracker.get_run(r) for r in run_ids]
    frame = compare_frame(runs)
    columns = [r.short_id for r in runs]
    rows = [
        {
            "key": key,
            "differs": bool(row["differs"]),
            "values": {c: to_jsonable(row[c]) for c in columns},
        }
        for key, row in frame.iterrows()
    ]
    return {
        "runs": [r.id for r in runs],
        "columns": columns,
        "inputs_changed": inputs_changed(runs),
        "rows": rows,
    }


def experiments(tracker: Tracker) -> list[str]:
    return tracker.store.experiments()


# -- pipelines, models, status ---------------------------------------------------------------


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _recent_pipeline_runs(tracker: Tracker, name: str, limit: int) -> list[dict[str, Any]]:
    ids = tracker.store.search_run_ids(
        where=f"experiment == {name!r} and kind == 'pipeline'", limit=limit
    )
    if not ids:
        return []
    return runs_records(
        tracker.runs(where=f"id in {ids!r}", order_by="-started", include_reproductions=True)
    )


@dataclass(frozen=True)
class PipelineSummary:
    name: str
    notebook: str | None
    schedule: str | None
    next_fire: str | None
    parameters: list[dict[str, Any]]
    gates: int
    last_runs: list[dict[str, Any]]
    error: str | None = None  # a spec that does not load
    spec: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self.__dict__)


def _summary(
    tracker: Tracker, pipelines_dir: Path, name: str, now: dt.datetime, last: int
) -> PipelineSummary:
    from .pipeline.spec import load_pipeline

    try:
        spec = load_pipeline(name, pipelines_dir)
    except ValidationError as e:
        return PipelineSummary(name, None, None, None, [], 0, [], error=str(e))
    d = spec.to_dict()
    return PipelineSummary(
        name=spec.name,
        notebook=str(d.get("notebook")),
        schedule=spec.schedule,
        next_fire=_iso(spec.cron.next_after(now)) if spec.cron else None,
        parameters=list(d.get("parameters") or []),
        gates=len(spec.gates),
        last_runs=_recent_pipeline_runs(tracker, spec.name, last),
        spec=d,
    )


def pipelines(
    tracker: Tracker, pipelines_dir: Path, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Every promoted pipeline with its schedule, next firing and last 5 runs."""
    from .pipeline.spec import list_pipelines

    now = now or dt.datetime.now(dt.timezone.utc)
    out = []
    for name in list_pipelines(pipelines_dir):
        s = _summary(tracker, pipelines_dir, name, now, 5).to_dict()
        s.pop("spec")
        out.append(s)
    return out


def pipeline_detail(
    tracker: Tracker, pipelines_dir: Path, name: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """One pipeline: its spec, next firing, last 20 runs with gate results, schedule log."""
    from .pipeline.spec import list_pipelines, load_pipeline

    if name not in list_pipelines(pipelines_dir):
        try:
            load_pipeline(name, pipelines_dir)  # for its did-you-mean message
        except ValidationError as e:
            raise NotFoundError(str(e)) from None
    summary = _summary(tracker, pipelines_dir, name, now or dt.datetime.now(dt.timezone.utc), 20)
    if summary.error:
        raise ValidationError(summary.error)
    out = summary.to_dict()
    for r in out["last_runs"]:
        r["gate_results"] = to_jsonable(tracker.store.gate_results(r["id"]))
    out["schedule_log"] = to_jsonable(tracker.store.schedule_log(pipeline=name, limit=20))
    return out


def models(tracker: Tracker) -> list[dict[str, Any]]:
    """One entry per model name: versions, the blessed version and the latest one."""
    by_name: dict[str, list[Any]] = {}
    for m in tracker.store.list_models():
        by_name.setdefault(m.name, []).append(m)
    from .registry import ModelRegistry

    registry = ModelRegistry(tracker.store)
    out = []
    for name, versions in sorted(by_name.items()):
        versions.sort(key=lambda m: m.version)
        blessed = [m.version for m in versions if m.stage.value == "blessed"]
        pin = registry.pin_of(name)
        out.append(
            {
                "name": name,
                "versions": len(versions),
                "blessed": blessed[-1] if blessed else None,
                "pinned": pin.version if pin is not None else None,
                "latest": to_jsonable(versions[-1]),
            }
        )
    return out


def model_detail(tracker: Tracker, name: str) -> dict[str, Any]:
    """Every version of model ``name`` with its stage, its pin (None when not pinned: runs
    bless), and the history of stage changes."""
    from .registry import ModelRegistry

    registry = ModelRegistry(tracker.store)
    versions = registry.versions(name)
    if not versions:
        registry.get(name)  # raises the registry's own "no model named" error
    pin = registry.pin_of(name)
    return to_jsonable(
        {
            "name": name,
            "versions": versions,
            "pin": pin,
            "events": registry.events(name),
        }
    )


def status(tracker: Tracker, pipelines_dir: Path) -> dict[str, Any]:
    """Where the store is, its schema version and counts of runs by status, experiments,
    pipelines and models."""
    from .pipeline.spec import list_pipelines
    from .store.schema import SCHEMA_VERSION

    store = tracker.store
    counts = {s.value: len(store.search_run_ids(where=f"status == {s.value!r}")) for s in RunStatus}
    return {
        "store": store.location,
        "schema_version": SCHEMA_VERSION,
        "runs": sum(counts.values()),
        "runs_by_status": counts,
        "experiments": len(store.experiments()),
        "pipelines": len(list_pipelines(pipelines_dir)),
        "models": len({m.name for m in store.list_models()}),
    }
