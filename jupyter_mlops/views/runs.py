"""The runs page: a filtered, sorted page of runs (``GET runs``, ``jupyter-mlops runs``,
``%mlops runs``). Nothing here imports tornado, IPython or ipywidgets."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from .. import bounds
from ..codec import from_jsonable
from ..entities import RunKind, RunRow, RunStatus
from ..exceptions import ExperimentNotFoundError, ValidationError
from .columns import RunColumns, choose_columns
from .values import View, to_jsonable

if TYPE_CHECKING:
    import pandas as pd

    from ..store.base import RunStore
    from ..tracking import Tracker

MAX_PAGE = 500
# The gate filter's values: a run's gate outcome, or "none" for a run no gate judged.
GATE_FILTERS = ("passed", "failed", "warned", "none")


# -- runs: paged, filtered, sorted ------------------------------------------------------------


@dataclass(frozen=True)
class RunsQuery:
    """What a runs table asks for. ``where`` is the filter language of ``runs()``; ``text``
    matches name, experiment and tags (case-insensitive substring); ``gate`` is a run's gate
    outcome (:data:`GATE_FILTERS`, ``none``: no gate ran)."""

    experiment: str | None = None
    status: str | None = None
    kind: str | None = None
    notebook: str | None = None
    where: str | None = None
    text: str | None = None
    order_by: str | None = None
    limit: int = 50
    offset: int = 0
    cursor: str | None = None
    reproductions: bool = False  # also the runs reproductions recorded (``runs --all``)
    gate: str | None = None

    @classmethod
    def from_strings(cls, get: Callable[[str], str | None]) -> RunsQuery:
        """Build from query-string values (``get(name)`` is None when absent), each checked
        against its type and bounds."""

        def text(name: str, limit: int = bounds.MAX_KEY_LENGTH, alias: str = "") -> str | None:
            value = get(name) or (get(alias) if alias else None) or None
            return None if value is None else bounds.check_key(value, name, limit)

        return cls(
            experiment=text("experiment"),
            status=text("status"),
            kind=text("kind"),
            notebook=text("notebook", 4096),
            where=text("where", bounds.MAX_WHERE_LENGTH),
            text=text("q", alias="text"),
            order_by=text("order_by", bounds.MAX_ORDER_LENGTH, alias="sort"),
            limit=_int_arg("limit", get("limit"), 50, 1, MAX_PAGE),
            offset=_int_arg("offset", get("offset"), 0, 0, bounds.MAX_OFFSET),
            cursor=text("cursor", 1000),
            gate=text("gate"),
        )

    def filter_expression(self) -> str | None:
        """The user's ``where`` and the column filters as one expression of the filter language."""
        parts = [f"({self.where})"] if self.where else []
        if self.status is not None:
            _check_choice("status", self.status, [s.value for s in RunStatus])
            parts.append(f"status == {self.status!r}")
        if self.kind is not None:
            _check_choice("kind", self.kind, [k.value for k in RunKind])
            parts.append(f"kind == {self.kind!r}")
        if self.gate is not None:
            _check_choice("gate", self.gate, list(GATE_FILTERS))
            parts.append("gates is None" if self.gate == "none" else f"gates == {self.gate!r}")
        if self.experiment is not None:
            parts.append(f"experiment == {self.experiment!r}")
        if self.notebook is not None:
            parts.append(f"notebook == {self.notebook!r}")
        return " and ".join(parts) or None

    def fingerprint(self) -> str:
        """Identifies the result set (not the page), so a cursor cannot cross queries."""
        key: list[str | bool | None] = [self.experiment, self.status, self.kind, self.notebook]
        key += [self.where, self.text, self.order_by]
        if self.reproductions:
            key.append(True)
        if self.gate is not None:  # appended, so the cursors of gate-less queries stay valid
            key.append(f"gate={self.gate}")
        return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]


def _int_arg(name: str, text: str | None, default: int, lo: int, hi: int) -> int:
    if text is None or text == "":
        return default
    return bounds.parse_int(text, name, lo, hi)


def _check_choice(name: str, value: str, choices: list[str]) -> None:
    if value not in choices:
        raise ValidationError(f"Unknown {name} {value!r}; use one of: {', '.join(choices)}")


@dataclass(frozen=True)
class RunsPage(View):
    """One page of runs; ``next_cursor`` fetches the next page of the same result set, which
    runs started after the first page never shift. ``tags`` holds each run's tags by id and
    ``columns`` the columns a table of this page shows by default (:mod:`.columns`)."""

    runs: tuple[RunRow, ...]
    offset: int
    limit: int
    has_more: bool
    next_cursor: str | None = None
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    columns: RunColumns = field(default_factory=RunColumns)

    def frame(self) -> pd.DataFrame:
        """The page as a ``runs()`` frame: run columns, then ``params.*`` and ``metrics.*``."""
        import pandas as pd

        from ..store.rows import FRAME_COLUMNS

        params = sorted({k for r in self.runs for k in r.params})
        metrics = sorted({k for r in self.runs for k in r.metrics})
        frame = pd.DataFrame(
            [
                [_plain(getattr(r, c)) for c in FRAME_COLUMNS]
                + [r.params.get(k) for k in params]
                + [r.metrics.get(k, float("nan")) for k in metrics]
                for r in self.runs
            ],
            columns=[*FRAME_COLUMNS, *(f"params.{k}" for k in params)]
            + [f"metrics.{k}" for k in metrics],
        )
        frame["started"] = pd.to_datetime(frame["started"], unit="s", utc=True)
        frame["duration"] = frame["duration"].astype("float64")
        return frame


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


