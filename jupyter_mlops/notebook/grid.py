"""The runs grid of ``%mlops runs``: an anywidget that shows one page of runs at a time,
fetched from the view layer (:func:`~jupyter_mlops.views.runs_page` and its cursor), so only a
page ever reaches the browser. Clicking a header sorts (``order_by``, back to page one); the
checkboxes fill ``selected``; *Compare* hands the selection to the :class:`CompareWidget`
below the grid.

The browser side is one ES module with its styles (``static/widgets.js``, ``widgets.css``),
shipped as package data: no separate build.
"""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets as t

from ..views import RunsPage, RunsQuery, runs_page
from .cells import Column, page_cells, page_columns

if TYPE_CHECKING:
    from ..tracking import Tracker

STATIC = Path(__file__).parent / "static"
PAGE_SIZE = 25


class RunsGrid(anywidget.AnyWidget):
    """One page of runs; ``page`` and ``order_by`` are set by the browser (or by code)."""

    _esm = STATIC / "widgets.js"
    _css = STATIC / "widgets.css"
    view = t.Unicode("runs").tag(sync=True)
    columns = t.List(t.Dict()).tag(sync=True)
    rows = t.List(t.Dict()).tag(sync=True)
    order_by = t.Unicode("").tag(sync=True)
    page = t.Int(0).tag(sync=True)
    page_size = t.Int(PAGE_SIZE).tag(sync=True)
    has_more = t.Bool(False).tag(sync=True)
    selected = t.List(t.Unicode()).tag(sync=True)
    error = t.Unicode("").tag(sync=True)

    def __init__(
        self,
        query: RunsQuery | None = None,
        tracker: Tracker | None = None,
        limit: int | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__(page_size=page_size, order_by=(query and query.order_by) or "")
        self.query = query or RunsQuery()
        self.tracker = tracker
        self.limit = limit  # at most this many runs over all pages (``--limit``)
        self.on_compare: Any = None  # called with the selected ids when Compare is pressed
        self._cursors: list[str | None] = [None]  # the cursor of each page reached so far
        self.current: RunsPage | None = None
        self.observe(self._sort_changed, names="order_by")
        self.observe(lambda _c: self.fetch(), names="page")
        self.on_msg(self._message)
        self.fetch()

    @t.validate("page")
    def _reachable(self, proposal: Any) -> int:
        """Pages are reached one at a time, as far as the last page's cursor goes."""
        cursors = getattr(self, "_cursors", [None])
        return int(max(0, min(proposal["value"], len(cursors) - 1)))

    def _sort_changed(self, _change: Any) -> None:
        self._cursors = [None]
        if self.page == 0:
            self.fetch()
        else:
            self.page = 0  # fetches

    def _page_query(self) -> RunsQuery:
        size = self.page_size
        offset = self.page * self.page_size
        if self.limit is not None:
            size = max(1, min(size, self.limit - offset))
        cursor = self._cursors[self.page]
        return replace(self.query, order_by=self.order_by or None, limit=size, cursor=cursor)

    def fetch(self) -> None:
        """Read the current page (one view call) and send it to the browser."""
        from ..exceptions import MLOpsError
        from ..tracking import reading_tracker

        try:
            page = runs_page(reading_tracker(self.tracker), self._page_query())
        except MLOpsError as e:  # a bad sort key typed by code: say it in the grid
            self.error = str(e)
            return
        self.error = ""
        self.current = page
        end = self.page * self.page_size + len(page.runs)
        more = page.has_more and (self.limit is None or end < self.limit)
        if more and len(self._cursors) == self.page + 1:
            self._cursors.append(page.next_cursor)
        columns = page_columns(page)
        self.columns = [c.to_dict() for c in columns]
        self.rows = page_cells(page, columns)
        self.has_more = more

    def _message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("action") == "compare":
            self.compare()

    def compare(self) -> None:
        """What *Compare* does: hand the selected runs to ``on_compare``."""
        if self.on_compare is not None and len(self.selected) >= 2:
            self.on_compare(list(self.selected))

    def html(self) -> str:
        """The current page as a static table: the fallback where no widget can be shown."""
        return page_html(
            self.current,
            [Column(**c) for c in self.columns],
            self.rows,
            self.page * self.page_size,
            self.has_more,
        )


def page_html(
    page: RunsPage | None,
    columns: list[Column],
    rows: list[dict[str, Any]],
    first: int = 0,
    has_more: bool = False,
) -> str:
    """A page of runs as a static, theme-coloured HTML table (each row names its run in
    ``data-jupyter-mlops-run``, as the panel's links expect)."""
    esc = html.escape
    head = "".join(
        f'<th scope="col" class="{"num" if c.numeric else ""}">{esc(c.label)}</th>' for c in columns
    )
    body = "".join(
        f'<tr data-jupyter-mlops-run="{esc(r["id"])}">'
        + "".join(
            f'<td class="{"num" if c.numeric else ""}">{esc(r["cells"].get(c.key, ""))}</td>'
            for c in columns
        )
        + "</tr>"
        for r in rows
    )
    if not rows:
        count = "no runs"
    else:
        count = f"runs {first + 1}–{first + len(rows)}{' of more' if has_more else ''}"
    return (
        f'<div class="jupyter-mlops-runs">{FALLBACK_STYLE}<p>{count}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


# The fallback's look, from JupyterLab's theme variables (a literal after each is what a page
# without them, an nbconvert export, uses).
FALLBACK_STYLE = (
    "<style>"
    ".jupyter-mlops-runs table,.jupyter-mlops-compare table{border-collapse:collapse;"
    "font-size:var(--jp-ui-font-size1,13px)}"
    ".jupyter-mlops-runs th,.jupyter-mlops-runs td,.jupyter-mlops-compare th,"
    ".jupyter-mlops-compare td{padding:2px 8px;white-space:nowrap;text-align:left;"
    "border-bottom:1px solid var(--jp-border-color2,#e0e0e0)}"
    ".jupyter-mlops-runs .num,.jupyter-mlops-compare td{text-align:right;"
    "font-variant-numeric:tabular-nums}"
    ".jupyter-mlops-compare tr.differs th{font-weight:bold}"
    ".jupyter-mlops-compare tr.differs{background:var(--jp-layout-color2,transparent)}"
    "</style>"
)
