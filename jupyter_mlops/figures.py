"""The figures jupyter-mlops draws (``plot_metric``, ``plot_params``, ``plot_drift``…): a
matplotlib ``Figure`` that displays itself in any kernel, in a style that reads on JupyterLab's
light, dark and high-contrast themes.

Why a Figure of our own: a bare ``matplotlib.figure.Figure`` (we never use pyplot, so no figure
leaks into pyplot's list) has no rich repr until ``%matplotlib inline`` registers IPython
formatters, so a fresh kernel printed ``<Figure size 600x350 with 1 Axes>``. ``ThemedFigure``
answers ``_repr_mimebundle_`` itself with an SVG (crisp at any zoom) and a PNG (what JupyterLab
shows in an untrusted notebook, where SVG is not rendered), so no backend is needed.

Why this style: JupyterLab shows an SVG output as an ``<img>``, a separate document that the
theme's CSS variables never reach, so the colours cannot follow the theme. The figure is
transparent instead, so it sits on the output's own background, and every colour is chosen to
keep a contrast of at least 3:1 (WCAG 1.4.11 for graphics) on white, on the dark theme's
#111111 and #212121, and on black: text and axes in one mid grey (3.95:1 on white, 4.08:1 on
#212121), and a palette of mid-luminance hues. ``tests/test_plots.py`` measures both.

Nothing here imports IPython: the repr is a plain method IPython looks for.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

# Grey for text, ticks, spines and reference lines; the series palette. See the module doc.
NEUTRAL = "#808080"
PALETTE = (
    "#1c7ed6",
    "#e8590c",
    "#2f9e44",
    "#ae3ec9",
    "#e03131",
    "#0c8599",
    "#e64980",
    "#5c7cfa",
)
BREACH = "#e03131"
PNG_DPI = 100

STYLE: dict[str, Any] = {
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.transparent": True,
    "text.color": NEUTRAL,
    "axes.labelcolor": NEUTRAL,
    "axes.edgecolor": NEUTRAL,
    "axes.titlecolor": NEUTRAL,
    "xtick.color": NEUTRAL,
    "ytick.color": NEUTRAL,
    "grid.color": NEUTRAL,
    "grid.alpha": 0.3,
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "legend.labelcolor": NEUTRAL,
    "svg.fonttype": "none",  # text stays text: selectable, and smaller than glyph paths
}


@cache
def _figure_class() -> type:
    """``ThemedFigure``, built on first use so importing this module never imports matplotlib."""
    from matplotlib.figure import Figure

    class ThemedFigure(Figure):
        """A Figure that displays itself (SVG and PNG) in any kernel."""

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
            return {
                "image/svg+xml": figure_svg(self),
                "image/png": base64.b64encode(_save(self, "png", dpi=PNG_DPI)).decode(),
                "text/plain": repr(self),
            }

    return ThemedFigure


@contextmanager
def themed_figure(figsize: tuple[float, float] = (6, 3.5), **kwargs: Any) -> Iterator[Any]:
    """``with themed_figure() as (fig, ax):`` a ``ThemedFigure`` with one Axes, drawn in the
    style for any Lab theme: the style is active for the whole block, since matplotlib reads
    its settings as each title, label, line and legend is made."""
    import matplotlib as mpl
    from cycler import cycler

    style: Any = STYLE | {"axes.prop_cycle": cycler(color=PALETTE)}
    with mpl.rc_context(style):
        fig = _figure_class()(figsize=figsize, **kwargs)
        yield fig, fig.add_subplot()


def _save(fig: Any, fmt: str, **kwargs: Any) -> bytes:
    import matplotlib as mpl

    buf = io.BytesIO()
    style: Any = STYLE
    with mpl.rc_context(style):
        fig.savefig(buf, format=fmt, transparent=True, **kwargs)
    return buf.getvalue()


def figure_svg(fig: Any) -> str:
    """The figure as an SVG document (text kept as text)."""
    return _save(fig, "svg").decode()
