"""The embedded scheduler: run promoted pipelines when their cron schedule fires.

- :func:`due` is pure: given the schedules, when each last fired and the time now, it says what
  to run. Firing times that passed while the scheduler was down are *missed*: only the latest
  runs, and the earlier ones are recorded as one gap (count, first, last), not one row each (no
  burst of catch-up runs, no flood of log rows). Finding the latest firing steps back from now,
  so a tick costs the same after three minutes or three days of downtime.
- The last firing time of each pipeline lives in the store, so a restarted scheduler neither
  repeats nor forgets a run. A pipeline first seen starts from "now" (no backfill).
- A pipeline never runs twice at once: each run holds an exclusive lock file under the store,
  so a second scheduler (or a slow previous run) makes the firing ``skipped``, not doubled.
- Schedules are read in UTC. Timeouts and retries are the pipeline's own (see the runner).
- The clock is injected (:class:`Scheduler` ``clock``); the CLI's hidden ``--now`` and the
  ``JUPYTER_MLOPS_NOW`` variable pin it to a fixed time, for tests only.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import MLOpsError, ValidationError
from ..tracking import Tracker, default_tracker
from .cron import CronSchedule
from .spec import PipelineSpec, list_pipelines, load_pipeline

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


@contextmanager
def pipeline_lock(lock_dir: Path, name: str) -> Iterator[bool]:
    """Hold ``<lock_dir>/<name>.lock`` exclusively; yields False if another process holds it."""
    import fcntl

    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{name}.lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            f.seek(0)
            f.truncate()
            f.write(str(os.getpid()))
            f.flush()
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class Scheduler:
    def __init__(
        self,
        pipelines_dir: str | Path = "pipelines",
        tracker: Tracker | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.pipelines_dir = Path(pipelines_dir)
        self.tracker = tracker or default_tracker()
        self.clock = clock or scheduler_clock()
        self.lock_dir = self.tracker.store.workdir / "locks"

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
                store.log_schedule(d.pipeline, d.missed.first.timestamp(), "missed", None, message)
                events.append(
                    {
                        "pipeline": d.pipeline,
                        "outcome": "missed",
                        "at": d.missed.first,
                        "until": d.missed.last,
                        "count": d.missed.count,
                        "message": message,
                    }
                )
            events.append(self._fire(specs[d.pipeline], d.fire_at))
        return events

    def _fire(self, spec: PipelineSpec, fire_at: dt.datetime) -> dict[str, Any]:
        from .runner import EXIT_INTERRUPTED, PipelineRunner

        store = self.tracker.store
        event: dict[str, Any] = {"pipeline": spec.name, "at": fire_at}
        with pipeline_lock(self.lock_dir, spec.name) as locked:
            if not locked:
                event.update(outcome="skipped", message="still running from an earlier firing")
            else:
                try:
                    result = PipelineRunner(self.tracker, progress=False).run(
                        spec, tags={"scheduled_for": fire_at.isoformat()}
                    )
                    event.update(
                        outcome=f"exit {result.exit_code}",
                        run_id=result.run.id,
                        message=result.run.status.value,
                    )
                    if result.exit_code == EXIT_INTERRUPTED:  # Ctrl-C stops the scheduler too
                        store.log_schedule(
                            spec.name,
                            fire_at.timestamp(),
                            "interrupted",
                            result.run.id,
                            "interrupted by the user",
                        )
                        raise KeyboardInterrupt
                except MLOpsError as e:  # e.g. the notebook changed since promote
                    event.update(outcome="error", message=str(e))
        store.log_schedule(
            spec.name,
            fire_at.timestamp(),
            event["outcome"],
            event.get("run_id"),
            event.get("message"),
        )
        return event

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
