"""What changed between runs: the "since last run" line under a cell, and ``compare``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..entities import DataRole, Run

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class RunDiff:
    previous_id: str | None
    params_changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # key -> (old, new)
    metric_deltas: dict[str, tuple[float, float]] = field(default_factory=dict)  # (old, new)
    inputs_changed: dict[str, list[str]] = field(default_factory=dict)  # name -> changed parts
    inputs_same: tuple[str, ...] = ()
    inputs_new: tuple[str, ...] = ()

    @property
    def first_run(self) -> bool:
        return self.previous_id is None

    # Not its fields (codec.py): (old, new) pairs as lists and {old, new} objects.
    def to_dict(self) -> dict[str, Any]:
        return {
            "previous_id": self.previous_id,
            "params_changed": {k: list(v) for k, v in self.params_changed.items()},
            "metric_deltas": {k: {"old": o, "new": n} for k, (o, n) in self.metric_deltas.items()},
            "inputs_changed": self.inputs_changed,
            "inputs_same": list(self.inputs_same),
            "inputs_new": list(self.inputs_new),
        }


_MISSING = "<unset>"


def diff_runs(previous: Run | None, run: Run) -> RunDiff:
    """Params that changed, metric deltas and which inputs changed from ``previous`` to ``run``."""
    if previous is None:
        return RunDiff(previous_id=None)
    params = {
        k: (previous.params.get(k, _MISSING), run.params.get(k, _MISSING))
        for k in sorted(set(previous.params) | set(run.params))
        if previous.params.get(k, _MISSING) != run.params.get(k, _MISSING)
    }
    metrics = {
        k: (previous.metrics[k], run.metrics[k])
        for k in sorted(set(previous.metrics) & set(run.metrics))
    }
    old_inputs = {d.name: d.fingerprint for d in previous.data if d.role is DataRole.INPUT}
    changed: dict[str, list[str]] = {}
    same, new = [], []
    for d in run.inputs:
        old = old_inputs.get(d.name)
        if old is None:
            new.append(d.name)
        elif old.hash == d.fingerprint.hash:
            same.append(d.name)
        else:
            changed[d.name] = d.fingerprint.changed_parts(old) or ["content"]
    return RunDiff(previous.id, params, metrics, changed, tuple(same), tuple(new))


def format_delta(old: float, new: float) -> str:
    if math.isnan(old) or math.isnan(new):
        return f"{old:.4g} → {new:.4g}"
    d = new - old
    return f"{new:.4g} ({'+' if d >= 0 else ''}{d:.4g})"


def inputs_changed(runs: list[Run]) -> dict[str, dict[str, list[str]]]:
    """For each input, the runs whose copy differs from the first run that read it, with the
    parts (columns, index, schema) that changed: ``{"X_train": {run_id: ["bmi"]}}``."""
    first: dict[str, Any] = {}
    changed: dict[str, dict[str, list[str]]] = {}
    for r in runs:
        for d in r.inputs:
            base = first.setdefault(d.name, d.fingerprint)
            if base.hash != d.fingerprint.hash:
                parts = d.fingerprint.changed_parts(base) or ["content"]
                changed.setdefault(d.name, {})[r.id] = parts
    return changed


def compare_frame(runs: list[Run]) -> pd.DataFrame:
    """Params and metrics of ``runs`` side by side: one column per run, one row per key. An
    input that differs from the first run's names what changed, as the cell summary does."""
    import pandas as pd

    changed = inputs_changed(runs)
    rows: dict[str, dict[str, Any]] = {}
    for r in runs:
        col = r.short_id
        for k, v in r.params.items():
            rows.setdefault(f"params.{k}", {})[col] = v
        for k, m in r.metrics.items():
            rows.setdefault(f"metrics.{k}", {})[col] = m
        for d in r.inputs:
            parts = changed.get(d.name, {}).get(r.id)
            what = f" (changed: {', '.join(parts[:4])})" if parts else ""
            rows.setdefault(f"data.{d.name}", {})[col] = d.fingerprint.short + what
        rows.setdefault("status", {})[col] = r.status.value
        rows.setdefault("seed", {})[col] = r.seed
        rows.setdefault("duration", {})[col] = r.duration
    frame = pd.DataFrame.from_dict(
        rows, orient="index", columns=[r.short_id for r in runs], dtype=object
    )
    differs = frame.apply(lambda row: row.astype(str).nunique() > 1, axis=1)
    frame.insert(0, "differs", differs)
    ranks = {key: _row_rank(key, bool(differs[key])) for key in frame.index}
    return frame.loc[sorted(frame.index, key=ranks.__getitem__)]


def _row_rank(key: str, differs: bool) -> tuple[int, bool, str]:
    """Status, metrics, params, data …; within each, the rows that differ come first."""
    order = {"status": 0, "metrics": 1, "params": 2, "data": 3, "seed": 4, "duration": 5}
    return (order.get(key.split(".")[0], 9), not differs, key)
