"""The monitoring history as rows: per batch drift and metrics, and the monitor's events. What
``jupyter-mlops monitor``, its HTML report and the plots show."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..codec import iso_time
from ..store.base import MonitorEvent, RunStore
from .metrics import grouped, task_of
from .serving import _store, cached_model, training_profile
from .spec import WINDOWS, MonitorSpec, load_monitor, monitor_exists


@dataclass
class BatchRow:
    batch_id: str
    time: float
    version: int
    role: str
    n_rows: int
    latency: float | None
    share_drifted: float | None
    drifted: list[str]
    column_stats: dict[str, tuple[float, float, bool]]  # column -> (statistic, threshold, drifted)
    metrics: dict[str, float] = field(default_factory=dict)
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)  # ColumnDrift.to_dict()

    # Not its fields (codec.py): `n_rows` is `rows` on the wire; `column_stats` stays inside.
    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "time": iso_time(self.time),
            "version": self.version,
            "role": self.role,
            "rows": self.n_rows,
            "latency": self.latency,
            "share_drifted": self.share_drifted,
            "drifted": self.drifted,
            "columns": self.columns,
            "metrics": self.metrics,
        }


@dataclass
class Window:
    """The monitor's window (a batch, a UTC day or a 7-day span) of one blessed version: its
    batch profiles merged and compared with the reference, as ``evaluate`` does; metrics over
    the labelled rows it scored."""

    start: float
    end: float
    version: int
    batches: int
    rows: int
    share_drifted: float | None
    columns: dict[str, dict[str, Any]]
    metrics: dict[str, float]

    # Not its fields (codec.py): adds the derived `drifted` column list.
    def to_dict(self) -> dict[str, Any]:
        return {
            "start": iso_time(self.start),
            "end": iso_time(self.end),
            "version": self.version,
            "batches": self.batches,
            "rows": self.rows,
            "share_drifted": self.share_drifted,
            "drifted": [c for c, d in self.columns.items() if d["drifted"]],
            "columns": self.columns,
            "metrics": self.metrics,
        }


@dataclass
class History:
    name: str
    spec: MonitorSpec | None
    batches: list[BatchRow]
    events: list[MonitorEvent]
    windows: list[Window] = field(default_factory=list)

    # Not its fields (codec.py): the spec and windows are rendered by report.to_json.
    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "batches": [b.to_dict() for b in self.batches],
            "events": [
                {"time": iso_time(e.time), "kind": e.kind, "status": e.status, "detail": e.detail}
                for e in self.events
            ],
        }


def optional_spec(
    name: str, monitors_dir: str | Path | None = None, pipelines_dir: str | Path | None = None
) -> MonitorSpec | None:
    """The monitor ``name`` (its file or its pipeline's ``monitor:`` key), or None: a model
    without a monitor still has its batches to show."""
    if not monitor_exists(name, monitors_dir, pipelines_dir):
        return None
    return load_monitor(name, monitors_dir, pipelines_dir)


def history(
    name: str,
    since: float | None = None,
    *,
    store: RunStore | None = None,
    monitors_dir: str | Path | None = None,
    pipelines_dir: str | Path | None = None,
) -> History:
    """Every batch of model ``name`` since ``since``: drift against its version's reference
    (the training profile, else the version's first batch) and metrics from labelled rows."""
    from ..validation.drift import check_drift

    st = _store(store)
    spec = optional_spec(name, monitors_dir, pipelines_dir)
    model = spec.model if spec else name
    batches = st.monitor_batches(model, since=since)
    versions = {m.version: m for m in st.list_models(model)}
    refs: dict[int, Any] = {}
    tasks: dict[int, str] = {}
    labelled = st.labelled_predictions(model, since=since)
    for v in {b.version for b in batches}:
        refs[v] = training_profile(st, versions[v])
        if refs[v] is None:
            refs[v] = next((b.profile for b in st.monitor_batches(model) if b.version == v), None)
        labels = [json.loads(r[4]) for r in labelled if r[0] == v]
        tasks[v] = task_of(cached_model(st, versions[v]), labels)
    method = next((c.method for c in spec.checks if c.kind == "drift"), "auto") if spec else "auto"
    metrics = grouped(labelled, tasks, "batch")
    rows = []
    for b in batches:
        share, drifted, stats, columns = None, [], {}, {}
        if b.role == "blessed" and refs.get(b.version) is not None and b.profile is not None:
            report = check_drift(refs[b.version], b.profile, method=method)
            share = report.share_drifted
            drifted = [c for c, d in report.columns.items() if d.drifted]
            columns = {c: d.to_dict() for c, d in report.columns.items()}
            stats = {
                c: (d.p_adjusted if d.p_adjusted is not None else d.p_value, d.threshold, d.drifted)
                if d.p_value is not None
                else (d.statistic, d.threshold, d.drifted)
                for c, d in report.columns.items()
            }
        m = metrics.get((b.version, b.batch_id), {})
        rows.append(
            BatchRow(
                b.batch_id,
                b.time,
                b.version,
                b.role,
                b.n_rows,
                b.latency,
                share,
                drifted,
                stats,
                m,
                columns,
            )
        )
    windows = _windows(spec, batches, refs, labelled, tasks, method)
    return History(model, spec, rows, st.monitor_events(model, since=since), windows)


def _windows(
    spec: MonitorSpec | None,
    batches: list[Any],
    refs: dict[int, Any],
    labelled: list[Any],
    tasks: dict[int, str],
    method: str,
) -> list[Window]:
    """The blessed batches grouped by the monitor's window (daily without a monitor)."""
    from ..validation.drift import check_drift
    from ..validation.profiles import Profile

    span = WINDOWS[spec.window if spec else "daily"]

    def key(t: float, batch_id: str) -> tuple[float, str]:
        return (t, batch_id) if not span else (t - t % span, "")

    groups: dict[tuple[int, float, str], list[Any]] = {}
    for b in batches:
        if b.role == "blessed":
            groups.setdefault((b.version, *key(b.time, b.batch_id)), []).append(b)
    served = {b.batch_id: b.time for b in batches if b.role == "blessed"}
    # Labelled rows fall into the window of the batch that scored them.
    rows = [
        (r[0], repr((r[0], *key(served[r[1]], r[1]))), *r[2:]) for r in labelled if r[1] in served
    ]
    metrics = grouped(rows, tasks, "batch")
    out = []
    for (version, start, _), group in sorted(groups.items(), key=lambda kv: kv[0][1]):
        profiles = [Profile.from_dict(b.profile) for b in group if b.profile]
        share, columns = None, {}
        if profiles and refs.get(version) is not None:
            merged = profiles[0]
            for prof in profiles[1:]:
                merged = merged.merge(prof)
            report = check_drift(refs[version], merged, method=method)
            share = report.share_drifted
            columns = {c: d.to_dict() for c, d in report.columns.items()}
        out.append(
            Window(
                start=start,
                end=start + span if span else start,
                version=version,
                batches=len(group),
                rows=sum(b.n_rows for b in group),
                share_drifted=share,
                columns=columns,
                metrics=metrics.get((version, repr((version, start, _))), {}),
            )
        )
    return out
