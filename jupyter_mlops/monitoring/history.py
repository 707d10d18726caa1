"""The monitoring history as rows: per batch drift and metrics, and the monitor's events. What
``jupyter-mlops monitor``, its HTML report and the plots show."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..store.base import MonitorEvent, RunStore
from .metrics import grouped, task_of
from .serving import _store, cached_model, training_profile
from .spec import MonitorSpec, load_monitor


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "time": self.time,
            "version": self.version,
            "role": self.role,
            "rows": self.n_rows,
            "latency": self.latency,
            "share_drifted": self.share_drifted,
            "drifted": self.drifted,
            "metrics": self.metrics,
        }


@dataclass
class History:
    name: str
    spec: MonitorSpec | None
    batches: list[BatchRow]
    events: list[MonitorEvent]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "batches": [b.to_dict() for b in self.batches],
            "events": [
                {"time": e.time, "kind": e.kind, "status": e.status, "detail": e.detail}
                for e in self.events
            ],
        }


def optional_spec(name: str, monitors_dir: str | Path) -> MonitorSpec | None:
    return (
        load_monitor(name, monitors_dir)
        if (Path(monitors_dir) / f"{name}.yaml").is_file()
        else None
    )


def history(
    name: str,
    since: float | None = None,
    *,
    store: RunStore | None = None,
    monitors_dir: str | Path = "monitors",
) -> History:
    """Every batch of model ``name`` since ``since``: drift against its version's reference
    (the training profile, else the version's first batch) and metrics from labelled rows."""
    from ..validation.drift import check_drift

    st = _store(store)
    spec = optional_spec(name, monitors_dir)
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
        share, drifted, stats = None, [], {}
        if b.role == "blessed" and refs.get(b.version) is not None and b.profile is not None:
            report = check_drift(refs[b.version], b.profile, method=method)
            share = report.share_drifted
            drifted = [c for c, d in report.columns.items() if d.drifted]
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
            )
        )
    return History(model, spec, rows, st.monitor_events(model, since=since))
