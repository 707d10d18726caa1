"""Scheduled monitors: the part of the scheduler that evaluates monitors with a ``schedule:``.

- A monitor (``monitors/NAME.yaml`` or a pipeline's ``monitor:`` key) with a ``schedule:`` is
  evaluated in-process at each firing, as of the firing time (evaluation only reads stored
  batches). The :class:`~.scheduler.Scheduler` drives it with the pipelines' machinery under keys
  of its own: state ``monitor:NAME``, lease ``monitor-schedule:NAME``, pause
  ``pause:monitor:NAME``, and log rows named ``monitor:NAME`` with outcome ``ok``, ``breach`` or
  ``error`` and the actions taken in the message.
- Catch-up is always ``latest``: a late evaluation of the last firing still means something,
  older ones add nothing.
- A ``retrain`` runs the pipeline through the runner, whose lock file (not the scheduler's lease)
  guards it: while the pipeline runs, the action is recorded ``skipped`` and, never having been
  done, is taken again at the next breach.
- A spec that does not load is logged as one ``error`` row per distinct error; the others go on.

This sits in ``schedule/`` beside the scheduler: ``monitoring`` and ``schedule`` are one layer
(both above ``pipeline``), and the scheduler is what knows about leases and firings.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from ..entities import PipelineOutcome
from ..exceptions import MLOpsError, ValidationError
from ..monitoring.spec import MonitorSpec, list_monitors, load_monitor, monitor_exists
from ..pipeline.spec import load_pipeline, spec_file
from ..project import Project
from ..store.base import RunStore

log = logging.getLogger(__name__)

# A monitor's state, pause and log rows are named PREFIX + NAME and its lease LEASE_PREFIX + NAME:
# a pipeline and its `monitor:` key share a name, not a key (pipeline names have no ':').
PREFIX = "monitor:"
LEASE_PREFIX = "monitor-schedule:"
KINDS = ("pipeline", "monitor")
ERROR = "error"  # a monitor firing's outcome: this, or the evaluation's status


class MonitorJobs:
    """The monitors of a project as the scheduler sees them: which are scheduled, which one a
    name means, and evaluating one at a firing."""

    def __init__(self, project: Project, store: RunStore) -> None:
        self.project = project
        self.monitors_dir = project.monitors_dir
        self.pipelines_dir = project.pipelines_dir
        self.store = store

    def load(self, name: str) -> MonitorSpec:
        return load_monitor(name, self.monitors_dir, self.pipelines_dir)

    def scheduled(self) -> tuple[dict[str, MonitorSpec], dict[str, str]]:
        """The scheduled monitors by name, and the monitors that do not load, with the error."""
        specs, broken = {}, {}
        for name in list_monitors(self.monitors_dir, self.pipelines_dir):
            try:
                spec = self.load(name)
            except MLOpsError as e:  # one broken spec must not stop the others
                broken[name] = str(e)
                continue
            if spec.schedule:
                specs[name] = spec
        return specs, broken

    def kind(self, name: str, kind: str | None) -> str:
        """Whether ``name`` means a pipeline or a monitor: ``kind`` if given, else the one of the
        two with a schedule (a monitor only when its name is not just a pipeline's)."""
        if kind is not None:
            if kind not in KINDS:
                raise ValidationError(f"Unknown kind {kind!r}: use pipeline or monitor")
            return kind
        if not monitor_exists(name, self.monitors_dir, self.pipelines_dir):
            return "pipeline"
        if not spec_file(name, self.pipelines_dir).is_file():
            return "monitor"
        monitor_scheduled = bool(self.load(name).schedule)
        if monitor_scheduled and load_pipeline(name, self.pipelines_dir).schedule:
            raise ValidationError(
                f"'{name}' is both a scheduled pipeline and a scheduled monitor; say which with "
                "--kind pipeline or --kind monitor"
            )
        return "monitor" if monitor_scheduled else "pipeline"

    def with_schedule(self, name: str) -> MonitorSpec:
        spec = self.load(name)
        if not spec.schedule:
            raise ValidationError(
                f"Monitor '{name}' has no schedule; add one to its spec, e.g. "
                "schedule: '0 0 * * *' (cron, UTC)"
            )
        return spec

    def evaluate(self, spec: MonitorSpec, fire_at: dt.datetime) -> dict[str, Any]:
        """Evaluate ``spec`` as of its firing ``fire_at``; logged like a pipeline firing."""
        from ..monitoring.evaluation import evaluate

        key = PREFIX + spec.name
        event: dict[str, Any] = {"pipeline": key, "kind": "monitor", "at": fire_at}
        try:
            evaluation = evaluate(
                spec.name,
                now=fire_at.timestamp(),
                spec=spec,
                store=self.store,
                project=self.project,
            )
        except MLOpsError as e:  # e.g. its model has no blessed version yet
            event.update(outcome=ERROR, message=str(e))
        except Exception as e:  # a bug in one monitor must not stop the scheduler's other work
            log.exception("monitor %s: evaluation failed", spec.name)
            event.update(outcome=ERROR, message=f"{type(e).__name__}: {e}")
        else:
            runs = [a["run_id"] for a in evaluation.actions if a.get("run_id")]
            event.update(
                outcome=evaluation.status,  # ok, breach or pending
                message=evaluation.describe(),
                actions=evaluation.actions,
                run_id=runs[-1] if runs else None,
            )
        self.store.log_schedule(
            key, fire_at.timestamp(), event["outcome"], event.get("run_id"), event["message"]
        )
        interrupted = PipelineOutcome.INTERRUPTED.value  # a run status too
        if any(a.get("run_status") == interrupted for a in event.get("actions", [])):
            raise KeyboardInterrupt  # Ctrl-C during a retrain stops the scheduler, as in a firing
        return event

    def log_broken(self, name: str, error: str, now: dt.datetime) -> list[dict[str, Any]]:
        """Log that monitor ``name`` does not load, unless its last row already says so: a
        scheduler ticking every few seconds must not write the same error each time."""
        key = PREFIX + name
        last = self.store.schedule_log(key, limit=1)
        if last and last[0].outcome == ERROR and last[0].message == error:
            return []
        log.error("monitor %s: %s", name, error)
        self.store.log_schedule(key, now.timestamp(), ERROR, None, error)
        return [{"pipeline": key, "kind": "monitor", "at": now, "outcome": ERROR, "message": error}]
