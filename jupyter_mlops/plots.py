"""matplotlib views of runs: metric curves side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .exceptions import ValidationError

if TYPE_CHECKING:
    from .entities import Run
    from .tracking import Tracker


def plot_metric_comparison(runs: list[Run], tracker: Tracker, metric: str) -> Any:
    """One line per run of ``metric`` by step (a bar per run when it has a single value)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    found = False
    for run in runs:
        hist = tracker.metric_history(run.id, metric)
        if hist.empty:
            continue
        found = True
        if len(hist) == 1:
            ax.bar(run.short_id, hist["value"].iloc[0])
        else:
            ax.plot(hist["step"], hist["value"], marker=".", label=run.short_id)
    if not found:
        plt.close(fig)
        raise ValidationError(f"None of these runs logged metric {metric!r}")
    ax.set_title(metric)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
        ax.set_xlabel("step")
    fig.tight_layout()
    return fig
