"""REST handlers: parse the request, make one core call off the event loop, write JSON.

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

import dataclasses
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

from .. import actions, bounds, views
from ..codec import dumps
from ..config import Settings, load_settings
from ..exceptions import ConfigError, ConflictError, MissingDependencyError, ValidationError
from ..tracking import Tracker

AUTH_RESOURCE = "jupyter_mlops"
_CHUNK = 1 << 20


class ServerContext:
    """What the handlers share: settings read from the server's root, the tracker (opened on
    first use, since the store may not exist when the server starts) and a thread pool that
    keeps slow store calls away from the event loop and from jupyter_server's own executor."""

    def __init__(self, root: Path, settings: Settings | None = None) -> None:
        self.root = root
        self.settings = settings or load_settings(start=root)
        self.pipelines_dir = self.settings.root / "pipelines"
        self.monitors_dir = self.settings.root / "monitors"
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="jupyter-mlops")
        self._tracker: Tracker | None = None
        self._lock = threading.Lock()

    def tracker(self) -> Tracker:
        with self._lock:
            if self._tracker is None:
                self._tracker = Tracker.from_settings(self.settings, create=False)
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
        if hasattr(result, "to_dict"):
            result = result.to_dict()
        await self.finish(dumps(result))

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


class RunsHandler(MLOpsHandler):
    def read(self) -> Any:
        # RunsQuery bounds each parameter itself (a filter may be 4,000 characters long).
        query = views.RunsQuery.from_strings(lambda name: self.param(name, 4096))
        if query.notebook and not Path(query.notebook).is_absolute():
            # The sidebar knows a notebook by its path under the server root; a kernel may have
            # recorded that path or the absolute one, so either matches.
            paths = [query.notebook, str(self.ctx.root.resolve() / query.notebook)]
            where = f"notebook in {paths!r}" + (f" and ({query.where})" if query.where else "")
            query = dataclasses.replace(query, notebook=None, where=where)
        return views.runs_page(self.ctx.tracker(), query)


class RunHandler(MLOpsHandler):
    def read(self, run_id: str) -> Any:
        return views.run_detail(self.ctx.tracker(), run_id)


class MetricHandler(MLOpsHandler):
    def read(self, run_id: str, key: str) -> Any:
        return views.metric_series(self.ctx.tracker(), run_id, key)


class ArtifactHandler(MLOpsHandler):
    def read(self, run_id: str, name: str) -> Any:
        return views.artifact_file(self.ctx.tracker(), run_id, name)

    async def respond(self, result: Any) -> None:
        art: views.ArtifactFile = result
        # Always a download, never rendered: an HTML artifact must not run in Jupyter's origin.
        filename = Path(art.name).name.replace('"', "")
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Length", str(art.size))
        loop = IOLoop.current()
        # From the descriptor the view opened inside the store: a link swapped in since then
        # changes nothing here.
        with art.file as f:
            while chunk := await loop.run_in_executor(self.ctx.executor, f.read, _CHUNK):
                self.write(chunk)
                await self.flush()
        await self.finish(set_content_type="application/octet-stream")


class NotebookHandler(MLOpsHandler):
    def read(self, run_id: str) -> Any:
        out = views.output_notebook(self.ctx.tracker(), run_id)
        # The path a front-end opens through the contents API: relative to the server root,
        # or None when the store lies outside it.
        path = Path(out["path"]).resolve()
        root = self.ctx.root.resolve()
        out["root_path"] = path.relative_to(root).as_posix() if path.is_relative_to(root) else None
        return out


class ReproduceHandler(MLOpsHandler):
    fields = ("tolerance",)

    def act(self, run_id: str, body: bounds.Body) -> Any:
        from ..reproduce import reproduce

        tolerance = body.number("tolerance", lo=0.0)
        rep = reproduce(run_id, tolerance=tolerance, tracker=self.ctx.tracker())
        return views.to_jsonable(rep.to_dict())


class CompareHandler(MLOpsHandler):
    def read(self) -> Any:
        ids = [i for v in self.get_arguments("ids") for i in v.split(",") if i.strip()]
        return views.compare_runs(self.ctx.tracker(), ids)


class ExperimentsHandler(MLOpsHandler):
    def read(self) -> Any:
        return {"experiments": views.experiments(self.ctx.tracker())}


class PipelinesHandler(MLOpsHandler):
    def read(self) -> Any:
        return {"pipelines": views.pipelines(self.ctx.tracker(), self.ctx.pipelines_dir)}


class PipelineHandler(MLOpsHandler):
    def read(self, name: str) -> Any:
        bounds.check_name(name, "pipeline name")
        return views.pipeline_detail(self.ctx.tracker(), self.ctx.pipelines_dir, name)


class PipelineRunHandler(MLOpsHandler):
    fields = ("params", "allow_changed")

    def act(self, name: str, body: bounds.Body) -> Any:
        bounds.check_name(name, "pipeline name")
        params = body.mapping("params")
        for key in params:
            bounds.check_key(key, "a parameter name", bounds.MAX_NAME_LENGTH)
        return actions.launch_pipeline_run(
            self.ctx.tracker(),
            self.ctx.pipelines_dir,
            name,
            params,
            allow_changed=body.flag("allow_changed"),
        )

    async def respond(self, result: Any) -> None:
        self.set_status(202)  # accepted: the run proceeds in its own process
        await super().respond(result)


