"""Notebook views of runs: ``%mlops runs`` and ``%mlops compare`` as ipywidgets, with HTML and
text fallbacks in the same MIME bundle.

``RunsFrame`` and ``CompareFrame`` are the DataFrames the magics always returned, so code that
indexes them keeps working. Their ``_repr_mimebundle_`` offers a widget view *and* an HTML table
*and* text: JupyterLab shows the widget; papermill outputs, nbconvert HTML and GitHub show the
HTML; terminal IPython prints the text. No front-end is guessed and no ``display`` call is
wrapped in try/except.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..display import display_time
from .plots import plot_metric

if TYPE_CHECKING:
    from ..tracking import Tracker

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_DIFF_STYLE = "background-color: #fff3b0"


def _in_kernel() -> bool:
    """Widgets need a kernel to talk to; terminal IPython and plain Python have none."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return getattr(shell, "kernel", None) is not None


def _bundle(widget_factory: Any, html_text: str, text: str, include: Any, exclude: Any) -> Any:
    bundle: dict[str, Any] = {"text/html": html_text, "text/plain": text}
    wanted = (include is None or WIDGET_MIME in include) and not (
        exclude and WIDGET_MIME in exclude
    )
    if wanted and _in_kernel():
        view = widget_factory()._repr_mimebundle_()
        bundle[WIDGET_MIME] = view[WIDGET_MIME]
    return bundle


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, pd.Timestamp):
        return display_time(v)
    return str(v)


# -- the runs table ---------------------------------------------------------------------------


