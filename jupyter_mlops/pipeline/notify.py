"""Tell someone when a pipeline run fails, fails a gate, or recovers.

Events: ``failure`` (execution failed), ``gate_failed`` (a blocking gate failed) and ``recovery``
(the first success after a firing that ended in either). Where to: a webhook that receives the
payload as a JSON POST, and/or a shell command that receives it as ``JUPYTER_MLOPS_*``
environment variables (plus the whole JSON in ``JUPYTER_MLOPS_PAYLOAD``). The spec's ``notify``
wins; without one, ``[tool.jupyter_mlops.notify]`` in pyproject.toml or the variables
``JUPYTER_MLOPS_NOTIFY_WEBHOOK`` / ``JUPYTER_MLOPS_NOTIFY_COMMAND`` apply.

Nothing is sent here: a notification is written to the store's outbox when its run ends, one row
per target, and delivered by :mod:`.outbox` (the scheduler's loop, the Jupyter server's loop,
or the CLI command that ran the pipeline), so a dead webhook can neither hold a run nor lose
the message.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..codec import to_jsonable, utc
from ..entities import Notification, NotificationStatus, PipelineOutcome, RunKind, RunStatus
from ..store.base import RunStore
from .result import PipelineResult
from .spec import NOTIFY_EVENTS, NotifySpec, PipelineSpec

log = logging.getLogger(__name__)


def project_notify(root: Path) -> NotifySpec | None:
    """The default notification target of the project at ``root`` (pyproject.toml or
    environment), if any."""
    from ..config import pyproject_settings

    webhook = os.environ.get("JUPYTER_MLOPS_NOTIFY_WEBHOOK") or None
    command = os.environ.get("JUPYTER_MLOPS_NOTIFY_COMMAND") or None
    table: Any = pyproject_settings(root).get("notify") or {}
    if not webhook and not command and not isinstance(table, Mapping):
        return None
    merged = dict(table) if isinstance(table, Mapping) else {}
    if webhook or command:
        merged.update({k: v for k, v in (("webhook", webhook), ("command", command)) if v})
    if not merged.get("webhook") and not merged.get("command"):
        return None
    try:
        return NotifySpec.from_dict(merged)
    except ValueError as e:
        log.error("project notification settings ignored: %s", e)
        return None


def _was_bad(store: RunStore, pipeline: str, before: float | dt.datetime, exclude: str) -> bool:
    """Whether the previous firing of ``pipeline`` (before ``before``) failed or failed a gate."""
    for _ in range(50):  # skip tracked child runs that share the experiment
        prev = store.previous_run(pipeline, before, exclude)
        if prev is None:
            return False
        if prev.kind is RunKind.PIPELINE:
            return prev.status is RunStatus.FAILED or prev.tags.get("gates") == "failed"
        before, exclude = prev.started, prev.id
    return False


def event_for(result: PipelineResult, store: RunStore, pipeline: str, started: float) -> str | None:
    outcome = result.outcome
    if outcome is PipelineOutcome.FAILED:
        return "failure"
    if outcome is PipelineOutcome.GATE_FAILED:
        return "gate_failed"
    if outcome is PipelineOutcome.PASSED and _was_bad(store, pipeline, started, result.run.id):
        return "recovery"
    return None


def payload(event: str, spec: PipelineSpec, result: PipelineResult) -> dict[str, Any]:
    run = result.run
    link = result.report or result.output_notebook
    return {
        "event": event,
        "pipeline": spec.name,
        "run_id": run.id,
        "status": result.outcome.value,
        "run_status": run.status.value,
        "attempt": f"{result.attempts}/{spec.retries + 1}",
        "scheduled_for": run.tags.get("scheduled_for"),
        "error": (run.error or "").strip().splitlines()[0] if run.error else None,
        "gates": to_jsonable(result.gates),
        "model": result.model.ref if result.model else None,
        "blessed": result.blessed,
        "link": Path(link).resolve().as_uri() if link else None,
    }


def notify_run(
    spec: PipelineSpec,
    result: PipelineResult,
    store: RunStore,
    started: float,
    *,
    root: Path,
    clock: Callable[[], float] = time.time,
) -> list[Notification]:
    """Queue the notification this run calls for, if any (one per target; the default one
    from the project at ``root``); returns them."""
    target = spec.notify or project_notify(root)
    if target is None:
        return []
    event = event_for(result, store, spec.name, started)
    if event is None or event not in target.on:
        return []
    return queue_notification(store, target, event, payload(event, spec, result), clock())


def queue_notification(
    store: RunStore, target: NotifySpec, event: str, data: Mapping[str, Any], now: float
) -> list[Notification]:
    """Write ``data`` to the outbox for each of ``target``'s webhook and command, due now."""
    items = [
        Notification(
            id=uuid.uuid4().hex,
            created=utc(now),
            event=event,
            channel=channel,
            target=where,
            payload=dict(data),
            attempts=0,
            next_attempt=utc(now),
            status=NotificationStatus.PENDING,
        )
        for channel, where in (("webhook", target.webhook), ("command", target.command))
        if where
    ]
    store.queue_notifications(items)
    for n in items:
        log.info("notification %s (%s) queued for %s %s", n.id[:8], event, n.channel, n.target)
    return items


__all__ = ["NOTIFY_EVENTS", "notify_run", "payload", "project_notify", "queue_notification"]
