"""mlops.plot_metric and mlops.plot_params: real runs in a real store, real matplotlib figures."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.figure import Figure

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import ValidationError

matplotlib.use("Agg")


@pytest.fixture
def runs(tracker: mlops.Tracker) -> list[str]:
    ids = []
    for i, (c, solver) in enumerate([(0.01, "lbfgs"), (1.0, "saga"), (100.0, "lbfgs")]):
        with mlops.start_run(experiment="p", name=f"r{i}", seed=None) as run:
            run.log_params({"C": c, "solver": solver})
            for step in range(4):
                run.log_metric("loss", (i + 1) / (step + 1), step=step)
            run.log_metric("accuracy", 0.5 + 0.1 * i)
        ids.append(run.id)
    return ids


def test_plot_metric_draws_one_curve_per_run(runs: list[str]) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = mlops.plot_metric(runs[:2], "loss")
    assert isinstance(fig, Figure) and plt.get_fignums() == before  # not left open in pyplot
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == ["r0", "r1"]
    assert list(ax.lines[1].get_xdata()) == [0, 1, 2, 3]
    assert list(ax.lines[1].get_ydata()) == pytest.approx([2, 1, 2 / 3, 0.5])
    assert ax.get_title() == "loss" and ax.get_xlabel() == "step"


def test_plot_metric_accepts_a_frame_prefixes_and_runs(runs: list[str]) -> None:
    frame = mlops.runs(experiment="p", order_by="started")
    assert len(mlops.plot_metric(frame, "loss").axes[0].lines) == 3
    fig = mlops.plot_metric([runs[0][:6], mlops.get_run(runs[2])], "accuracy")
    assert [len(line.get_xdata()) for line in fig.axes[0].lines] == [1, 1]


def test_plot_metric_names_the_metrics_there_are(runs: list[str]) -> None:
    with pytest.raises(ValidationError, match="metric 'los'.*accuracy, loss"):
        mlops.plot_metric(runs, "los")


def test_plot_params_scatter_is_log_scaled_across_decades(runs: list[str]) -> None:
    fig = mlops.plot_params(mlops.runs(experiment="p"), x="C", y="accuracy")
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    points = sorted(map(tuple, ax.collections[0].get_offsets().tolist()))
    assert [x for p in points for x in p] == pytest.approx([0.01, 0.5, 1.0, 0.6, 100.0, 0.7])
    assert ax.get_xlabel() == "C" and ax.get_ylabel() == "accuracy"


def test_plot_params_narrow_and_categorical_axes(runs: list[str]) -> None:
    ax = mlops.plot_params(runs, x="metrics.accuracy", y="C").axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "log")  # 0.5…0.7 vs 0.01…100
    ax = mlops.plot_params(runs, x="solver", y="accuracy").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["lbfgs", "saga"]
    with pytest.raises(ValidationError, match="No param or metric 'gamma'.*params.C"):
        mlops.plot_params(runs, x="gamma", y="accuracy")
