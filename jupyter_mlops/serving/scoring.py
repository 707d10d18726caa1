"""One predict request, from its body to its predictions: parse, route the rows to their arms,
check each arm's rows against its version's contract, score them with that version. Runs on a
worker thread (the app bounds it by the per-request timeout); no store write happens here: the
batches it returns are recorded after the response (:mod:`.records`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..entities import ModelVersion
from ..frameworks import predict as framework_predict
from ..monitoring.recording import Batch, load, plain
from ..store.base import RunStore
from . import contract_hook, route_hook
from .bodies import parse_body
from .errors import ModelFailedError
from .served import ModelTable


@dataclass(frozen=True)
class Request:
    """What the app read of a predict request."""

    name: str
    body: bytes
    content_type: str | None
    id_column: str | None
    routing_key: str | None
    request_id: str


@dataclass(frozen=True)
class Arm:
    """The rows one version scored: what its record and its metrics are made of."""

    version: ModelVersion
    arm: str  # "blessed", or "canary" for any other version routed to
    rows: int
    batch: Batch


@dataclass(frozen=True)
class Scored:
    predictions: list[Any]
    version: int  # the version that scored the rows (the blessed one when they were split)
    arms: list[Arm]
    versions: list[int] | None = None  # each row's version, when the rows were split


def _values(y: Any) -> list[Any]:
    """Predictions as plain Python (numpy scalars and arrays to numbers and lists)."""
    if hasattr(y, "tolist"):
        out = y.tolist()
        if isinstance(out, list):
            return out
    return [plain(v) for v in list(y)]


def _run_model(mv: ModelVersion, model: Any, X: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    try:
        y = framework_predict(model, X)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        text = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        raise ModelFailedError(
            f"Model {mv.ref} could not score these rows ({type(e).__name__}: {text}); send "
            "the columns it was trained on",
            mv.version,
            len(X),
        ) from None
    took = time.perf_counter() - t0
    if len(y) != len(X):
        raise ModelFailedError(
            f"Model {mv.ref} returned {len(y)} predictions for {len(X)} rows", mv.version, len(X)
        )
    return y, took


def score(
    table: ModelTable,
    req: Request,
    *,
    routing: bool = True,
    clock: Callable[[], float] = time.time,
) -> Scored:
    """Score ``req``'s rows: each row by the version its routing key lands on."""
    st = table.store
    blessed = table.blessed(req.name)
    parsed = parse_body(req.body, req.content_type, req.id_column)
    frame = parsed.frame
    n = len(frame)
    now = clock()
    arms: list[tuple[int, Any]] = [(blessed.version, None)]
    if routing:
        keys = parsed.ids or [req.routing_key or req.request_id] * n
        arms = route_hook.arms(st, req.name, keys, now, blessed=blessed.version)
    if len(arms) == 1:
        mv = _version(table, req.name, blessed, arms[0][0])
        frame = contract_hook.check_input(st, mv, frame)  # the contract of the version scoring
        y, took = _run_model(mv, load(st, mv)[0], frame)
        batch = _batch(st, req, mv, frame, y, took, now, parsed.ids, blessed.version)
        return Scored(_values(y), mv.version, [Arm(mv, _arm(mv, blessed), n, batch)])
    ids = parsed.ids or [f"{req.request_id}:{i}" for i in range(n)]
    out: list[Any] = [None] * n
    per_row = [blessed.version] * n
    done: list[Arm] = []
    for version, mask in arms:
        if not mask.any():
            continue
        mv = _version(table, req.name, blessed, version)
        where = np.flatnonzero(mask)
        part = contract_hook.check_input(st, mv, frame.iloc[where])
        y, took = _run_model(mv, load(st, mv)[0], part)
        for i, v in zip(where.tolist(), _values(y), strict=True):
            out[i], per_row[i] = v, mv.version
        batch = _batch(
            st, req, mv, part, y, took, now, [ids[i] for i in where.tolist()], blessed.version
        )
        done.append(Arm(mv, _arm(mv, blessed), len(where), batch))
    if len(done) == 1:
        return Scored(out, done[0].version.version, done)
    return Scored(out, blessed.version, done, per_row)


def _version(table: ModelTable, name: str, blessed: ModelVersion, number: int) -> ModelVersion:
    return blessed if number == blessed.version else table.version(name, number)


def _arm(mv: ModelVersion, blessed: ModelVersion) -> str:
    return "blessed" if mv.version == blessed.version else "canary"


def _batch(
    st: RunStore,
    req: Request,
    mv: ModelVersion,
    X: Any,
    y: Any,
    took: float,
    now: float,
    ids: list[str] | None,
    blessed_version: int,
) -> Batch:
    role = "blessed" if mv.version == blessed_version else "canary"
    return Batch(st, req.name, mv, X, y, took, now, req.request_id, ids, None, False, role)
