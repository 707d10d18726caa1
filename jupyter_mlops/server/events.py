"""Live updates: the store's changes pushed to the panel as server-sent events, and the first
runs page computed as the server starts.

One :class:`EventHub` per server runs ONE poller while anyone listens: every ``events_poll``
seconds (0.5 by default) it reads the store's change marks (a few index probes, see
``store/sql_changes.py``) off the event loop and hands each change
(:class:`~jupyter_mlops.views.changes.Changes`) to every open ``GET events`` stream. So a run
ending in any kernel or process, a pipeline run, a bless or a monitor breach reaches every open
panel within about a second, at the cost of one small query per server, not one per view per
browser. With no listener, nothing polls.

:class:`FirstPage` is the runs page the panel asks for first (the newest 50 runs of the
project), computed in the background as the server starts: the first click on the panel's tab
after ``jupyter lab`` starts then finds the store open, its pages warm and the answer ready. It
is served once, and only if the store's marks are still those it was computed under.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ..exceptions import MLOpsError, ValidationError
from ..views.changes import ChangeLog, Changes, Marks, changes_since, parse_revision, store_marks
from ..views.runs import RunsPage, RunsQuery, runs_page
from ..views.values import encode
from .base import MLOpsHandler, ServerContext

log = logging.getLogger(__name__)

SETTINGS_KEY = "jupyter_mlops_live"
# What the panel's runs view asks for when it opens (labextension/src/runs.tsx).
FIRST_PAGE = RunsQuery(order_by="-started", limit=50)


def read_marks(ctx: ServerContext) -> Marks | None:
    return store_marks(lambda: ctx.tracker().store.change_marks())


class EventHub:
    """The server's one poller and the queues of its open event streams. ``sleep`` and
    ``clock`` are injected so tests need no wall clock."""

    def __init__(
        self,
        context: Callable[[], ServerContext],
        poll: float = 0.5,
        keepalive: float = 15.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.context = context
        self.poll = poll
        self.keepalive = keepalive
        self._sleep = sleep
        self.log = ChangeLog(clock)
        self.looks = 0  # store reads made by the poller
        self.closed = False
        self._queues: set[asyncio.Queue[Changes | None]] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def polling(self) -> bool:
        return self._task is not None

    def subscribe(self) -> asyncio.Queue[Changes | None]:
        queue: asyncio.Queue[Changes | None] = asyncio.Queue()
        self._queues.add(queue)
        if self._task is None and not self.closed:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Changes | None]) -> None:
        self._queues.discard(queue)

    async def look(self) -> Changes | None:
        """One look at the store (off the event loop); the change, handed to every stream."""
        ctx = self.context()
        marks = await asyncio.get_running_loop().run_in_executor(ctx.executor, read_marks, ctx)
        self.looks += 1
        change = self.log.observe(marks)
        if change is not None:
            for queue in list(self._queues):
                queue.put_nowait(change)
        return change

    async def _run(self) -> None:
        try:
            while self._queues and not self.closed:
                await self.look()
                await self._sleep(self.poll)
        except RuntimeError:  # the pool was shut down: the server is stopping
            pass
        except Exception:  # a poller that dies must say so; the streams stay open for keep-alive
            log.exception("jupyter-mlops: the live-update poller stopped")
        finally:
            self._task = None

    def close(self) -> None:
        """End every stream (each finishes its response) and the poller: the server stops."""
        self.closed = True
        for queue in list(self._queues):
            queue.put_nowait(None)
        if self._task is not None:
            self._task.cancel()


class FirstPage:
    """The panel's first runs page, computed ahead and served once while still current."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[Marks, RunsPage] | None = None

    def prefetch(self, ctx: ServerContext) -> None:
        """Open the store and compute the page (in a worker thread, as the server starts)."""
        try:
            marks = ctx.tracker().store.change_marks()  # before the page: a later change shows
            page = runs_page(ctx.tracker(), FIRST_PAGE)
        except MLOpsError as e:  # no store yet, or one that cannot be read: nothing to warm
            log.debug("jupyter-mlops: first runs page not prefetched: %s", e)
            return
        except Exception:
            log.warning("jupyter-mlops: first runs page not prefetched", exc_info=True)
            return
        with self._lock:
            self._entry = (marks, page)

    def take(self, ctx: ServerContext, query: RunsQuery) -> RunsPage | None:
        """The prefetched page if ``query`` is the one prefetched and the store has not changed."""
        if query != FIRST_PAGE:
            return None
        with self._lock:
            entry, self._entry = self._entry, None
        if entry is None or read_marks(ctx) != entry[0]:
            return None
        return entry[1]


