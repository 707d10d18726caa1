"""``%mlops compare`` as a widget: the aligned params and metrics (differing rows marked) and
real charts, labelled by run name: overlaid curves for each metric logged over steps, and one
bar chart of the metrics logged once. The browser draws them as SVG from the theme's colours
(``static/widgets.js``); the static fallback draws the same charts with matplotlib as SVG.
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets as t

from ..exceptions import NotFoundError
from ..figures import figure_svg, themed_figure
from ..views import Comparison, metric_series
from .cells import format_duration, format_value, number_format
from .grid import FALLBACK_STYLE, STATIC

if TYPE_CHECKING:
    from ..tracking import Tracker

MAX_POINTS = 2000  # per curve sent to the browser: a chart's width, not a run's history


def _thin(points: list[Any]) -> list[Any]:
    """At most MAX_POINTS points, evenly spaced, the last one kept."""
    if len(points) <= MAX_POINTS:
        return points
    stride = -(-len(points) // MAX_POINTS)
    return points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])


def compare_charts(tracker: Tracker, comparison: Comparison, labels: list[str]) -> dict[str, Any]:
    """``{"curves": [{key, series: [{label, points}]}], "bars": [{key, bars: [{label,
    value}]}]}``: a curve chart per metric some run logged at several steps, and the metrics
    every run logged once as bars."""
    keys = [r.key.removeprefix("metrics.") for r in comparison.rows if r.key.startswith("metrics.")]
    curves: list[dict[str, Any]] = []
    bars: list[dict[str, Any]] = []
    for key in keys:
        series: list[dict[str, Any]] = []
        for run_id, label in zip(comparison.runs, labels, strict=True):
            try:
                points = metric_series(tracker, run_id, key).steps
            except NotFoundError:
                continue
            series.append({"label": label, "points": [[float(p.step), p.value] for p in points]})
        if any(len(s["points"]) > 1 for s in series):
            for s in series:
                s["points"] = _thin(s["points"])
            curves.append({"key": key, "series": series})
        elif series:
            bars.append(
                {
                    "key": key,
                    "bars": [{"label": s["label"], "value": s["points"][0][1]} for s in series],
                }
            )
    return {"curves": curves, "bars": bars}


def compare_table(comparison: Comparison) -> list[dict[str, Any]]:
    """Each row as ``{key, differs, values}`` with the values as text, numbers of a row in one
    precision."""
    out = []
    for row in comparison.rows:
        raw = [row.values.get(c) for c in comparison.columns]
        if row.key == "duration":
            values = [format_duration(v) if isinstance(v, (int, float)) else "" for v in raw]
        else:
            spec = number_format(raw)
            values = [format_value(v, spec) for v in raw]
        out.append({"key": row.key, "differs": row.differs, "values": values})
    return out


class CompareWidget(anywidget.AnyWidget):
    """Runs compared: ``runs`` (their labels), ``table`` and ``charts`` (see
    :func:`compare_charts`). Empty until runs are set with :meth:`show`."""

    _esm = STATIC / "widgets.js"
    _css = STATIC / "widgets.css"
    view = t.Unicode("compare").tag(sync=True)
    runs = t.List(t.Dict()).tag(sync=True)
    table = t.List(t.Dict()).tag(sync=True)
    charts = t.Dict().tag(sync=True)

    def show(self, comparison: Comparison, tracker: Tracker) -> None:
        """Show ``comparison`` (its runs' names read once, for the labels)."""
        labels = _labels(tracker, comparison)
        self.runs = [{"id": i, "label": lb} for i, lb in zip(comparison.runs, labels, strict=True)]
        self.table = compare_table(comparison)
        self.charts = compare_charts(tracker, comparison, labels)

    def html(self) -> str:
        return compare_html(self.runs, self.table, self.charts)


def _labels(tracker: Tracker, comparison: Comparison) -> list[str]:
    """Run names, made unique by their short id where two runs share one."""
    runs = [tracker.get_run(r) for r in comparison.runs]
    names = [r.name or r.short_id for r in runs]
    return [
        n if names.count(n) == 1 else f"{n} ({r.short_id})"
        for n, r in zip(names, runs, strict=True)
    ]


def compare_html(
    runs: list[dict[str, Any]], table: list[dict[str, Any]], charts: dict[str, Any]
) -> str:
    """The static fallback: the table, then each chart as an SVG image drawn by matplotlib."""
    esc = html.escape
    head = '<th scope="col">key</th>' + "".join(
        f'<th scope="col">{esc(r["label"])}</th>' for r in runs
    )
    body = "".join(
        f'<tr{" class=differs" if row["differs"] else ""}><th scope="row">{esc(row["key"])}'
        + ("<span> (differs)</span>" if row["differs"] else "")
        + "</th>"
        + "".join(f"<td>{esc(v)}</td>" for v in row["values"])
        + "</tr>"
        for row in table
    )
    images = "".join(
        f'<img alt="{esc(alt)}" src="data:image/svg+xml;base64,'
        f'{base64.b64encode(svg.encode()).decode()}"/>'
        for alt, svg in _chart_svgs(charts)
    )
    return (
        f'<div class="jupyter-mlops-compare">{FALLBACK_STYLE}<table><thead><tr>{head}</tr>'
        f"</thead><tbody>{body}</tbody></table><div>{images}</div></div>"
    )


def _chart_svgs(charts: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for chart in charts.get("curves", []):
        with themed_figure((5, 3), layout="tight") as (fig, ax):
            for s in chart["series"]:
                xs, ys = zip(*s["points"], strict=True) if s["points"] else ((), ())
                ax.plot(xs, ys, marker="." if len(xs) < 50 else None, label=s["label"])
            ax.set_title(chart["key"])
            ax.set_xlabel("step")
            ax.legend(fontsize="small")
        out.append((f"{chart['key']} by step", figure_svg(fig)))
    for chart in charts.get("bars", []):
        with themed_figure((5, 0.6 + 0.35 * len(chart["bars"])), layout="tight") as (fig, ax):
            labels = [b["label"] for b in chart["bars"]]
            ax.barh(
                labels,
                [b["value"] for b in chart["bars"]],
                color=[f"C{i}" for i in range(len(labels))],
            )
            ax.invert_yaxis()
            ax.set_title(chart["key"])
        out.append((f"{chart['key']} by run", figure_svg(fig)))
    return out
