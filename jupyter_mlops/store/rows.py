"""The run columns, and SQL rows turned into entities and DataFrames (for every SQL backend)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..codec import from_jsonable, utc
from ..entities import (
    Artifact,
    DataRef,
    DataRole,
    Fingerprint,
    GitState,
    ModelEvent,
    ModelStage,
    ModelVersion,
    PipelineRecord,
    Run,
    RunKind,
    RunRow,
    RunStatus,
    ScheduleEvent,
)

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class RunColumn:
    name: str
    sql: str  # its expression in the runs listing (``r`` runs, ``g`` gate outcome, ``mv`` models)
    listed: bool  # a column of runs() and of a RunRow
    filterable: bool  # usable by name in a filter or an ordering


# The one list of run columns: what runs() shows, in this order, and what filters can name.
RUN_COLUMNS: tuple[RunColumn, ...] = (
    RunColumn("id", "r.id", True, True),
    RunColumn("experiment", "r.experiment", True, True),
    RunColumn("name", "r.name", True, True),
    RunColumn("status", "r.status", True, True),
    RunColumn("kind", "r.kind", True, True),
    RunColumn("parent_id", "r.parent_id", True, True),
    RunColumn("started", "r.started", True, True),
    RunColumn("ended", "r.ended", False, True),
    RunColumn("duration", "r.duration", True, True),
    RunColumn("seed", "r.seed", True, True),
    RunColumn("notebook", "r.notebook", False, True),
    RunColumn("peak_memory", "r.peak_memory", False, True),
    RunColumn("git_commit", "r.git_commit", False, True),
    RunColumn("gates", "g.outcome", True, False),  # passed | failed | warned; None: no gate ran
    RunColumn("model", "mv.model", True, False),  # the model version(s) it registered: "wine@3"
    RunColumn("model_stage", "mv.stage", True, False),  # candidate | shadow | blessed | archived
)
FRAME_COLUMNS = [c.name for c in RUN_COLUMNS if c.listed]
FILTER_COLUMNS = tuple(c.name for c in RUN_COLUMNS if c.filterable)
LISTED_SQL = ", ".join(c.sql for c in RUN_COLUMNS if c.listed)


# The latest value of a metric: the highest step, then the newest time. One rule for both
# places that pick it: the store's upsert compares these columns as a row value (SQLite and
# PostgreSQL), and the writer's in-memory RunImage compares the same tuple.
LATEST_METRIC_ORDER = ("step", "time")
LATEST_METRIC_WHERE = "({}) >= ({})".format(
    ", ".join(f"excluded.{c}" for c in LATEST_METRIC_ORDER),
    ", ".join(f"latest_metrics.{c}" for c in LATEST_METRIC_ORDER),
)


def supersedes(new: tuple[int, float], latest: tuple[int, float] | None) -> bool:
    """Whether a metric value at ``new`` (step, time) replaces the one at ``latest``."""
    return latest is None or new >= latest


def _loads(text: str | None, default: Any) -> Any:
    return json.loads(text) if text else default


def _nan(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def build_run(
    row: Mapping[str, Any], children: Mapping[str, Sequence[Mapping[str, Any]]], code: str | None
) -> Run:
    data = tuple(
        DataRef(
            DataRole(d["role"]),
            d["name"],
            Fingerprint(
                kind=d["kind"],
                hash=d["hash"],
                shape=tuple(s) if (s := _loads(d["shape"], None)) is not None else None,
                schema=_loads(d["schema"], {}),
                parts=_loads(d["parts"], {}),
                nbytes=d["nbytes"] or 0,
                path=d["path"],
            ),
        )
        for d in children["data"]
    )
    dirty = row["git_dirty"]
    return Run(
        id=row["id"],
        experiment=row["experiment"],
        name=row["name"],
        status=RunStatus(row["status"]),
        kind=RunKind(row["kind"]),
        parent_id=row["parent_id"],
        started=utc(row["started"]),
        ended=utc(row["ended"]),
        duration=row["duration"],
        seed=row["seed"],
        notebook=row["notebook"],
        execution_count=row["execution_count"],
        code=code,
        history=tuple(_loads(row["history"], [])),
        peak_memory=row["peak_memory"],
        git=GitState(
            row["git_commit"],
            row["git_branch"],
            None if dirty is None else bool(dirty),
            row["git_diff_hash"],
        ),
        environment_id=row["environment_id"],
        error=row["error"],
        stdout_tail=row["stdout_tail"],
        host=row["host"],
        pid=row["pid"],
        params={p["key"]: _loads(p["value"], None) for p in children["params"]},
        metrics={m["key"]: _nan(m["value"]) for m in children["latest_metrics"]},
        tags={t["key"]: t["value"] for t in children["tags"]},
        data=data,
        artifacts=tuple(
            Artifact(a["name"], a["kind"], a["sha256"], a["size"], a["uri"])
            for a in children["artifacts"]
        ),
        warnings=tuple(_loads(row["warnings"], [])),
    )


def run_rows(
    runs: list[tuple[Any, ...]],
    params: list[tuple[str, str, str]],
    metrics: list[tuple[str, str, float | None]],
) -> list[RunRow]:
    """The rows of a runs listing (``LISTED_SQL`` order) with their params and metrics."""
    by_id: dict[str, tuple[dict[str, Any], dict[str, float]]] = {r[0]: ({}, {}) for r in runs}
    for rid, key, value in params:
        by_id[rid][0][key] = _loads(value, None)
    for rid, key, metric in metrics:
        by_id[rid][1][key] = _nan(metric)
    out = []
    for r in runs:
        p, m = by_id[r[0]]
        rid, exp, name, status, kind, parent, started, duration, seed, gates, model, stage = r
        out.append(
            RunRow(
                rid,
                exp,
                name,
                RunStatus(status),
                RunKind(kind),
                parent,
                utc(started),
                duration,
                seed,
                gates,
                model,
                stage,
                dict(sorted(p.items())),
                dict(sorted(m.items())),
            )
        )
    return out


def frame_from_rows(
    runs: list[tuple[Any, ...]],
    params: list[tuple[str, str, str]],
    metrics: list[tuple[str, str, float | None]],
) -> pd.DataFrame:
    """One row per run: run columns, then ``params.*`` and ``metrics.*`` (latest value)."""
    import pandas as pd

    index = {r[0]: i for i, r in enumerate(runs)}
    n = len(runs)
    extra: dict[str, list[Any]] = {}
    decode = _param_decoder()
    for rid, key, value in params:
        col = extra.get(key)
        if col is None:
            col = extra[key] = [None] * n
        col[index[rid]] = decode(value)
    metric_cols: dict[str, list[float]] = {}
    nan = float("nan")
    for rid, key, metric in metrics:
        mcol = metric_cols.get(key)
        if mcol is None:
            mcol = metric_cols[key] = [nan] * n
        mcol[index[rid]] = nan if metric is None else metric
    base = pd.DataFrame.from_records(runs, columns=FRAME_COLUMNS)
    base["started"] = pd.to_datetime(base["started"], unit="s", utc=True)
    base["duration"] = base["duration"].astype("float64")
    columns = {c: base[c] for c in FRAME_COLUMNS}
    for key in sorted(extra):
        col = pd.Series(extra[key])
        if col.dtype.kind == "f" and any(
            isinstance(v, int) and not isinstance(v, bool) for v in extra[key]
        ):  # pandas would turn logged ints into floats (a missing value, or a float beside)
            col = pd.Series(extra[key], dtype=object)
        columns["params." + key] = col
    for key in sorted(metric_cols):
        columns["metrics." + key] = pd.Series(metric_cols[key], dtype="float64")
    return pd.DataFrame(columns).reset_index(drop=True)


def _param_decoder() -> Callable[[str | None], Any]:
    """JSON text -> value, memoised: a sweep repeats the same few values thousands of times.
    Lists and dicts stay as their JSON text so the column is hashable and sortable."""
    cache: dict[str | None, Any] = {None: None}

    def decode(text: str | None) -> Any:
        try:
            return cache[text]
        except KeyError:
            value = json.loads(text)  # type: ignore[arg-type]
            if isinstance(value, (list, dict)):
                value = json.dumps(value)
            cache[text] = value
            return value

    return decode


MODEL_COLUMNS = (
    "name, version, run_id, artifact_uri, artifact_sha, size, stage, created, updated,"
    " metrics, data, pipeline, description"
)


def model_version(row: Sequence[Any]) -> ModelVersion:
    """A ``model_versions`` row (``MODEL_COLUMNS`` order) as a ModelVersion."""
    return ModelVersion(
        name=row[0],
        version=row[1],
        run_id=row[2],
        artifact_uri=row[3],
        artifact_sha=row[4],
        size=row[5],
        stage=ModelStage(row[6]),
        created=utc(row[7]),
        updated=utc(row[8]),
        metrics=_loads(row[9], {}),
        data=from_jsonable(_loads(row[10], []), tuple[DataRef, ...]),
        pipeline=row[11],
        description=row[12],
    )


def model_event(row: Sequence[Any]) -> ModelEvent:
    name, version, action, actor, reason, time = row
    return ModelEvent(name, version, action, actor, reason, utc(time))


def pipeline_record(row: Sequence[Any]) -> PipelineRecord:
    """A ``pipelines`` row: name, spec, notebook, notebook_hash, schedule, updated."""
    return PipelineRecord(row[0], json.loads(row[1]), row[2], row[3], row[4], utc(row[5]))


def schedule_event(row: Sequence[Any]) -> ScheduleEvent:
    """A ``schedule_log`` row: pipeline, scheduled_for, outcome, run_id, message, time."""
    pipeline, scheduled_for, outcome, run_id, message, time = row
    return ScheduleEvent(pipeline, utc(scheduled_for), outcome, run_id, message, utc(time))


def records(cursor: Any) -> list[dict[str, Any]]:
    """A cursor's rows as column -> value mappings (DB-API ``description``, any backend)."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def data_row(rid: str, d: DataRef, encode: Callable[[Any], str]) -> tuple[Any, ...]:
    """A ``data`` row for ``rid``; ``encode`` writes the JSON columns."""
    f = d.fingerprint
    shape = list(f.shape) if f.shape is not None else None
    return (
        rid,
        d.role.value,
        d.name,
        f.kind,
        f.hash,
        encode(shape),
        encode(f.schema),
        encode(f.parts),
        f.nbytes,
        f.path,
    )