class PromoteHandler(MLOpsHandler):
    fields = ("notebook", "name", "schedule", "gates", "timeout", "retries")

    def act(self, body: bounds.Body) -> Any:
        notebook = body.get("notebook")
        if not isinstance(notebook, str) or not notebook:
            raise ValidationError('"notebook" must be the path of a notebook under the server root')
        bounds.check_key(notebook, '"notebook"', 4096)
        name = body.get("name")
        if name is not None:
            bounds.check_name(name, '"name"')
        gates = body.get("gates")
        # A list of gate objects; not a file name, which would read a file of the server's.
        if gates is not None and not (
            isinstance(gates, list) and all(isinstance(g, dict) for g in gates)
        ):
            raise ValidationError(
                '"gates" must be a list of gate objects, e.g. [{"kind": "metric", '
                '"metric": "accuracy", "min": 0.8}]'
            )
        timeout = body.get("timeout")
        if timeout is not None and not isinstance(timeout, str):
            bounds.check_float(timeout, '"timeout" (seconds)', lo=0, hi=366 * 86400.0)
        return actions.promote_notebook(
            self.ctx.root,
            notebook,
            self.ctx.pipelines_dir,
            name=name,
            schedule=body.text("schedule", 200),
            gates=gates,
            timeout=body.text("timeout", 40) if isinstance(timeout, str) else timeout,
            retries=body.integer("retries", 0, 100),
        )


class ModelsHandler(MLOpsHandler):
    def read(self) -> Any:
        return {"models": views.models(self.ctx.tracker())}


class ModelHandler(MLOpsHandler):
    def read(self, name: str) -> Any:
        return views.model_detail(self.ctx.tracker(), name)


class BlessHandler(MLOpsHandler):
    fields = ("version", "reason")

    def act(self, name: str, body: bounds.Body) -> Any:
        version = body.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValidationError(
                '"version" must be the integer version to bless, e.g. {"version": 3}'
            )
        bounds.check_int(version, '"version"', 1, bounds.MAX_VERSION)
        return actions.bless_model(
            self.ctx.tracker(), f"{name}@{version}", body.text("reason", 10_000, prose=True)
        )


class RollbackHandler(MLOpsHandler):
    fields = ("to", "reason")

    def act(self, name: str, body: bounds.Body) -> Any:
        to = body.integer("to", 1, bounds.MAX_VERSION)
        return actions.rollback_model(
            self.ctx.tracker(), name, to, body.text("reason", 10_000, prose=True)
        )


class UnpinHandler(MLOpsHandler):
    """``POST models/NAME/unpin``: automated runs may bless NAME again."""

    fields = ("reason",)

    def act(self, name: str, body: bounds.Body) -> Any:
        return actions.unpin_model(
            self.ctx.tracker(), name, body.text("reason", 10_000, prose=True)
        )


class MonitorsHandler(MLOpsHandler):
    def read(self) -> Any:
        from ..monitoring.report import summaries

        ctx = self.ctx
        found = summaries(
            store=ctx.tracker().store,
            monitors_dir=ctx.monitors_dir,
            pipelines_dir=ctx.pipelines_dir,
        )
        return {"monitors": views.to_jsonable(found)}


class MonitorHandler(MLOpsHandler):
    def read(self, name: str) -> Any:
        from ..monitoring.report import detail

        ctx = self.ctx
        found = detail(
            name,
            self.param("since"),
            self.param("now"),
            store=ctx.tracker().store,
            monitors_dir=ctx.monitors_dir,
            pipelines_dir=ctx.pipelines_dir,
        )
        return views.to_jsonable(found)


class MonitorSeriesHandler(MLOpsHandler):
    def read(self, name: str) -> Any:
        from ..monitoring.report import monitor_series

        ctx = self.ctx
        found = monitor_series(
            name,
            self.param("kind"),
            self.param("column"),
            self.param("metric"),
            self.param("since"),
            self.param("now"),
            store=ctx.tracker().store,
            monitors_dir=ctx.monitors_dir,
            pipelines_dir=ctx.pipelines_dir,
        )
        return views.to_jsonable(found)


class StatusHandler(MLOpsHandler):
    def read(self) -> Any:
        return views.status(self.ctx.tracker(), self.ctx.pipelines_dir)


_ID = r"([^/]+)"

ROUTES: list[tuple[str, type[MLOpsHandler]]] = [
    ("runs", RunsHandler),
    (f"runs/{_ID}", RunHandler),
    (f"runs/{_ID}/metrics/(.+)", MetricHandler),
    (f"runs/{_ID}/artifacts/(.*)", ArtifactHandler),
    (f"runs/{_ID}/notebook", NotebookHandler),
    (f"runs/{_ID}/reproduce", ReproduceHandler),
    ("compare", CompareHandler),
    ("experiments", ExperimentsHandler),
    ("pipelines", PipelinesHandler),
    (f"pipelines/{_ID}", PipelineHandler),
    (f"pipelines/{_ID}/run", PipelineRunHandler),
    ("promote", PromoteHandler),
    ("models", ModelsHandler),
    (f"models/{_ID}", ModelHandler),
    (f"models/{_ID}/bless", BlessHandler),
    (f"models/{_ID}/rollback", RollbackHandler),
    (f"models/{_ID}/unpin", UnpinHandler),
    ("monitors", MonitorsHandler),
    (f"monitors/{_ID}", MonitorHandler),
    (f"monitors/{_ID}/series", MonitorSeriesHandler),
    ("status", StatusHandler),
]


def route_table(base_url: str, prefix: str) -> list[tuple[str, type[MLOpsHandler]]]:
    """The handlers under ``{base_url}/{prefix}/`` (the package's ``API_PREFIX``)."""
    from jupyter_server.utils import url_path_join

    return [(url_path_join(base_url, prefix, path) + "$", h) for path, h in ROUTES]
