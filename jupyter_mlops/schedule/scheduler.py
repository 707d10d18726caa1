"""The embedded scheduler: run promoted pipelines when their cron schedule fires.

- :func:`due` is pure: given the schedules, when each last fired and the time now, it says what
  to run. Firing times that passed while the scheduler was down are *missed*: only the latest
  runs, and the earlier ones are recorded as one gap (count, first, last), not one row each (no
  burst of catch-up runs, no flood of log rows). Finding the latest firing steps back from now,
  so a tick costs the same after three minutes or three days of downtime.
- The last firing time of each pipeline lives in the store, so a restarted scheduler neither
  repeats nor forgets a run. A pipeline first seen starts from "now" (no backfill).
- A pipeline never runs twice at once: the runner holds an exclusive lock file under the store
  for each run, so a second scheduler (or a slow previous run) makes the firing ``skipped``,
  not doubled. Each fired run is logged with its :class:`~jupyter_mlops.entities.PipelineOutcome`.
- Schedules are read in UTC. Timeouts and retries are the pipeline's own (see the runner).
- The clock is injected (:class:`Scheduler` ``clock``); the CLI's hidden ``--now`` and the
  ``JUPYTER_MLOPS_NOW`` variable pin it to a fixed time, for tests only.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cron import CronSchedule
from ..entities import PipelineOutcome as Outcome
from ..exceptions import ConflictError, MLOpsError, ValidationError
from ..pipeline.lock import pipeline_lock as pipeline_lock  # the lock test helpers use
from ..pipeline.spec import PipelineSpec, list_pipelines, load_pipeline
from ..tracking import Tracker, default_tracker

log = logging.getLogger(__name__)
UTC = dt.timezone.utc


NOW_ENV = "JUPYTER_MLOPS_NOW"


@dataclass(frozen=True)
class Missed:
    """Firing times that passed unrun, as one gap: ``count`` of them from ``first`` to ``last``."""

    count: int
    first: dt.datetime
    last: dt.datetime

    def describe(self) -> str:
        if self.count == 1:
            return f"1 firing missed at {self.first.isoformat()}; running the latest"
        return (
            f"{self.count:,} firings missed between {self.first.isoformat()} and "
            f"{self.last.isoformat()}; running the latest"
        )


@dataclass(frozen=True)
class Due:
    pipeline: str
    fire_at: dt.datetime  # the firing time this run stands for
    missed: Missed | None = None  # earlier firing times that passed unrun


def due(
    schedules: Mapping[str, CronSchedule], last: Mapping[str, dt.datetime], now: dt.datetime
) -> list[Due]:
    """What to run at ``now``: for each pipeline, its latest firing time in (last, now]."""
    out = []
    for name in sorted(schedules):
        since = last.get(name)
        if since is None:
            continue
        cron = schedules[name]
        latest = cron.latest_at_or_before(now)
        if latest <= since:
            continue
        missed = None
        count = cron.count_between(since, latest) - 1  # the latest one runs
        if count > 0:
            missed = Missed(count, cron.next_after(since), cron.previous_before(latest))
        out.append(Due(name, latest, missed))
    return out


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def parse_now(text: str) -> dt.datetime:
    """A fixed "now" from ISO 8601 text; a time without an offset is read as UTC."""
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"Invalid time '{text}' for --now / ${NOW_ENV}: use ISO 8601, e.g. 2026-11-23T10:02:00Z"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def scheduler_clock(now: str | None = None) -> Callable[[], dt.datetime]:
    """The real UTC clock, or a fixed time from ``now`` or ``$JUPYTER_MLOPS_NOW`` (tests only)."""
    text = now if now is not None else os.environ.get(NOW_ENV)
    if not text:
        return utcnow
    fixed = parse_now(text)
    return lambda: fixed


@dataclass(frozen=True)
class SchedulerStatus:
    """What ``jupyter-mlops scheduler --status`` shows: next firings, then the latest log rows."""

    next: dict[str, dt.datetime]  # pipeline -> next firing time (UTC), by name
    log: list[dict[str, Any]]  # newest first: pipeline, scheduled_for, outcome, run_id, message

    def to_dict(self) -> dict[str, Any]:
        return {"next": {k: v.isoformat() for k, v in self.next.items()}, "log": self.log}


class Scheduler:
    def __init__(
        self,
        pipelines_dir: str | Path = "pipelines",
        tracker: Tracker | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        # tracker None is for scripts (the default tracker); front-ends pass the one they use.
        self.pipelines_dir = Path(pipelines_dir)
        self.tracker = tracker or default_tracker()
        self.clock = clock or scheduler_clock()
        self.lock_dir = Path(self.tracker.store.location).parent / "locks"

    def _specs(self) -> dict[str, PipelineSpec]:
        specs = {}
        for name in list_pipelines(self.pipelines_dir):
            try:
                spec = load_pipeline(name, self.pipelines_dir)
            except MLOpsError as e:  # one broken spec must not stop the others
                log.error("pipeline %s: %s", name, e)
                continue
            if spec.schedule:
                specs[name] = spec
        return specs

    def tick(self) -> list[dict[str, Any]]:
        """One pass: start the due pipelines (one after the other); returns what happened."""
        now = self.clock()
        specs = self._specs()
        store = self.tracker.store
        state = store.schedule_state()
        for name in specs.keys() - state.keys():  # first seen: start counting from now
            store.set_schedule_state(name, now.timestamp())
            state[name] = now.timestamp()
        last = {n: dt.datetime.fromtimestamp(t, UTC) for n, t in state.items()}
        events = []
        for d in due({n: s.cron for n, s in specs.items() if s.cron}, last, now):
            # Recorded before running: a crash mid-run must not make a restart run it again.
            store.set_schedule_state(d.pipeline, d.fire_at.timestamp())
            if d.missed:  # one row per gap, however many firings it holds
                message = d.missed.describe()
                first = d.missed.first.timestamp()
                store.log_schedule(d.pipeline, first, Outcome.MISSED.value, None, message)
                events.append(
                    {
                        "pipeline": d.pipeline,
                        "outcome": Outcome.MISSED.value,
                        "at": d.missed.first,
                        "until": d.missed.last,
                        "count": d.missed.count,
                        "message": message,
                    }
                )
            events.append(self._fire(specs[d.pipeline], d.fire_at))
        return events

    def _fire(self, spec: PipelineSpec, fire_at: dt.datetime) -> dict[str, Any]:
        from ..pipeline.runner import PipelineRunner

        event: dict[str, Any] = {"pipeline": spec.name, "at": fire_at}
        try:
            result = PipelineRunner(self.tracker, progress=False).run(
                spec, tags={"scheduled_for": fire_at.isoformat()}
            )
        except ConflictError:  # the runner holds the pipeline's lock for a whole run
            event.update(
                outcome=Outcome.SKIPPED.value, message="still running from an earlier firing"
            )
        except MLOpsError as e:  # e.g. the notebook changed since promote
            event.update(outcome=Outcome.ERROR.value, message=str(e))
        else:
            interrupted = result.outcome is Outcome.INTERRUPTED
            event.update(
                outcome=result.outcome.value,
                run_id=result.run.id,
                message="interrupted by the user" if interrupted else result.run.status.value,
            )
        self.tracker.store.log_schedule(
            spec.name,
            fire_at.timestamp(),
            event["outcome"],
            event.get("run_id"),
            event.get("message"),
        )
        if event["outcome"] == Outcome.INTERRUPTED.value:  # Ctrl-C stops the scheduler too
            raise KeyboardInterrupt
        return event

    def status(self, limit: int = 20) -> SchedulerStatus:
        """The next firing of each scheduled pipeline and the ``limit`` latest log entries."""
        upcoming = dict(sorted(self.next_fire().items()))
        return SchedulerStatus(upcoming, self.tracker.store.schedule_log(limit=limit))

    def next_fire(self) -> dict[str, dt.datetime]:
        now = self.clock()
        return {n: s.cron.next_after(now) for n, s in self._specs().items() if s.cron}

    def serve(self, stop: threading.Event | None = None, poll: float = 30.0) -> None:
        """Tick until ``stop`` is set (or Ctrl-C), sleeping until the next firing time."""
        stop = stop or threading.Event()
        while not stop.is_set():
            for event in self.tick():
                log.info("%s", event)
            upcoming = self.next_fire().values()
            wait = min([poll, *((t - self.clock()).total_seconds() for t in upcoming)])
            stop.wait(max(1.0, wait))
