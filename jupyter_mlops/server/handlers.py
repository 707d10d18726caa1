"""REST handlers, one per resource, each one core call (:mod:`jupyter_mlops.views`), and the
route table. What they share (authentication, the thread pool, the error table, bounded input) is
:class:`~.base.MLOpsHandler`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from tornado.ioloop import IOLoop

from .. import bounds, views
from ..exceptions import ValidationError
from .artifacts import ArtifactInlineHandler, ArtifactPreviewHandler
from .base import AUTH_RESOURCE as AUTH_RESOURCE
from .base import CHUNK
from .base import MLOpsHandler as MLOpsHandler
from .base import ServerContext as ServerContext
from .base import error_status as error_status
from .charts import ArtifactTableHandler, CompareCurvesHandler, RunCurvesHandler
from .events import ChangesHandler, EventsHandler, first_runs_page
from .model_handlers import MODEL_ROUTES
from .pipeline_handlers import PipelineParamsHandler
from .rollout_handlers import ROLLOUT_ROUTES


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
        return first_runs_page(self.settings, self.ctx, query)  # prefetched at start, or now


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
            while chunk := await loop.run_in_executor(self.ctx.executor, f.read, CHUNK):
                self.write(chunk)
                await self.flush()
        await self.finish(set_content_type="application/octet-stream")


class NotebookHandler(MLOpsHandler):
    def read(self, run_id: str) -> Any:
        # root_path: what a front-end opens through the contents API (relative to the root).
        return views.output_notebook(self.ctx.tracker(), run_id, self.ctx.root)


class ReproduceHandler(MLOpsHandler):
    fields = ("tolerance",)

    def act(self, run_id: str, body: bounds.Body) -> Any:
        from ..reproduce import reproduce

        tolerance = body.number("tolerance", lo=0.0)
        return reproduce(run_id, tolerance=tolerance, tracker=self.ctx.tracker())


class CompareHandler(MLOpsHandler):
    def read(self) -> Any:
        ids = [i for v in self.get_arguments("ids") for i in v.split(",") if i.strip()]
        return views.compare_runs(self.ctx.tracker(), ids)


class ExperimentsHandler(MLOpsHandler):
    def read(self) -> Any:
        return views.experiments(self.ctx.tracker())


class PipelinesHandler(MLOpsHandler):
    def read(self) -> Any:
        from ..schedule.clock import scheduler_clock

        # Before any store exists (right after a promote) the pipelines are listed, run-less.
        tracker = views.stored(self.ctx.tracker)
        return views.pipeline_list(tracker, self.ctx.pipelines_dir, now=scheduler_clock()())


class PipelineHandler(MLOpsHandler):
    def read(self, name: str) -> Any:
        from ..schedule.clock import scheduler_clock

        bounds.check_name(name, "pipeline name")
        tracker = views.stored(self.ctx.tracker)
        return views.pipeline_detail(tracker, self.ctx.pipelines_dir, name, scheduler_clock()())


class PipelineRunHandler(MLOpsHandler):
    fields = ("params", "allow_changed")

    def act(self, name: str, body: bounds.Body) -> Any:
        bounds.check_name(name, "pipeline name")
        params = body.mapping("params")
        for key in params:
            bounds.check_key(key, "a parameter name", bounds.MAX_NAME_LENGTH)
        return views.launch_pipeline_run(
            self.ctx.tracker(),
            self.ctx.project,
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
        return views.promote_notebook(
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
        return views.model_list(self.ctx.tracker())


class ModelHandler(MLOpsHandler):
    def read(self, name: str) -> Any:
        return views.model_detail(self.ctx.tracker(), name)


class BlessHandler(MLOpsHandler):
    """``POST models/NAME/bless``: a version whose gates failed needs ``override_gates`` and a
    reason (else 409, saying which gates failed)."""

    fields = ("version", "reason", "override_gates")

    def act(self, name: str, body: bounds.Body) -> Any:
        version = body.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValidationError(
                '"version" must be the integer version to bless, e.g. {"version": 3}'
            )
        bounds.check_int(version, '"version"', 1, bounds.MAX_VERSION)
        return views.bless_model(
            self.ctx.tracker(),
            f"{name}@{version}",
            body.text("reason", 10_000, prose=True),
            override_gates=body.flag("override_gates"),
        )


class RollbackHandler(MLOpsHandler):
    fields = ("to", "reason")

    def act(self, name: str, body: bounds.Body) -> Any:
        to = body.integer("to", 1, bounds.MAX_VERSION)
        return views.rollback_model(
            self.ctx.tracker(), name, to, body.text("reason", 10_000, prose=True)
        )


class UnpinHandler(MLOpsHandler):
    """``POST models/NAME/unpin``: automated runs may bless NAME again."""

    fields = ("reason",)

    def act(self, name: str, body: bounds.Body) -> Any:
        return views.unpin_model(self.ctx.tracker(), name, body.text("reason", 10_000, prose=True))


class MonitorsHandler(MLOpsHandler):
    def read(self) -> Any:
        ctx = self.ctx
        return views.monitor_list(
            store=ctx.tracker().store,
            monitors_dir=ctx.monitors_dir,
            pipelines_dir=ctx.pipelines_dir,
        )


class MonitorHandler(MLOpsHandler):
    def read(self, name: str) -> Any:
        ctx = self.ctx
        return views.monitor_report(
            name,
            self.param("since"),
            self.param("now"),
            store=ctx.tracker().store,
            monitors_dir=ctx.monitors_dir,
            pipelines_dir=ctx.pipelines_dir,
        )


class MonitorSeriesHandler(MLOpsHandler):
    def read(self, name: str) -> Any:
        ctx = self.ctx
        return views.monitor_series(
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


class StatusHandler(MLOpsHandler):
    def read(self) -> Any:
        return views.status_summary(self.ctx.tracker(), self.ctx.pipelines_dir)


class StoreHandler(MLOpsHandler):
    """``GET store``: what ``jupyter-mlops store info`` shows."""

    def read(self) -> Any:
        return views.store_summary(self.ctx.tracker())


class ScheduleHandler(MLOpsHandler):
    """``GET schedule?limit=N``: what ``jupyter-mlops scheduler --status`` shows."""

    def read(self) -> Any:
        limit = bounds.parse_int(self.param("limit") or "20", "limit", 1, bounds.MAX_OFFSET)
        ctx = self.ctx
        return views.schedule_status(ctx.tracker(), ctx.project, limit=limit)


class NotificationsHandler(MLOpsHandler):
    """``GET notifications?all=1``: what ``jupyter-mlops notify list [--all]`` shows."""

    def read(self) -> Any:
        every = self.param("all") not in (None, "", "0", "false")
        return views.notifications(self.ctx.tracker(), include_delivered=every)


_ID = r"([^/]+)"

ROUTES: list[tuple[str, type[MLOpsHandler]]] = [
    ("runs", RunsHandler),
    (f"runs/{_ID}", RunHandler),
    (f"runs/{_ID}/metrics/(.+)", MetricHandler),
    (f"runs/{_ID}/artifacts/(.*)", ArtifactHandler),
    (f"runs/{_ID}/preview/(.*)", ArtifactPreviewHandler),
    (f"runs/{_ID}/inline/(.*)", ArtifactInlineHandler),
    (f"runs/{_ID}/table/(.*)", ArtifactTableHandler),
    (f"runs/{_ID}/curves", RunCurvesHandler),
    (f"runs/{_ID}/notebook", NotebookHandler),
    (f"runs/{_ID}/reproduce", ReproduceHandler),
    ("compare", CompareHandler),
    ("compare/curves", CompareCurvesHandler),
    ("experiments", ExperimentsHandler),
    ("pipelines", PipelinesHandler),
    (f"pipelines/{_ID}", PipelineHandler),
    (f"pipelines/{_ID}/run", PipelineRunHandler),
    (f"pipelines/{_ID}/check", PipelineParamsHandler),
    ("promote", PromoteHandler),
    ("models", ModelsHandler),
    (f"models/{_ID}", ModelHandler),
    (f"models/{_ID}/bless", BlessHandler),
    (f"models/{_ID}/rollback", RollbackHandler),
    (f"models/{_ID}/unpin", UnpinHandler),
    *MODEL_ROUTES,
    *ROLLOUT_ROUTES,
    ("monitors", MonitorsHandler),
    (f"monitors/{_ID}", MonitorHandler),
    (f"monitors/{_ID}/series", MonitorSeriesHandler),
    ("status", StatusHandler),
    ("store", StoreHandler),
    ("schedule", ScheduleHandler),
    ("notifications", NotificationsHandler),
    ("events", EventsHandler),
    ("changes", ChangesHandler),
]


def route_table(base_url: str, prefix: str) -> list[tuple[str, type[MLOpsHandler]]]:
    """The handlers under ``{base_url}/{prefix}/`` (the package's ``API_PREFIX``)."""
    from jupyter_server.utils import url_path_join

    return [(url_path_join(base_url, prefix, path) + "$", h) for path, h in ROUTES]