def _display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns people read: short ids, names without the params./metrics. prefix."""
    show = pd.DataFrame(frame).drop(columns=["kind", "parent_id"], errors="ignore")
    if "id" in show:
        show["id"] = show["id"].str[:8]
    if "gates" in show and show["gates"].isna().all() and show["model"].isna().all():
        show = show.drop(columns=["gates", "model", "model_stage"])
    return show


def runs_html(frame: pd.DataFrame, run_ids: list[str] | None = None) -> str:
    """A static HTML table of runs; each row carries ``data-jupyter-mlops-run``."""
    show = _display_frame(frame)
    ids = run_ids if run_ids is not None else list(frame.get("id", []))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in show.columns)
    body = "".join(
        f'<tr data-jupyter-mlops-run="{html.escape(rid)}">'
        + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row)
        + "</tr>"
        for rid, row in zip(ids, show.itertuples(index=False), strict=False)
    )
    count = f"<p>{len(show)} run{'s' if len(show) != 1 else ''}</p>"
    return (
        f'<div class="jupyter-mlops-runs">{count}<table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


class RunsTable:
    """The widget behind ``%mlops runs``: a text filter, a sort column and direction, an HTML
    table of the matching rows, and a multi-select of runs with a *Compare* button."""

    def __init__(self, frame: pd.DataFrame, tracker: Tracker | None = None) -> None:
        import ipywidgets as w  # type: ignore[import-untyped]

        self.frame = pd.DataFrame(frame)
        self.tracker = tracker
        columns = [c for c in self.frame.columns if c not in ("kind", "parent_id")]
        self.filter = w.Text(placeholder="filter: text in any column", description="Filter")
        self.sort = w.Dropdown(options=columns, value="started" if "started" in columns else None)
        self.descending = w.ToggleButton(value=True, description="desc", icon="sort")
        self.table = w.HTML()
        self.select = w.SelectMultiple(rows=min(8, max(2, len(self.frame))), description="Select")
        self.compare_button = w.Button(description="Compare selected", disabled=True)
        self.output = w.Output()
        for control in (self.filter, self.sort, self.descending):
            control.observe(lambda _change: self.refresh(), names="value")
        self.select.observe(self._selection_changed, names="value")
        self.compare_button.on_click(lambda _b: self.show_compare())
        self.widget = w.VBox(
            [
                w.HBox([self.filter, self.sort, self.descending]),
                self.table,
                w.HBox([self.select, self.compare_button]),
                self.output,
            ]
        )
        self.refresh()

    def visible(self) -> pd.DataFrame:
        """The rows the filter matches, in the chosen order."""
        frame = self.frame
        text = self.filter.value.strip().lower()
        if text:
            hay = frame.astype(str).apply(lambda col: col.str.lower())
            frame = frame[hay.apply(lambda row: row.str.contains(text, regex=False).any(), axis=1)]
        if self.sort.value is not None:
            frame = frame.sort_values(
                self.sort.value, ascending=not self.descending.value, na_position="last"
            )
        return frame

    def refresh(self) -> None:
        rows = self.visible()
        self.table.value = runs_html(rows)
        labels = [
            (f"{rid[:8]}  {name or ''}  {exp}", rid)
            for rid, name, exp in zip(rows["id"], rows["name"], rows["experiment"], strict=False)
        ]
        keep = tuple(r for r in self.select.value if r in set(rows["id"]))
        self.select.options = labels
        self.select.value = keep

    @property
    def selected_ids(self) -> list[str]:
        return list(self.select.value)

    def _selection_changed(self, _change: Any) -> None:
        self.compare_button.disabled = len(self.select.value) < 2

    def show_compare(self) -> None:
        from ..tracking import reading_tracker
        from ..views import compare_runs

        comparison = compare_runs(reading_tracker(self.tracker), list(self.selected_ids))
        self.output.clear_output()
        with self.output:
            from IPython.display import display

            display(CompareFrame(comparison.frame(), run_ids=list(comparison.runs)))


class RunsFrame(pd.DataFrame):
    """``%mlops runs``: the ``runs()`` DataFrame, displayed as a :class:`RunsTable`."""

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame  # slices and copies are plain frames

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        frame = pd.DataFrame(self)
        text = frame.to_string(max_rows=40, max_colwidth=24) if len(frame) else "no runs"
        return _bundle(lambda: RunsTable(frame).widget, runs_html(frame), text, include, exclude)


# -- compare ------------------------------------------------------------------------------------


def compare_html(frame: pd.DataFrame) -> str:
    """The compare table, rows whose values differ highlighted (``class="differs"``)."""
    columns = [c for c in frame.columns if c != "differs"]
    head = "<th>key</th>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    rows = []
    for key, row in frame.iterrows():
        differs = bool(row.get("differs", False))
        attrs = f' class="differs" style="{_DIFF_STYLE}"' if differs else ""
        cells = "".join(f"<td>{html.escape(_fmt(row[c]))}</td>" for c in columns)
        rows.append(f"<tr{attrs}><th>{html.escape(str(key))}</th>{cells}</tr>")
    return (
        f'<table class="jupyter-mlops-compare"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


def _metric_keys(frame: pd.DataFrame) -> list[str]:
    return [str(k).removeprefix("metrics.") for k in frame.index if str(k).startswith("metrics.")]


class CompareView:
    """The widget behind ``%mlops compare``: the aligned table with differences highlighted,
    and a chart of the chosen metric over steps for every run."""

    def __init__(
        self, frame: pd.DataFrame, run_ids: list[str], tracker: Tracker | None = None
    ) -> None:
        import ipywidgets as w

        self.frame = frame
        self.run_ids = run_ids
        self.tracker = tracker
        self.table = w.HTML(compare_html(frame))
        keys = _metric_keys(frame)
        self.metric = w.Dropdown(
            options=keys, value=keys[0] if keys else None, description="Metric"
        )
        self.chart = w.Image(format="png")
        self.metric.observe(lambda _change: self.draw(), names="value")
        self.widget = w.VBox([self.table, self.metric, self.chart])
        self.draw()

    def draw(self) -> None:
        if self.metric.value is None:
            self.chart.value = b""
            return
        self.chart.value = _png(plot_metric(self.run_ids, self.metric.value, tracker=self.tracker))


class CompareFrame(pd.DataFrame):
    """``%mlops compare``: the ``compare_frame`` DataFrame, displayed as a :class:`CompareView`."""

    _metadata = ["run_ids"]  # noqa: RUF012  (pandas reads this class attribute)

    def __init__(self, data: Any = None, *args: Any, run_ids: list[str] | None = None, **kw: Any):
        super().__init__(data, *args, **kw)  # type: ignore[call-arg]
        self.run_ids = list(run_ids or [])

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        frame = pd.DataFrame(self)
        page = compare_html(frame)
        keys = _metric_keys(frame)
        if keys and self.run_ids:
            png = base64.b64encode(_png(plot_metric(self.run_ids, keys[0]))).decode()
            page += f'<img alt="{html.escape(keys[0])}" src="data:image/png;base64,{png}"/>'
        return _bundle(
            lambda: CompareView(frame, self.run_ids).widget,
            page,
            frame.to_string(),
            include,
            exclude,
        )