@dataclass(frozen=True)
class _Cursor:
    offset: int
    as_of: float
    query: str

    def encode(self) -> str:
        raw = json.dumps({"o": self.offset, "t": self.as_of, "q": self.query}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, query: str) -> _Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            d = json.loads(raw)
            # A cursor comes back from the client, so it is input like any other: a forged
            # offset past 64 bits or below 0, or a time that is not finite, is refused.
            offset = bounds.check_int(d["o"], "cursor offset", 0, bounds.MAX_OFFSET)
            cur = cls(offset, bounds.check_float(d["t"], "cursor time"), str(d["q"]))
        except ValidationError as e:
            raise ValidationError(f"Bad cursor: {e}; pass the next_cursor of a page") from None
        except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
            raise ValidationError(
                f"Bad cursor {text[:40]!r}; pass the next_cursor of a previous page"
            ) from None
        if cur.query != query:
            raise ValidationError(
                "This cursor belongs to another query; start again without a cursor"
            )
        return cur


def runs_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a ``runs()`` frame as JSON records with nested params and metrics."""
    out = []
    for row in frame.to_dict(orient="records"):
        rec: dict[str, Any] = {"params": {}, "metrics": {}}
        for k, v in row.items():
            ns, _, key = str(k).partition(".")
            value = to_jsonable(v)
            if ns in ("params", "metrics") and key:
                if value is not None:
                    rec[ns][key] = value
            else:
                rec[str(k)] = value
        out.append(rec)
    return out


def runs_page(
    tracker: Tracker, query: RunsQuery, clock: Callable[[], float] = time.time
) -> RunsPage:
    """A page of runs with their gate outcome and model version (the ``runs()`` columns),
    their tags and the page's default columns.

    Paging by cursor keeps a stable result set: the first page records the time, and later
    pages leave out runs started after it, so new runs never shift rows between pages."""
    return _with_columns(_bare_page(tracker, query, clock), tracker.store)


def _bare_page(tracker: Tracker, query: RunsQuery, clock: Callable[[], float]) -> RunsPage:
    """The page without its tags and columns."""
    if not 1 <= query.limit <= MAX_PAGE:
        raise ValidationError(f"limit must be from 1 to {MAX_PAGE}, got {query.limit}")
    bounds.check_int(query.offset, "offset", 0, bounds.MAX_OFFSET)
    if query.where:
        from ..store.query import compile_query

        compile_query(query.where)  # its own message, not one about the combined expression
    where = query.filter_expression()
    fp = query.fingerprint()
    cur = _Cursor.decode(query.cursor, fp) if query.cursor else _Cursor(query.offset, clock(), fp)
    bound = f"started <= {cur.as_of!r}"
    if not query.reproductions and "reproduces" not in (where or ""):
        # a reproduction's runs only when asked for, or by tag
        bound += " and tags.reproduces is None"
    store = tracker.store
    ids = store.search_run_ids(
        where=f"({where}) and {bound}" if where else bound,
        order_by=query.order_by,
        limit=cur.offset + query.limit + 1,
        text=query.text,
    )[cur.offset :]
    has_more = len(ids) > query.limit
    ids = ids[: query.limit]
    if not ids and query.experiment and query.experiment not in store.experiments():
        raise ExperimentNotFoundError(query.experiment, store.experiments(), store.location)
    rows: tuple[RunRow, ...] = ()
    if ids:
        frame = tracker.runs(where=f"id in {ids!r}", include_reproductions=True)
        by_id = {r["id"]: from_jsonable(r, RunRow) for r in runs_records(frame)}
        rows = tuple(by_id[i] for i in ids if i in by_id)
    nxt = replace(cur, offset=cur.offset + len(ids)).encode() if has_more else None
    return RunsPage(rows, cur.offset, query.limit, has_more, nxt)


def _with_columns(page: RunsPage, store: RunStore) -> RunsPage:
    """The page with its runs' tags and its default columns."""
    tags = store.run_tags([r.id for r in page.runs])
    return replace(page, tags=tags, columns=choose_columns(page.runs, tags))


def all_runs(tracker: Tracker, query: RunsQuery, limit: int | None = None) -> RunsPage:
    """The first ``limit`` runs the query matches (all without one) as one page, read a
    page at a time: the CLI's ``runs`` asks for more than a page holds."""
    if limit is not None and limit <= MAX_PAGE:
        return runs_page(tracker, replace(query, limit=limit))
    # Bare pages: the tags and columns are worked out once, over all the rows.
    page = _bare_page(tracker, replace(query, limit=MAX_PAGE), time.time)
    rows = list(page.runs)
    while page.next_cursor is not None and (limit is None or len(rows) < limit):
        page = _bare_page(
            tracker, replace(query, limit=MAX_PAGE, cursor=page.next_cursor), time.time
        )
        rows += page.runs
    more = limit is not None and len(rows) > limit
    whole = RunsPage(tuple(rows[:limit]), query.offset, limit or max(len(rows), 1), more)
    return _with_columns(whole, tracker.store)