class Live:
    """What the extension keeps in the web app's settings for live updates."""

    def __init__(self, hub: EventHub, first_page: FirstPage) -> None:
        self.hub = hub
        self.first_page = first_page


def live_of(settings: dict[str, Any]) -> Live | None:
    return settings.get(SETTINGS_KEY)


def first_runs_page(settings: dict[str, Any], ctx: ServerContext, query: RunsQuery) -> RunsPage:
    """``GET runs``: the prefetched first page when it is current, else the page computed now."""
    live = live_of(settings)
    page = live.first_page.take(ctx, query) if live is not None else None
    return page if page is not None else runs_page(ctx.tracker(), query)


def event_text(change: Changes) -> str:
    """One server-sent event: the revision as its id (a reconnecting EventSource sends it back
    as ``Last-Event-ID``) and the change as JSON."""
    return f"id: {change.revision}\nevent: changes\ndata: {encode(change)}\n\n"


class EventsHandler(MLOpsHandler):
    """``GET events?since=REV``: a stream of server-sent events (``text/event-stream``). The
    first event is ``changes`` since REV (or, without REV, the current revision and every
    kind); then one ``changes`` event, ``{"revision", "since", "kinds"}``, each time runs,
    pipelines, models or monitors change, and a ``: keep-alive`` comment when idle."""

    _queue: asyncio.Queue[Changes | None] | None = None
    _gone = False  # the client closed the connection

    @web.authenticated
    @authorized
    async def get(self, *args: str) -> None:
        live = live_of(self.settings)
        if live is None or live.hub.closed:
            raise web.HTTPError(503, "live updates are not running on this server")
        hub = live.hub
        try:
            raw = self.get_argument("since", None) or self.request.headers.get("Last-Event-ID")
            since = parse_revision(raw)
        except ValidationError as e:
            self._error(400, str(e))
            return
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # a proxy must not hold events back
        self._queue = queue = hub.subscribe()
        try:
            await self._send(event_text(hub.log.since(since)))
            while (item := await self._next(queue, hub.keepalive)) is not None:
                await self._send(event_text(item) if isinstance(item, Changes) else item)
        except StreamClosedError:
            return
        finally:
            hub.unsubscribe(queue)
        if not self._gone:  # the server stops: end the response cleanly
            self.finish(set_content_type="text/event-stream; charset=utf-8")

    @staticmethod
    async def _next(queue: asyncio.Queue[Changes | None], keepalive: float) -> Changes | str | None:
        try:
            return await asyncio.wait_for(queue.get(), keepalive)
        except asyncio.TimeoutError:
            return ": keep-alive\n\n"

    async def _send(self, text: str) -> None:
        self.write(text)
        await self.flush()

    def on_connection_close(self) -> None:
        self._gone = True
        if self._queue is not None:  # wake the stream so it lets go of its queue now
            self._queue.put_nowait(None)
        super().on_connection_close()


class ChangesHandler(MLOpsHandler):
    """``GET changes?since=REV``: what changed since revision REV, ``{"revision", "since",
    "kinds"}`` (every kind when REV is missing or unknown), for clients without event streams."""

    def read(self) -> Any:
        live = live_of(self.settings)
        if live is None:
            raise web.HTTPError(503, "live updates are not running on this server")
        ctx = self.ctx
        return changes_since(
            live.hub.log, lambda: ctx.tracker().store.change_marks(), self.param("since")
        )


def start_live(serverapp: Any, context: ServerContext, options: Any) -> Live:
    """The hub and the first page (prefetched now, in the background, when ``prefetch``)."""
    settings = serverapp.web_app.settings
    hub = EventHub(
        lambda: settings["jupyter_mlops"],
        poll=options.events_poll,
        keepalive=options.events_keepalive,
    )
    live = Live(hub, FirstPage())
    settings[SETTINGS_KEY] = live
    if options.prefetch:
        context.executor.submit(live.first_page.prefetch, context)
    return live
