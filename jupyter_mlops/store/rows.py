"""Turn SQL rows into entities and DataFrames (shared by every SQL backend)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..entities import (
    Artifact,
    DataRef,
    DataRole,
    Fingerprint,
    GitState,
    Run,
    RunKind,
    RunStatus,
)

if TYPE_CHECKING:
    import pandas as pd

FRAME_COLUMNS = [
    "id",
    "experiment",
    "name",
    "status",
    "kind",
    "parent_id",
    "started",
    "duration",
    "seed",
    "gates",  # passed | failed | warned, None when no gate ran
    "model",  # the model version(s) the run registered: "wine@3"
    "model_stage",  # its stage: candidate | shadow | blessed | archived
]


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
        started=row["started"],
        ended=row["ended"],
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
        columns["params." + key] = pd.Series(extra[key])
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
