"""Notebook views of runs: ``%mlops runs`` and ``%mlops compare`` as widgets, with a static
HTML version and text in the same MIME bundle.

``RunsFrame`` and ``CompareFrame`` are the DataFrames the magics always returned, so code that
indexes them keeps working. Their ``_repr_mimebundle_`` offers the widget *and* an HTML
version *and* text. Which one is shown is the front-end's choice:

- JupyterLab ranks the widget first, but its renderer is "unsafe", so an untrusted notebook
  (a papermill output, a notebook from someone else) shows the sanitized HTML instead;
- nbconvert's HTML export (and what renders notebooks from it) shows the widget only when the
  notebook's metadata holds that widget's saved state, else the HTML;
- a notebook saved *with* widget state (nbclient's ``store_widget_state``, or JupyterLab's
  *Save Widget State Automatically*) needs no kernel: anywidget's module and the page are in
  the state, so the grid itself renders;
- terminal IPython prints the text.

A *trusted* notebook saved without widget state is JupyterLab's gap: ipywidgets' renderer
says "model not found" and never tries the next MIME type (jupyter-widgets/ipywidgets#849,
jupyterlab/jupyterlab#1139). Our outputs carry :data:`FALLBACK_METADATA`, by which the lab
extension (``labextension/src/widgetFallback.ts``) knows them and shows their HTML instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..tracking import reading_tracker
from ..views import RunsQuery, compare_runs

if TYPE_CHECKING:
    from ..tracking import Tracker
    from ..views import Comparison

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# The output metadata that marks our widget outputs: where their model is gone, the lab
# extension renders the output's text/html in place of ipywidgets' error.
FALLBACK_METADATA = {"jupyter_mlops": {"widget_fallback": "text/html"}}


def _in_kernel() -> bool:
    """Widgets need a kernel to talk to; terminal IPython and plain Python have none."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return getattr(shell, "kernel", None) is not None


def _wanted(include: Any, exclude: Any) -> bool:
    return (include is None or WIDGET_MIME in include) and not (exclude and WIDGET_MIME in exclude)


class RunsView:
    """The widget behind ``%mlops runs``: the paged, sortable :class:`RunsGrid` and, below
    it, the :class:`CompareWidget` its *Compare* button fills."""

    def __init__(
        self,
        query: RunsQuery | None = None,
        tracker: Tracker | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> None:
        import ipywidgets as w  # type: ignore[import-untyped]

        from .compare_widget import CompareWidget
        from .grid import PAGE_SIZE, RunsGrid

        self.tracker = tracker
        self.grid = RunsGrid(query, tracker, limit, page_size or PAGE_SIZE)
        self.compare = CompareWidget()
        self.grid.on_compare = self.show_compare
        self.widget = w.VBox([self.grid, self.compare])

    def show_compare(self, run_ids: list[str]) -> None:
        tracker = reading_tracker(self.tracker)
        self.compare.show(compare_runs(tracker, run_ids), tracker)

    def html(self) -> str:
        return self.grid.html()


class RunsFrame(pd.DataFrame):
    """``%mlops runs``: the ``runs()`` DataFrame, displayed as a :class:`RunsView` that pages
    through ``query`` (the magic's options) in the store."""

    _metadata = ["runs_query", "runs_limit"]  # noqa: RUF012  (pandas reads this attribute)

    def __init__(
        self,
        data: Any = None,
        *args: Any,
        query: RunsQuery | None = None,
        limit: int | None = None,
        **kw: Any,
    ):
        super().__init__(data, *args, **kw)  # type: ignore[call-arg]
        self.runs_query = query  # not .query: that is DataFrame.query
        self.runs_limit = limit

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame  # slices and copies are plain frames

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        frame = pd.DataFrame(self)
        text = frame.to_string(max_rows=40, max_colwidth=24) if len(frame) else "no runs"
        view = RunsView(self.runs_query or RunsQuery(), limit=self.runs_limit)
        bundle: dict[str, Any] = {"text/html": view.html(), "text/plain": text}
        if _wanted(include, exclude) and _in_kernel():
            bundle[WIDGET_MIME] = _view_data(view.widget)
            return bundle, FALLBACK_METADATA
        _close(view.widget)
        return bundle


def _view_data(widget: Any) -> Any:
    """The widget-view MIME data of ``widget`` (its model id); anywidget answers with a
    ``(data, metadata)`` pair, ipywidgets with the data."""
    bundle = widget._repr_mimebundle_()
    return (bundle[0] if isinstance(bundle, tuple) else bundle)[WIDGET_MIME]


def _close(widget: Any) -> None:
    """Close a widget tree nobody will display (no comm is left open)."""
    for child in getattr(widget, "children", ()):
        child.close()
    widget.close()


class CompareFrame(pd.DataFrame):
    """``%mlops compare``: the ``compare_frame`` DataFrame, displayed as a compare widget."""

    _metadata = ["run_ids", "comparison"]  # noqa: RUF012  (pandas reads this class attribute)

    def __init__(self, data: Any = None, *args: Any, run_ids: list[str] | None = None, **kw: Any):
        super().__init__(data, *args, **kw)  # type: ignore[call-arg]
        self.run_ids = list(run_ids or [])
        self.comparison: Comparison | None = None

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    @classmethod
    def of(cls, comparison: Comparison) -> CompareFrame:
        frame = cls(comparison.frame(), run_ids=list(comparison.runs))
        frame.comparison = comparison
        return frame

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        from .compare_widget import CompareWidget

        frame = pd.DataFrame(self)
        widget = CompareWidget()
        if len(self.run_ids) >= 2:
            tracker = reading_tracker(None)
            widget.show(self.comparison or compare_runs(tracker, self.run_ids), tracker)
        bundle: dict[str, Any] = {"text/html": widget.html(), "text/plain": frame.to_string()}
        if _wanted(include, exclude) and _in_kernel():
            bundle[WIDGET_MIME] = _view_data(widget)
            return bundle, FALLBACK_METADATA
        widget.close()
        return bundle


__all__ = ["FALLBACK_METADATA", "WIDGET_MIME", "CompareFrame", "RunsFrame", "RunsView"]
