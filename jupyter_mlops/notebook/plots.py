"""matplotlib views of runs: metric curves over steps and a param vs metric scatter.

``plot_metric`` and ``plot_params`` build a :func:`~jupyter_mlops.figures.themed_figure` without
pyplot, so a figure is shown once (as the cell's value, SVG and PNG, in any kernel and without
``%matplotlib inline``), never leaks into pyplot's list of open figures, and reads on every Lab
theme.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..exceptions import ValidationError
from ..figures import themed_figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from ..entities import Run
    from ..tracking import Tracker

RunsLike = Any  # a runs() DataFrame, Run objects, run ids (or prefixes), or a mix


def _runs(runs: RunsLike, tracker: Tracker) -> list[Run]:
    """Resolve ``runs`` to Run objects, in the order given."""
    from ..entities import Run

    if hasattr(runs, "columns") and "id" in getattr(runs, "columns", ()):
        items: Iterable[Any] = list(runs["id"])
    elif isinstance(runs, (str, Run)):
        items = [runs]
    else:
        items = runs
    out = [r if isinstance(r, Run) else tracker.get_run(str(r)) for r in items]
    if not out:
        raise ValidationError("No runs to plot; pass run ids, Run objects or a runs() frame")
    return out


def plot_metric(runs: RunsLike, key: str, *, tracker: Tracker | None = None) -> Figure:
    """One curve per run of metric ``key`` over its steps (a marker for a single value)."""
    from ..tracking import reading_tracker

    tracker = reading_tracker(tracker)
    resolved = _runs(runs, tracker)
    histories = [(run, tracker.metric_history(run.id, key)) for run in resolved]
    histories = [(run, hist) for run, hist in histories if not hist.empty]
    if not histories:
        known = sorted({k for r in resolved for k in r.metrics})
        raise ValidationError(
            f"None of these runs logged metric {key!r}; their metrics: {', '.join(known) or 'none'}"
        )
    with themed_figure((6, 3.5), layout="tight") as (fig, ax):
        for run, hist in histories:
            style = "o" if len(hist) == 1 else ".-"
            ax.plot(hist["step"], hist["value"], style, label=run.name or run.short_id)
        ax.set_title(key)
        ax.set_xlabel("step")
        ax.set_ylabel(key)
        ax.legend(fontsize="small")
    return fig


def _column(frame: pd.DataFrame, name: str) -> str:
    """``C`` → ``params.C`` or ``metrics.C`` (whichever exists); full names pass through."""
    for col in (name, f"params.{name}", f"metrics.{name}"):
        if col in frame.columns:
            return col
    known = [c for c in frame.columns if c.startswith(("params.", "metrics."))]
    raise ValidationError(
        f"No param or metric {name!r} in these runs; known: {', '.join(known) or 'none'}"
    )


def _frame(runs: RunsLike, tracker: Tracker | None) -> pd.DataFrame:
    import pandas as pd

    if hasattr(runs, "columns"):  # already a runs() frame: no store access needed
        return runs
    from ..tracking import reading_tracker

    rows = []
    for r in _runs(runs, reading_tracker(tracker)):
        row: dict[str, Any] = {"id": r.id, "name": r.name}
        row.update({f"params.{k}": v for k, v in r.params.items()})
        row.update({f"metrics.{k}": v for k, v in r.metrics.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def spans_decades(values: Iterable[float], ratio: float = 100.0) -> bool:
    """True when every value is positive and the largest is at least ``ratio`` × the smallest."""
    vals = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return bool(vals) and min(vals) > 0 and max(vals) / min(vals) >= ratio


def plot_params(runs: RunsLike, x: str, y: str, *, tracker: Tracker | None = None) -> Figure:
    """A scatter of ``y`` against ``x`` (params or metrics, e.g. ``x="C", y="accuracy"``), one
    point per run; an axis is log-scaled when its values span two decades or more."""
    import pandas as pd

    frame = _frame(runs, tracker)
    xcol, ycol = _column(frame, x), _column(frame, y)
    data = frame[[xcol, ycol]].dropna()
    if data.empty:
        raise ValidationError(f"No run has both {xcol} and {ycol}")
    xs = pd.to_numeric(data[xcol], errors="coerce")
    numeric_x = not xs.isna().any()
    ys = pd.to_numeric(data[ycol], errors="coerce")
    with themed_figure((5, 3.5), layout="tight") as (fig, ax):
        if numeric_x:
            ax.scatter(xs, ys)
            if spans_decades(xs):
                ax.set_xscale("log")
        else:  # categories (a solver name): one column of points per value
            ax.scatter(data[xcol].astype(str), ys)
        if spans_decades(ys):
            ax.set_yscale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{y} vs {x}")
    return fig


def plot_metric_comparison(runs: list[Run], tracker: Tracker, metric: str) -> Figure:
    """``%mlops compare --plot``: one line per run of ``metric`` by step (a bar per run when it
    has a single value), labelled by run name."""
    histories = [(run, tracker.metric_history(run.id, metric)) for run in runs]
    histories = [(run, hist) for run, hist in histories if not hist.empty]
    if not histories:
        raise ValidationError(f"None of these runs logged metric {metric!r}")
    with themed_figure((6, 3.5), layout="tight") as (fig, ax):
        for i, (run, hist) in enumerate(histories):
            label = run.name or run.short_id
            if len(hist) == 1:
                ax.bar(label, hist["value"].iloc[0], color=f"C{i}")
            else:
                ax.plot(hist["step"], hist["value"], marker=".", label=label, color=f"C{i}")
        ax.set_title(metric)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
            ax.set_xlabel("step")
    return fig
