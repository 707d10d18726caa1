"""mlops.plot_metric, plot_params, plot_drift and plot_performance: real runs in a real store,
real matplotlib figures that display in any kernel and read on every Lab theme."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.figure import Figure

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import ValidationError
from tests.monitoring.test_report import history  # noqa: F401  (a fixture)

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


def _luminance(colour: str) -> float:
    from matplotlib.colors import to_rgb

    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# The output backgrounds of JupyterLab Light, Dark (layout colours 0 and 1) and black.
BACKGROUNDS = ("#ffffff", "#111111", "#212121", "#000000")


def test_figure_colours_read_on_light_dark_and_black() -> None:
    """WCAG 1.4.11: graphics need 3:1 against what is behind them; a transparent figure is
    behind nothing of its own, so each colour is measured on each theme's background."""
    from jupyter_mlops.figures import BREACH, NEUTRAL, PALETTE

    for colour in (NEUTRAL, BREACH, *PALETTE):
        worst = min(_contrast(colour, bg) for bg in BACKGROUNDS)
        assert worst >= 3.0, f"{colour}: {worst:.2f}:1"


def test_figures_are_transparent_and_display_themselves(runs: list[str]) -> None:
    fig = mlops.plot_metric(runs, "loss")
    bundle = fig._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "image/png", "text/plain"}
    svg = bundle["image/svg+xml"]
    assert svg.startswith("<?xml") and ">loss<" in svg  # text stays text
    assert "#ffffff" not in svg.lower() and "#000000" not in svg.lower()  # no white box
    assert fig.patch.get_facecolor()[3] == 0 and fig.axes[0].patch.get_facecolor()[3] == 0
    from jupyter_mlops.figures import NEUTRAL, PALETTE

    ax = fig.axes[0]
    assert ax.title.get_color() == NEUTRAL
    assert [line.get_color() for line in ax.lines] == list(PALETTE[:3])


KERNEL_CELLS = (
    "import matplotlib, jupyter_mlops as mlops",
    # No %matplotlib ran: IPython has no formatter for a Figure (a bare one printed its repr).
    "from matplotlib.figure import Figure\n"
    "png = get_ipython().display_formatter.formatters['image/png']\n"
    "print(any(issubclass(Figure, t) for t in png.type_printers))",
    "mlops.plot_metric(mlops.runs(experiment='p'), 'loss')",
    "mlops.plot_params(mlops.runs(experiment='p'), x='C', y='accuracy')",
    "mlops.plot_drift('churn')",
    "mlops.plot_performance('churn', 'accuracy')",
)


@pytest.mark.slow
@pytest.mark.usefixtures("history")  # a monitor's drift and performance history
def test_plots_display_in_a_fresh_kernel_without_matplotlib_inline(
    tmp_path, runs: list[str]
) -> None:
    from nbclient import NotebookClient

    from tests.notebook_files import python_notebook

    nb = python_notebook(*KERNEL_CELLS)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    assert nb.cells[1].outputs[0]["text"] == "False\n"
    for cell in nb.cells[2:]:
        (out,) = cell.outputs
        assert out.output_type == "execute_result", cell.source
        assert {"image/svg+xml", "image/png"} <= set(out.data), cell.source
        assert out.data["image/svg+xml"].lstrip().startswith("<?xml")
