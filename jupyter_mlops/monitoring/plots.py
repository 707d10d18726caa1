"""``mlops.plot_drift`` and ``mlops.plot_performance``: the monitoring history over time, with
the monitor's thresholds as lines and breaches as red markers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ..exceptions import ValidationError
from ..store.base import RunStore
from .history import history
from .metrics import HIGHER_IS_BETTER


def _figure() -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    # A bare Figure, not pyplot: no global state and no GUI backend in serving processes.
    fig = Figure(figsize=(8, 3.5))
    return fig, fig.add_subplot()


def _when(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, tz=dt.timezone.utc)


def plot_drift(
    name: str,
    column: str | None = None,
    *,
    since: float | None = None,
    store: RunStore | None = None,
    monitors_dir: str | Path = "monitors",
) -> Any:
    """Share of drifted columns per blessed batch (or ``column``'s statistic or adjusted p)."""
    h = history(name, since, store=store, monitors_dir=monitors_dir)
    rows = [b for b in h.batches if b.share_drifted is not None]
    if column is not None:
        rows = [b for b in rows if column in b.column_stats]
        if not rows:
            raise ValidationError(f"No drift measured for column {column!r} of model {name!r}")
    fig, ax = _figure()
    xs = [_when(b.time) for b in rows]
    if column is None:
        ys = [float(b.share_drifted or 0.0) for b in rows]
        limit = next(
            (c.max_share for c in (h.spec.checks if h.spec else ()) if c.kind == "drift"), 0.0
        )
        bad = [y > limit for y in ys]
        ax.set_ylabel("share of columns drifted")
    else:
        ys = [b.column_stats[column][0] for b in rows]
        limit = rows[-1].column_stats[column][1] if rows else 0.0
        bad = [b.column_stats[column][2] for b in rows]
        ax.set_ylabel(f"{column}: statistic (or adjusted p)")
    ax.plot(xs, ys, marker="o", label="drift")
    ax.axhline(limit, color="grey", linestyle="--", label=f"threshold {limit:g}")
    bx = [x for x, b in zip(xs, bad, strict=True) if b]
    by = [y for y, b in zip(ys, bad, strict=True) if b]
    ax.scatter(bx, by, color="red", zorder=3, label="breach")
    ax.set_title(f"{h.name}: drift" + (f" of {column}" if column else ""))
    ax.legend(loc="best")
    fig.autofmt_xdate()
    return fig


def plot_performance(
    name: str,
    metric: str,
    *,
    since: float | None = None,
    store: RunStore | None = None,
    monitors_dir: str | Path = "monitors",
) -> Any:
    """``metric`` per labelled batch, one line per version (blessed and shadows)."""
    if metric not in HIGHER_IS_BETTER:
        raise ValidationError(
            f"Unknown metric {metric!r}; use one of {', '.join(HIGHER_IS_BETTER)}"
        )
    h = history(name, since, store=store, monitors_dir=monitors_dir)
    check = next(
        (
            c
            for c in (h.spec.checks if h.spec else ())
            if c.kind == "performance" and c.metric == metric
        ),
        None,
    )
    fig, ax = _figure()
    for version in sorted({b.version for b in h.batches}):
        rows = [b for b in h.batches if b.version == version and metric in b.metrics]
        if not rows:
            continue
        role = rows[-1].role
        xs = [_when(b.time) for b in rows]
        ys = [b.metrics[metric] for b in rows]
        ax.plot(xs, ys, marker="o", label=f"{h.name}@{version} ({role})")
        if check is not None:
            bad = [
                (x, y)
                for x, y in zip(xs, ys, strict=True)
                if (check.min is not None and y < check.min)
                or (check.max is not None and y > check.max)
            ]
            if bad:
                ax.scatter(*zip(*bad, strict=True), color="red", zorder=3)
    if check is not None:
        for limit in (check.min, check.max):
            if limit is not None:
                ax.axhline(limit, color="grey", linestyle="--", label=f"threshold {limit:g}")
    ax.set_ylabel(metric)
    ax.set_title(f"{h.name}: {metric} on labelled batches")
    ax.legend(loc="best")
    fig.autofmt_xdate()
    return fig
