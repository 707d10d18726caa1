"""Run a monitor's checks over its window and take the actions its breaches call for.

Drift: the blessed version's batch profiles in the window are merged (they share the
reference's bins) and compared with the reference by ``check_drift``, the same function as the
pipeline gate. Performance and slices: metrics over the labelled rows the blessed version scored
in the window. A breach's action (``retrain`` runs the pipeline, whose gates decide;
``rollback`` re-blesses the previous version; ``notify`` tells the project's notify target) is
skipped while the same action ran less than ``cooldown`` ago, against flapping. Every
evaluation and action is recorded (``monitor_events``) for ``jupyter-mlops monitor``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..entities import ModelVersion
from ..exceptions import ConflictError, MLOpsError
from ..project import Project, find_project
from ..store.base import MonitorBatch, MonitorEvent, RunStore
from .checks import BREACH, OK, PENDING, CheckResult, drift_check, performance_check, shadow_check
from .metrics import grouped, task_of
from .serving import _store, cached_model, training_profile
from .slices import rows_sliced_by
from .spec import WINDOWS, MonitorSpec, folders, load_monitor

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    name: str
    time: float
    version: int
    checks: list[CheckResult]
    actions: list[dict[str, Any]]

    @property
    def breached(self) -> bool:
        return any(c.breached for c in self.checks)

    @property
    def status(self) -> str:
        """``breach`` if a check breached, else ``pending`` if a check could not judge yet,
        else ``ok``."""
        found = {c.status for c in self.checks}
        return BREACH if BREACH in found else PENDING if PENDING in found else OK

    def describe(self) -> str:
        """One line: the breached checks and the actions taken (the scheduler's log message)."""
        pending = [f"{c.check} pending ({c.detail['skip']})" for c in self.checks
                   if c.status == PENDING]  # fmt: skip
        if not self.breached:
            ok = sum(c.status == OK for c in self.checks)
            parts = [*pending, f"{ok} check(s) ok"] if ok or not pending else pending
            return "; ".join([*parts, *map(_action_text, self.actions)])  # promote-shadow
        hit = ", ".join(c.check for c in self.checks if c.breached)
        done = [_action_text(a) for a in self.actions]
        return "; ".join([f"breached {hit}", *(done or ["no action"]), *pending])


def _action_text(a: dict[str, Any]) -> str:
    if a["status"] == NO_TARGET:
        return f"{a['action']}: no target configured, not delivered"
    text = f"{a['action']} {a['status']}"
    if a.get("notifications"):
        text += f" (notification {', '.join(str(i)[:8] for i in a['notifications'])})"
    if a.get("run_id"):
        blessed = "blessed" if a.get("blessed") else "not blessed"
        text += f" (run {str(a['run_id'])[:8]}, {blessed})"
    why = a.get("error") or a.get("why")
    return text + (f": {why}" if why and a["status"] != "done" else "")


def _window(
    spec: MonitorSpec, st: RunStore, blessed: ModelVersion, now: float
) -> list[MonitorBatch]:
    """The blessed version's batches in the window ending at ``now``: one indexed read of the
    window's batches (the newest one for a per-batch window), whatever the history kept."""
    v = blessed.version
    if spec.window == "batch":
        return st.monitor_batches(
            spec.model, until=now, version=v, role="blessed", limit=1, newest_first=True
        )
    since = now - WINDOWS[spec.window]
    found = st.monitor_batches(spec.model, since, now, version=v, role="blessed")
    return [b for b in found if b.time > since]  # the window excludes its start


def _scored_batches(
    spec: MonitorSpec,
    st: RunStore,
    blessed: ModelVersion,
    rows: list[Any],
    window: list[MonitorBatch],
) -> list[MonitorBatch]:
    """The batches that scored the labelled ``rows`` (a label may arrive windows after its
    row was scored): the window's, else one indexed read over the rows' scoring times."""
    ids = {b.batch_id for b in window}
    if not rows or all(r[1] in ids for r in rows):
        return window
    times = [r[2] for r in rows]
    v = blessed.version
    return st.monitor_batches(spec.model, min(times), max(times), version=v, role="blessed")


def _reference(
    spec: MonitorSpec, store: RunStore, version: Any, batches: list[MonitorBatch]
) -> dict[str, Any] | None:
    if spec.reference == "training":
        ref = training_profile(store, version)
        if ref is not None:
            return ref
    first = next((b for b in batches if b.version == version.version and b.profile), None)
    return first.profile if first else None


# A notify action's statuses: queued in the outbox, or not taken for want of a target.
QUEUED, NO_TARGET = "queued", "no target"


def _in_cooldown(store: RunStore, spec: MonitorSpec, action: str, now: float) -> bool:
    return any(
        e.kind == "action" and e.status in ("done", QUEUED) and e.detail.get("action") == action
        for e in store.monitor_events(spec.model, since=now - spec.cooldown)
        if now - spec.cooldown < e.time <= now
    )


def _retrain(
    spec: MonitorSpec, store: RunStore, reason: str, pipelines_dir: Path, project: Project | None
) -> dict:
    from ..pipeline.runner import PipelineRunner, find_spec
    from ..tracking import Tracker

    name = spec.pipeline or store.get_model(spec.model).pipeline
    if not name:
        raise MLOpsError(f"monitor {spec.name!r}: say which pipeline retrains {spec.model!r}")
    pspec = find_spec(name, pipelines_dir)
    tracker = Tracker(store=store, project=project)  # None: the project around ``store``
    result = PipelineRunner(tracker, progress=False).run(pspec, tags={"trigger": reason[:200]})
    return {
        "run_id": result.run.id,
        "status": result.run.status.value,
        "blessed": getattr(result, "blessed", None),
        **({"held": result.held} if getattr(result, "held", None) else {}),
    }


def _notify(
    spec: MonitorSpec, store: RunStore, reason: str, project: Project | None, now: float
) -> tuple[str, dict[str, Any]]:
    """Queue the breach in the notification outbox: (status, detail). Nothing is sent here,
    so the detail says ``delivered: false`` with the outbox ids (``notify list`` shows them)."""
    from ..pipeline.notify import project_notify, queue_notification

    target = project_notify((project or find_project()).root)
    if target is None:
        return NO_TARGET, {"delivered": False, "why": "no notify target configured"}
    data = {"event": "monitor_breach", "pipeline": spec.pipeline, "status": "breach"}
    data |= {"error": reason, "monitor": spec.name, "model": spec.model}
    queued = queue_notification(store, target, "monitor_breach", data, now)
    return QUEUED, {"delivered": False, "notifications": [n.id for n in queued]}


def evaluate(
    name: str,
    now: float | None = None,
    *,
    spec: MonitorSpec | None = None,
    store: RunStore | None = None,
    monitors_dir: str | Path | None = None,
    pipelines_dir: str | Path | None = None,
    act: bool = True,
    clock: Callable[[], float] = time.time,
    project: Project | None = None,
) -> Evaluation:
    """Evaluate monitor ``name`` at ``now`` (default: ``clock()``), take and record actions.
    The folders not given are ``project``'s (default: the working directory's project)."""
    if project is not None:
        monitors_dir = monitors_dir or project.monitors_dir
        pipelines_dir = pipelines_dir or project.pipelines_dir
    monitors, pipelines = folders(monitors_dir, pipelines_dir)
    spec = spec or load_monitor(name, monitors, pipelines)
    st = _store(store)
    when = clock() if now is None else now
    blessed = st.get_model(spec.model)
    # the version's first batch: the drift reference when it has no training profile
    batches = st.monitor_batches(spec.model, version=blessed.version, role="blessed", limit=1)
    window = _window(spec, st, blessed, when)
    results = _check(spec, st, blessed, batches, window, when)
    evaluation = Evaluation(spec.model, when, blessed.version, results, [])
    st.log_monitor_event(
        MonitorEvent(
            spec.model,
            when,
            "evaluation",
            evaluation.status,
            {
                "monitor": spec.name,
                "version": blessed.version,
                "window": spec.window,
                "checks": [r.to_dict() for r in results],
            },
        )
    )
    if not act:
        return evaluation
    actions = [
        _act(spec, st, action, _reason(results, action), when, (pipelines, project), clock)
        for action in dict.fromkeys(
            r.action for r in results if (r.breached or _weighs_shadow(r)) and r.action != "none"
        )
    ]
    return Evaluation(spec.model, when, blessed.version, results, actions)


def _reason(results: list[CheckResult], action: str) -> str:
    """Why ``action`` is taken: the breaches that call for it."""
    return "; ".join(
        f"{r.check} {r.value:.3g} breaches {r.threshold}"
        for r in results
        if r.breached and r.action == action and r.value is not None
    )


def _labelled(
    spec: MonitorSpec,
    st: RunStore,
    blessed: ModelVersion,
    window: list[MonitorBatch],
    when: float,
) -> list[tuple[int, str, float, str, str, str | None, float]]:
    """The labelled rows the blessed version scored that the window judges: those labelled in
    it, or those of its batch (a per-batch window), read by index, not from the whole history."""
    if spec.window == "batch":
        if not window:
            return []
        return st.labelled_predictions(
            spec.model, version=blessed.version, batch_id=window[-1].batch_id
        )
    since = when - WINDOWS[spec.window]
    rows = st.labelled_predictions(
        spec.model, version=blessed.version, labelled_since=since, labelled_until=when
    )
    return [r for r in rows if r[6] > since]  # the window excludes its start


def _check(
    spec: MonitorSpec,
    st: RunStore,
    blessed: ModelVersion,
    batches: list[MonitorBatch],
    window: list[MonitorBatch],
    when: float,
) -> list[CheckResult]:
    """Run each of the monitor's checks on the blessed version's window."""
    # Performance is judged on the labels that arrived in the window (labels come days after
    # the predictions), for rows the blessed version scored; a per-batch window takes the
    # labelled rows of its batch.
    rows = _labelled(spec, st, blessed, window, when)
    task = task_of(cached_model(st, blessed), [json.loads(r[4]) for r in rows])
    results: list[CheckResult] = []
    for check in spec.checks:
        if check.kind == "drift":
            ref = _reference(spec, st, blessed, batches)
            results.append(drift_check(check, ref, window, batches))
        elif check.kind == "shadow":
            results.append(shadow_check(check, st, spec.model))
        else:
            by = "all" if check.kind == "performance" else "slice"
            mine, why = rows, None
            if check.kind == "slice":  # its own column: rows predict sliced by it
                scored = _scored_batches(spec, st, blessed, rows, window)
                mine, why = rows_sliced_by(rows, scored, str(check.column))
            metrics = {k[1]: m for k, m in grouped(mine, {blessed.version: task}, by).items()}
            results.append(performance_check(check, metrics, why))
    return results


def _weighs_shadow(r: CheckResult) -> bool:
    """A shadow check's action weighs the evidence at every evaluation that has some (it
    promotes, or records "held" with the counts), not only on a breach."""
    return r.kind == "shadow" and r.status == OK


def _act(
    spec: MonitorSpec,
    st: RunStore,
    action: str,
    reason: str,
    now: float,
    where: tuple[Path, Project | None],  # the pipelines folder, and the project if known
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    detail: dict[str, Any] = {"monitor": spec.name, "action": action, "reason": reason}
    if _in_cooldown(st, spec, action, now):
        status = "cooldown"
    else:
        try:
            status = "done"
            if action == "retrain":
                detail |= _retrain(spec, st, f"monitor {spec.name}: {reason}", *where)
            elif action == "promote-shadow":
                from .shadow import promote_for_monitor

                status, found = promote_for_monitor(spec, st)
                detail |= found
            elif action == "rollback":
                from ..registry import ModelRegistry

                old, new = ModelRegistry(st).rollback(
                    spec.model, reason=f"monitor {spec.name}: {reason}"
                )
                detail |= {"from": old.version, "to": new.version}
            if action == "notify":  # queued for delivery now (``now`` may be a back-fill)
                status, queued = _notify(spec, st, reason, where[1], clock())
                detail |= queued
        except ConflictError as e:  # e.g. the pipeline is running: not done, so retried next time
            status, detail["why"] = "skipped", str(e)
            log.warning("monitor %s: %s skipped: %s", spec.name, action, e)
        except MLOpsError as e:  # recorded, not raised: one failing action must not hide the rest
            status, detail["error"] = "failed", str(e)
            log.error("monitor %s: %s failed: %s", spec.name, action, e)
    st.log_monitor_event(MonitorEvent(spec.model, now, "action", status, detail))
    # The recorded detail keeps the run's status under "status" (the report shows it); the
    # caller gets the action's, and the run's as run_status.
    run = {"run_status": detail["status"]} if "run_id" in detail else {}
    return {**detail, **run, "status": status}
