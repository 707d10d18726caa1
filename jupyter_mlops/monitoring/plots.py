"""``mlops.plot_drift`` and ``mlops.plot_performance``: the monitoring history over time, with
the monitor's thresholds as lines and breaches as red markers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ..codec import parse_time
from ..exceptions import ValidationError
from ..figures import BREACH, NEUTRAL, themed_figure
from ..store.base import RunStore
from .history import history
from .metrics import HIGHER_IS_BETTER
from .trends import series


def _when(t: str | float) -> dt.datetime:
    """A point's time: ISO-8601 in the series JSON (epoch seconds accepted)."""
    return parse_time(t)


def _draw(data: dict[str, Any], title: str) -> Any:
    """A figure of ``report.series`` data: a line per series, the thresholds dashed, breaches
    as red markers (the sidebar's chart draws the same data). A bare Figure, not pyplot: no
    global state and no GUI backend in serving processes; it displays itself in any kernel."""
    with themed_figure((8, 3.5)) as (fig, ax):
        for i, line in enumerate(data["series"]):
            xs = [_when(p["time"]) for p in line["points"]]
            ys = [p["value"] for p in line["points"]]
            ax.plot(xs, ys, marker="o", label=line["label"])
            bad = [(x, y) for x, y, p in zip(xs, ys, line["points"], strict=True) if p["breach"]]
            bx, by = [x for x, _ in bad], [y for _, y in bad]
            ax.scatter(bx, by, color=BREACH, zorder=3, label="_nolegend_" if i else "breach")
        for limit in data["thresholds"]:
            ax.axhline(limit, color=NEUTRAL, linestyle="--", label=f"threshold {limit:g}")
        ax.set_ylabel(data["label"])
        ax.set_title(title)
        ax.legend(loc="best")
        fig.autofmt_xdate()
    return fig


def plot_drift(
    name: str,
    column: str | None = None,
    *,
    since: float | None = None,
    store: RunStore | None = None,
    monitors_dir: str | Path | None = None,
    pipelines_dir: str | Path | None = None,
) -> Any:
    """Share of drifted columns per blessed batch (or ``column``'s statistic or adjusted p)."""
    h = history(name, since, store=store, monitors_dir=monitors_dir, pipelines_dir=pipelines_dir)
    data = series(h, "drift", column=column)
    return _draw(data, f"{h.name}: drift" + (f" of {column}" if column else ""))


def plot_performance(
    name: str,
    metric: str,
    *,
    since: float | None = None,
    store: RunStore | None = None,
    monitors_dir: str | Path | None = None,
    pipelines_dir: str | Path | None = None,
) -> Any:
    """``metric`` per labelled batch, one line per version (blessed and shadows)."""
    if metric not in HIGHER_IS_BETTER:
        raise ValidationError(
            f"Unknown metric {metric!r}; use one of {', '.join(HIGHER_IS_BETTER)}"
        )
    h = history(name, since, store=store, monitors_dir=monitors_dir, pipelines_dir=pipelines_dir)
    return _draw(series(h, "performance", metric=metric), f"{h.name}: {metric} on labelled batches")
