"""The ASGI app of ``jupyter-mlops serve`` (starlette; uvicorn runs it).

Routes: ``POST /models/NAME/predict``, ``GET /health`` (the process answers), ``GET /ready``
(the models are loaded: 503 until then), ``GET /models`` (versions, stages, traffic shares) and
``GET /metrics`` (Prometheus text). Every error is a JSON ``{"error": one line}`` with the
status of :func:`.errors.status_of`; a client's mistake is never a 500.

A token, when set, is required as ``Authorization: Bearer TOKEN`` on every route but
``/health`` and compared in constant time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from ..exceptions import MLOpsError
from ..store.base import RunStore
from . import ledger, records, route_hook
from .errors import (
    BodyTooLargeError,
    ModelFailedError,
    RequestTimeoutError,
    ServeError,
    UnauthorizedError,
    status_of,
)
from .options import ServeOptions
from .scoring import Request as PredictRequest
from .scoring import Scored, score
from .served import ModelTable
from .telemetry import CONTENT_TYPE, Telemetry

log = logging.getLogger(__name__)
FLUSH_AT_EXIT = 10.0  # seconds a stopping server waits for its queued records


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    return Response(body, status, headers, media_type="application/json")


def _error(e: BaseException, headers: dict[str, str] | None = None) -> Response:
    status = status_of(e)
    text = (str(e).strip().splitlines() or [type(e).__name__])[0]
    if status == 500:
        log.error("internal error: %s: %s", type(e).__name__, text, exc_info=e)
        text = f"internal error ({type(e).__name__}); see the server's log"
    extra = e.extra if isinstance(e, ServeError) else {}
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return _json({"error": text, **extra}, status, headers)


class Server:
    """The app's state: the store, the served models, the metrics and the options."""

    def __init__(
        self, store: RunStore, options: ServeOptions, clock: Callable[[], float] = time.time
    ) -> None:
        self.store, self.options, self.clock = store, options, clock
        self.table = ModelTable(store, options.names)
        self.telemetry = Telemetry()
        self._token = options.token.encode() if options.token else None
        self.ledger: ledger.Ledger | None = None  # opened at start-up (``lifespan``)

    def authorize(self, request: Request) -> None:
        if self._token is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self._token)
        if not ok:
            raise UnauthorizedError("Send the server's token as 'Authorization: Bearer TOKEN'")

    async def read_body(self, request: Request) -> bytes:
        limit = self.options.max_body
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise BodyTooLargeError(f"The body is {int(length)} bytes; the limit is {limit}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLargeError(f"The body is over the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def predict(self, request: Request) -> Response:
        t0 = time.perf_counter()
        rid = uuid.uuid4().hex[:16]
        name = request.path_params["name"]
        head = {"X-Request-Id": rid}
        try:
            self.authorize(request)
            self.table.blessed(name)  # 404 or 409 before the body is read
            req = PredictRequest(
                name,
                await self.read_body(request),
                request.headers.get("content-type"),
                request.query_params.get("id_column"),
                request.headers.get("x-routing-key"),
                rid,
            )
            scored = await self._score(req)
        except ClientDisconnect:
            return Response(status_code=400)
        except Exception as e:  # mapped by one table; a model's own crash is the one 500
            self.telemetry.answered(self._label(name), status_of(e))
            failed = _error(e, head)
            if isinstance(e, ModelFailedError) and self.options.record:
                records.HAND_OFFS.start()
                failed.background = BackgroundTask(self._record_error, name, e)
            return failed
        took = time.perf_counter() - t0
        for arm in scored.arms:
            self.telemetry.scored(name, arm.version.version, arm.arm, arm.rows, took)
        self.telemetry.answered(name, 200)
        body = {"predictions": scored.predictions, "request_id": rid, "model": name,
                "version": scored.version}  # fmt: skip
        if scored.versions is not None:
            body["versions"] = scored.versions
        response = _json(body, 200, head)
        if self.options.record:
            if self.ledger is not None:  # answered: counted before the response goes out
                for arm in scored.arms:
                    self.ledger.answered(name, 1, len(arm.batch.X))
            records.HAND_OFFS.start()
            response.background = BackgroundTask(self._record, scored)
        return response

    def _label(self, name: str) -> str:
        # A name no model has is not a label: a client must not grow the metrics without bound.
        return name if name in self.table.served_names() else "(unknown)"

    async def _score(self, req: PredictRequest) -> Scored:
        def run() -> Scored:
            return score(self.table, req, routing=self.options.routing, clock=self.clock)

        try:
            with anyio.fail_after(self.options.timeout):
                return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except TimeoutError:
            raise RequestTimeoutError(
                f"Scoring took longer than the server's timeout of {self.options.timeout:g}s; "
                "send fewer rows per request"
            ) from None

    def _record_error(self, name: str, e: ModelFailedError) -> None:
        try:
            records.submit_error(self.store, name, self.clock(), e.version, e.rows, str(e))
        finally:
            records.HAND_OFFS.done()

    def _record(self, scored: Scored) -> None:
        try:
            for arm in scored.arms:
                records.submit_batch(arm.batch, self.telemetry, self.ledger)
        finally:
            records.HAND_OFFS.done()

    async def health(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def ready(self, request: Request) -> Response:
        try:
            self.authorize(request)
        except MLOpsError as e:
            return _error(e)
        missing = self.table.missing()
        ok = self.table.ready and not missing
        body = {"ready": ok, "models": [s.name for s in self.table.models()], "missing": missing}
        return _json(body, 200 if ok else 503)

    async def models(self, request: Request) -> Response:
        try:
            self.authorize(request)
        except MLOpsError as e:
            return _error(e)
        return _json({"models": await anyio.to_thread.run_sync(self._describe)})

    def _describe(self) -> list[dict[str, Any]]:
        out = []
        for s in self.table.models():
            blessed = s.blessed.version if s.blessed else None
            shares = route_hook.shares(self.store, s.name, blessed)
            versions = [
                {"version": m.version, "stage": m.stage.value, "aliases": list(m.aliases)}
                for m in s.versions
            ]
            traffic = {str(v): share for v, share in sorted(shares.items())}
            out.append({"name": s.name, "blessed": blessed, "versions": versions,
                        "traffic": traffic})  # fmt: skip
        return out

    async def metrics(self, request: Request) -> Response:
        try:
            self.authorize(request)
        except MLOpsError as e:
            return _error(e)
        return Response(self.telemetry.exposition(), headers={"Content-Type": CONTENT_TYPE})

    async def follow(self) -> None:
        """Follow the store's model events until cancelled (a failing look is logged)."""
        while True:
            await asyncio.sleep(self.options.poll_seconds)
            try:
                await anyio.to_thread.run_sync(self.table.poll)
            except Exception as e:  # the store is down for a while: keep serving what we have
                log.warning("could not look at the store's models: %s", e)

    def open_ledger(self) -> None:
        """Count what dead server processes over this store answered and never recorded (a
        ``lost`` monitor event, ``/metrics`` ``why="killed"``), then open this process's."""

        def counted(loss: ledger.Loss) -> None:
            self.telemetry.lost.labels(loss.name, "killed").inc(loss.batches)

        ledger.recover(self.store, counted, self.clock)
        self.ledger = ledger.Ledger(ledger.folder(self.store))

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        if self.options.record:
            await anyio.to_thread.run_sync(self.open_ledger)
        await anyio.to_thread.run_sync(self.table.refresh)
        task = asyncio.get_running_loop().create_task(self.follow())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await anyio.to_thread.run_sync(records.flush, FLUSH_AT_EXIT)
            if self.ledger is not None:  # kept if records are still pending: counted next start
                self.ledger.close()


def create_app(
    store: RunStore, options: ServeOptions | None = None, clock: Callable[[], float] = time.time
) -> Starlette:
    """The server's ASGI app over ``store``; ``clock`` is when batches are recorded (tests)."""
    server = Server(store, options or ServeOptions(), clock)
    routes = [
        Route("/models/{name:path}/predict", server.predict, methods=["POST"]),
        Route("/health", server.health, methods=["GET"]),
        Route("/ready", server.ready, methods=["GET"]),
        Route("/models", server.models, methods=["GET"]),
        Route("/metrics", server.metrics, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=server.lifespan)
    app.state.server = server
    return app


def app_from_env() -> Starlette:
    """The app of one worker process (``--workers N``): options from the environment, the
    store of the project the command was run in."""
    from ..project import find_project
    from ..tracking.fluent import use_project

    options = ServeOptions.from_env()
    tracker = use_project(find_project(), create=False)
    return create_app(tracker.store, options)


__all__ = ["Server", "app_from_env", "create_app"]
