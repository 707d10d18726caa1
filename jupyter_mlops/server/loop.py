"""The embedded scheduler inside the Jupyter server, off by default.

Turned on with ``c.JupyterMLOps.scheduler = True`` (or ``$JUPYTER_MLOPS_SCHEDULER=1``), the
server runs the same :meth:`~jupyter_mlops.schedule.scheduler.Scheduler.serve` loop as
``jupyter-mlops scheduler`` in a background thread, over the project at the server's root (its
``pipelines/`` and the scheduled monitors of its ``monitors/``). Each pipeline or monitor firing
is taken under its lease in the store, so this loop and a standalone scheduler on the same store
never start the same firing twice.

The scheduler delivers the notification outbox between firings; with the scheduler off, the
server runs a notification sender thread instead (``c.JupyterMLOps.notify``, on by default), so
notifications queued by runs started from the panel, or left pending by a CLI command, are
delivered while the server is up.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from traitlets import Bool, Float
from traitlets.config import Configurable

from .handlers import ServerContext

ENV = "JUPYTER_MLOPS_SCHEDULER"
THREAD_NAME = "jupyter-mlops-scheduler"
NOTIFY_THREAD_NAME = "jupyter-mlops-notify"


class JupyterMLOps(Configurable):
    """Server-side options of jupyter-mlops (``c.JupyterMLOps.*``)."""

    scheduler = Bool(
        False, help="Run the embedded scheduler in the server (or $JUPYTER_MLOPS_SCHEDULER=1)"
    ).tag(config=True)
    scheduler_poll = Float(30.0, help="Longest sleep of the scheduler loop, seconds").tag(
        config=True
    )
    scheduler_lease_ttl = Float(
        30.0, help="Seconds a dead server's lease blocks its pipelines"
    ).tag(config=True)
    notify = Bool(
        True, help="Deliver the store's notification outbox (done by the scheduler when it runs)"
    ).tag(config=True)
    notify_poll = Float(30.0, help="Longest sleep of the notification sender, seconds").tag(
        config=True
    )
    events_poll = Float(0.5, help="Seconds between looks at the store for live updates").tag(
        config=True
    )
    events_keepalive = Float(15.0, help="Seconds between keep-alive comments of GET events").tag(
        config=True
    )
    prefetch = Bool(
        True, help="Open the store and compute the panel's first runs page as the server starts"
    ).tag(config=True)


class SchedulerLoop:
    """The scheduler thread; :meth:`stop` ends it after the tick (or run) under way."""

    def __init__(self, context: ServerContext, options: JupyterMLOps, log: Any) -> None:
        self.context = context
        self.options = options
        self.log = log
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, name=THREAD_NAME, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _serve(self) -> None:
        from ..schedule.scheduler import Scheduler
        from ..tracking import Tracker

        try:
            project = self.context.project
            tracker = Tracker.from_project(project)
            scheduler = Scheduler(project, tracker, lease_ttl=self.options.scheduler_lease_ttl)
            scheduler.serve(self.stopping, poll=self.options.scheduler_poll)
        except Exception:  # a scheduler that dies must say so, not take the server down
            self.log.exception("jupyter-mlops: the embedded scheduler stopped")

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.thread.join(timeout)
        if self.thread.is_alive():  # mid-run: the run is marked interrupted when the process ends
            self.log.warning("jupyter-mlops: the scheduler is still finishing a run")


class NotifyLoop:
    """The notification sender thread (when the scheduler is off); :meth:`stop` ends it."""

    def __init__(self, context: ServerContext, options: JupyterMLOps, log: Any) -> None:
        self.context = context
        self.poll = options.notify_poll
        self.log = log
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, name=NOTIFY_THREAD_NAME, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _serve(self) -> None:
        from ..exceptions import MLOpsError
        from ..pipeline.outbox import Sender

        store = None
        try:
            while store is None and not self.stopping.is_set():
                try:
                    store = self.context.tracker().store
                except MLOpsError:  # no store yet (it is made by the first run): look again
                    self.stopping.wait(self.poll)
            if store is not None:
                Sender(store).serve(self.stopping, poll=self.poll)
        except Exception:  # a sender that dies must say so, not take the server down
            self.log.exception("jupyter-mlops: the notification sender stopped")
        finally:
            if store is not None:
                store.release_thread()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.thread.join(timeout)


def wanted(serverapp: Any) -> JupyterMLOps | None:
    """The options when the scheduler is switched on (config or environment), else None."""
    options = JupyterMLOps(config=serverapp.config)
    if options.scheduler or os.environ.get(ENV, "").strip().lower() in ("1", "true", "yes"):
        return options
    return None


def on_server_cleanup(serverapp: Any, fn: Callable[[], None], *, first: bool = False) -> None:
    """Call ``fn`` when the server shuts down (before the other extensions' cleanup when
    ``first``). Function-style extensions get no shutdown hook from jupyter_server 2.x, so this
    chains onto the server's own extension cleanup, which every shutdown path awaits."""
    cleanup = serverapp.cleanup_extensions

    async def cleanup_extensions() -> None:
        if first:
            fn()
        await cleanup()
        if not first:
            fn()

    serverapp.cleanup_extensions = cleanup_extensions


def start_loop(serverapp: Any, context: ServerContext) -> SchedulerLoop | None:
    options = wanted(serverapp)
    if options is None:
        start_notify_loop(serverapp, context)
        return None
    loop = SchedulerLoop(context, options, serverapp.log or logging.getLogger(__name__))
    loop.start()
    on_server_cleanup(serverapp, loop.stop, first=True)
    serverapp.log.info("jupyter-mlops: scheduler running in the server (%s)", context.pipelines_dir)
    return loop


def start_notify_loop(serverapp: Any, context: ServerContext) -> NotifyLoop | None:
    """The notification sender, unless ``c.JupyterMLOps.notify = False``."""
    options = JupyterMLOps(config=serverapp.config)
    if not options.notify:
        return None
    loop = NotifyLoop(context, options, serverapp.log or logging.getLogger(__name__))
    loop.start()
    on_server_cleanup(serverapp, loop.stop, first=True)
    serverapp.web_app.settings["jupyter_mlops_notify"] = loop
    return loop
