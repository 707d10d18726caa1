"""What every REST handler shares: parse the request, make one core call off the event loop,
write JSON.

:class:`MLOpsHandler` owns what every endpoint shares: authentication (``@authenticated`` on its
``get`` and ``post``, so no endpoint can forget it; jupyter_server checks XSRF on cookie-
authenticated POSTs), running the call in a thread pool, and the one error table:

=====================================  ======
``ConflictError``                      409
``ValidationError``, ``ConfigError``   400
``LookupError`` (run, model, …)        404
anything else                          500
=====================================  ======

Every error body is ``{"error": message}`` with the message the CLI prints. Inputs are checked
against their types and bounds (:mod:`jupyter_mlops.bounds`) before the core call: path
arguments and query parameters are text without control characters, of bounded length; a POST
body is a JSON object under a size and depth limit whose fields are the handler's ``fields``,
each read with its type. So a client's mistake is a 400, and 500 is left for real bugs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.ioloop import IOLoop

from .. import bounds, views
from ..exceptions import ConfigError, ConflictError, MissingDependencyError, ValidationError
from ..project import Project, find_project
from ..tracking import Tracker

AUTH_RESOURCE = "jupyter_mlops"
CHUNK = 1 << 20  # bytes of a file download read and sent at a time


class ServerContext:
    """What the handlers share: the project found from the server's root (``root``: the
    folder notebook paths are relative to), the tracker (opened on first use, since the store
    may not exist when the server starts) and a thread pool that keeps slow store calls away
    from the event loop and from jupyter_server's own executor."""

    def __init__(self, root: Path, project: Project | None = None) -> None:
        self.root = root
        self.project = project or find_project(start=root)
        self.settings = self.project.settings
        self.pipelines_dir = self.project.pipelines_dir
        self.monitors_dir = self.project.monitors_dir
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="jupyter-mlops")
        self._tracker: Tracker | None = None
        self._lock = threading.Lock()

    def tracker(self) -> Tracker:
        with self._lock:
            if self._tracker is None:
                self._tracker = Tracker.from_project(self.project, create=False)
            return self._tracker

    def close(self) -> None:
        """End the worker threads, then close the store connections they left behind."""
        self.executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            if self._tracker is not None:
                self._tracker.store.release_ended_threads()


def error_status(e: BaseException) -> int:
    """The one table from core errors to HTTP status codes."""
    if isinstance(e, ConflictError):
        return 409
    if isinstance(e, (ValidationError, ConfigError)):
        return 400
    if isinstance(e, LookupError):
        return 404
    return 500


class MLOpsHandler(APIHandler):
    """Subclasses define ``read(*path_args)`` and/or ``act(*path_args, body)``: a synchronous
    function making one core call; its result is written as JSON (or by ``respond``)."""

    auth_resource = AUTH_RESOURCE

    @property
    def ctx(self) -> ServerContext:
        return self.settings["jupyter_mlops"]

    # Set by subclasses as methods; an endpoint without one answers 405.
    read: Callable[..., Any] | None = None
    act: Callable[..., Any] | None = None
    # The fields a POST body may have (``act`` reads each with its type from a Body).
    fields: tuple[str, ...] = ()

    @web.authenticated
    @authorized
    async def get(self, *args: str) -> None:
        if self.read is None:
            raise web.HTTPError(405)
        if self._check_path(args):
            await self._call(self.read, *args)

    @web.authenticated
    @authorized
    async def post(self, *args: str) -> None:
        if self.act is None:
            raise web.HTTPError(405)
        try:
            body = bounds.Body(bounds.parse_json_body(self.request.body or b"{}"), self.fields)
        except ValidationError as e:
            self._error(400, str(e))
            return
        if self._check_path(args):
            await self._call(self.act, *args, body)

    def _check_path(self, args: tuple[str, ...]) -> bool:
        """Path arguments (ids, names) are bounded text: a NUL byte or a megabyte of name
        is the client's mistake, not something for the store or the file system to choke on."""
        try:
            for arg in args:
                bounds.check_key(arg, "a path segment of the URL", 4096)
        except ValidationError as e:
            self._error(400, str(e))
            return False
        return True

    async def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            result = await IOLoop.current().run_in_executor(self.ctx.executor, fn, *args)
        except web.HTTPError:
            raise
        except Exception as e:
            status = error_status(e)
            if isinstance(e, MissingDependencyError):  # the server's install: one line, no bug
                self.log.error("jupyter-mlops: %s", e)
                self._error(status, str(e))
            elif status == 500:
                self.log.error("jupyter-mlops: %s failed", self.request.path, exc_info=True)
                self._error(500, f"internal error: {type(e).__name__}: {e}")
            else:
                self._error(status, str(e))
            return
        await self.respond(result)

    async def respond(self, result: Any) -> None:
        # The view's value, by the package's one encoder: what `jupyter-mlops … --json` prints.
        await self.finish(views.encode(result))

    def _error(self, status: int, message: str) -> None:
        self.set_status(status)
        self.finish(json.dumps({"error": message}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors raised before a handler runs (403, 405) in the same ``{"error"}`` shape."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = (exc.log_message if isinstance(exc, web.HTTPError) else None) or self._reason
        self.finish(json.dumps({"error": message}))

    def param(self, name: str, limit: int = bounds.MAX_KEY_LENGTH) -> str | None:
        value = self.get_argument(name, None)
        return None if value is None else bounds.check_key(value, name, limit)
