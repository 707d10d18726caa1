"""Tell someone when a pipeline run fails, fails a gate, or recovers.

Events: ``failure`` (execution failed), ``gate_failed`` (a blocking gate failed) and ``recovery``
(the first success after a firing that ended in either). Where to: a webhook that receives the
payload as a JSON POST, and/or a shell command that receives it as ``JUPYTER_MLOPS_*``
environment variables (plus the whole JSON in ``JUPYTER_MLOPS_PAYLOAD``). The spec's ``notify``
wins; without one, ``[tool.jupyter_mlops.notify]`` in pyproject.toml or the variables
``JUPYTER_MLOPS_NOTIFY_WEBHOOK`` / ``JUPYTER_MLOPS_NOTIFY_COMMAND`` apply.

A delivery that fails is retried (``DELIVERY_ATTEMPTS`` in all, backing off from
``DELIVERY_BACKOFF_S``; the sleep is injected) and then logged: notifying never raises, so it
can neither crash the scheduler nor fail the run.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..entities import PipelineOutcome, RunKind, RunStatus
from ..store.base import RunStore
from .spec import NOTIFY_EVENTS, NotifySpec, PipelineSpec

if TYPE_CHECKING:
    from .runner import PipelineResult

log = logging.getLogger(__name__)
DELIVERY_ATTEMPTS = 3
DELIVERY_BACKOFF_S = 1.0
HTTP_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 60.0


def project_notify(start: Path | None = None) -> NotifySpec | None:
    """The project's default notification target (pyproject.toml or environment), if any."""
    from ..config import _pyproject_settings, find_project_root

    webhook = os.environ.get("JUPYTER_MLOPS_NOTIFY_WEBHOOK") or None
    command = os.environ.get("JUPYTER_MLOPS_NOTIFY_COMMAND") or None
    table: Any = _pyproject_settings(find_project_root(start)).get("notify") or {}
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


def _was_bad(store: RunStore, pipeline: str, before: float, exclude: str) -> bool:
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
        "gates": [g.to_dict() for g in result.gates],
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
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Send the notification this run calls for, if any; returns the event sent (or None)."""
    target = spec.notify or project_notify(Path(spec.path).parent if spec.path else None)
    if target is None:
        return None
    event = event_for(result, store, spec.name, started)
    if event is None or event not in target.on:
        return None
    data = payload(event, spec, result)
    if target.webhook:
        deliver(lambda: post_json(target.webhook or "", data), f"webhook {target.webhook}", sleep)
    if target.command:
        deliver(lambda: run_command(target.command or "", data), "notify command", sleep)
    return event


def deliver(send: Callable[[], None], what: str, sleep: Callable[[float], None]) -> bool:
    """Call ``send`` until it succeeds, ``DELIVERY_ATTEMPTS`` times at most; never raises."""
    for attempt in range(1, DELIVERY_ATTEMPTS + 1):
        try:
            send()
            return True
        except Exception as e:  # any failure of a delivery is logged, never raised
            if attempt == DELIVERY_ATTEMPTS:
                log.error("%s: delivery failed after %d attempts: %s", what, attempt, e)
                return False
            log.warning("%s: delivery failed (attempt %d): %s; retrying", what, attempt, e)
            sleep(DELIVERY_BACKOFF_S * 2 ** (attempt - 1))
    return False  # pragma: no cover


def post_json(url: str, data: Mapping[str, Any]) -> None:
    body = json.dumps(data, default=str).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def run_command(command: str, data: Mapping[str, Any]) -> None:
    env = dict(os.environ)
    for key in ("event", "pipeline", "run_id", "status", "attempt", "link", "error"):
        env[f"JUPYTER_MLOPS_{key.upper()}"] = str(data.get(key) or "")
    env["JUPYTER_MLOPS_GATES"] = json.dumps(data.get("gates") or [], default=str)
    env["JUPYTER_MLOPS_PAYLOAD"] = json.dumps(data, default=str)
    done = subprocess.run(  # shell=True: the user's own configured command line
        command, shell=True, env=env, timeout=COMMAND_TIMEOUT_S, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise OSError(f"exit code {done.returncode}: {done.stderr.strip()[-200:]}")


__all__ = ["NOTIFY_EVENTS", "deliver", "notify_run", "payload", "project_notify"]
