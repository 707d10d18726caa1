"""The embedded scheduler: run promoted pipelines when their cron schedule fires.

- :func:`due` is pure: given the schedules, when each last fired and the time now, it says what
  to run. Firing times that passed while no scheduler ran are *missed*, and each pipeline's
  ``catchup`` policy says what happens to them: ``latest`` (default) runs the latest, ``all``
  runs the latest ``max_catchup`` of them in order, ``none`` runs none. Firings not run are
  recorded as one gap per stretch (count, first, last), not one row each. Finding the latest
  firing steps back from now, so a tick costs the same after three minutes or three days down.
  Firings that came due while this scheduler was up but busy with another run are not
  "missed while down": the latest of them runs whatever the policy.
- The last firing time of each pipeline lives in the store, so a restarted scheduler neither
  repeats nor forgets a run. A pipeline first seen starts from "now" (no backfill).
- No firing starts twice, even with several schedulers on one store: each pipeline is fired
  under a lease row in the store (``schedule:NAME``), taken atomically, renewed by a heartbeat
  thread while the run goes on and taken over once it expired (``lease_ttl`` seconds after its
  holder's last heartbeat, e.g. after a ``kill -9``). The firing state is read and advanced only
  under the lease, so the next holder sees the firing as done. A manual ``jupyter-mlops run``
  still meets the runner's per-pipeline lock file, which makes an overlapping firing
  ``skipped``. Each fired run is logged with its :class:`~jupyter_mlops.entities.PipelineOutcome`.
- Schedules are read in UTC, or in the spec's ``timezone`` (see :class:`~jupyter_mlops.cron.
  ZonedSchedule` for the daylight-saving rule). Timeouts, retries, notifications and retention
  are the pipeline's own (see the runner).
- A paused pipeline is not fired; the pause is kept in the store (a ``pause:NAME`` row of the
  schedule state), so it survives restarts and holds for every scheduler on the store. Firings
  that pass while paused are not caught up on resume.
- :meth:`Scheduler.serve` sleeps until the next firing (at most ``poll`` seconds, to notice new
  or edited specs), so a due run starts within a second and an idle scheduler costs nothing.
  Between firings it delivers the notification outbox (:mod:`~jupyter_mlops.pipeline.outbox`).
- Monitors with a ``schedule:`` are evaluated at their firings the same way, under keys of
  their own, catch-up ``latest`` (see :mod:`.monitors`).
- The clock is injected (:class:`Scheduler` ``clock``, or ``tick(now=...)``); the CLI's hidden
  ``--now`` and the ``JUPYTER_MLOPS_NOW`` variable pin it to a fixed time, for tests only.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..codec import utc
from ..cron import CronSchedule, ZonedSchedule
from ..entities import PipelineOutcome as Outcome
from ..entities import ScheduleEvent
from ..exceptions import ConflictError, MLOpsError, ValidationError
from ..monitoring.spec import MonitorSpec
from ..pipeline.lock import pipeline_lock as pipeline_lock  # the lock test helpers use
from ..pipeline.outbox import PassReport, Sender
from ..pipeline.spec import PipelineSpec, list_pipelines, load_pipeline
from ..store.liveness import hostname
from ..tracking import Tracker, default_tracker
from .monitors import LEASE_PREFIX as MONITOR_LEASE_PREFIX
from .monitors import PREFIX as MONITOR_PREFIX
from .monitors import MonitorJobs

log = logging.getLogger(__name__)
UTC = dt.timezone.utc


NOW_ENV = "JUPYTER_MLOPS_NOW"
# Firings this long before a scheduler's first tick count as on time, not missed while down.
ON_TIME_GRACE = dt.timedelta(seconds=60)
PAUSE_PREFIX = "pause:"  # pipeline names cannot contain ':', so these keys never collide
LEASE_PREFIX = "schedule:"
# How long a lease outlives its holder's last heartbeat: a scheduler killed mid-run blocks its
# pipeline this long at most. Heartbeats come every third of it.
LEASE_TTL = 30.0


@dataclass(frozen=True)
class Missed:
    """Firing times that passed unrun, as one gap: ``count`` of them from ``first`` to ``last``."""

    count: int
    first: dt.datetime
    last: dt.datetime
    action: str = "running the latest"  # what happened instead, for the log message

    def describe(self) -> str:
        if self.count == 1:
            return f"1 firing missed at {self.first.isoformat()}; {self.action}"
        return (
            f"{self.count:,} firings missed between {self.first.isoformat()} and "
            f"{self.last.isoformat()}; {self.action}"
        )


@dataclass(frozen=True)
class Due:
    pipeline: str
    fire_at: dt.datetime | None  # the firing this run stands for; None: only a gap to record
    missed: Missed | None = None  # firing times just before it that passed unrun


@dataclass(frozen=True)
class Catchup:
    policy: str = "latest"  # none | latest | all
    limit: int = 10  # with 'all': at most this many missed firings run


def due(
    schedules: Mapping[str, CronSchedule | ZonedSchedule],
    last: Mapping[str, dt.datetime],
    now: dt.datetime,
    catchup: Mapping[str, Catchup] | None = None,
    up_since: dt.datetime | None = None,
) -> list[Due]:
    """What to run at ``now``: per pipeline, the firings in (last, now] its policy runs.

    Firings at or before ``up_since`` passed while no scheduler ran and follow the pipeline's
    :class:`Catchup` policy; the latest firing after it always runs. Without ``up_since`` every
    firing counts as missed while down.
    """
    out = []
    for name in sorted(schedules):
        since = last.get(name)
        if since is None:
            continue
        sched = schedules[name]
        cron = sched if isinstance(sched, ZonedSchedule) else ZonedSchedule(sched)
        latest = cron.latest_at_or_before(now)
        if latest <= since:
            continue
        out += _due_one(name, cron, since, latest, (catchup or {}).get(name, Catchup()), up_since)
    return out


def _due_one(
    name: str,
    cron: ZonedSchedule,
    since: dt.datetime,
    latest: dt.datetime,
    policy: Catchup,
    up_since: dt.datetime | None,
) -> list[Due]:
    current = up_since is not None and latest > up_since
    runs: list[dt.datetime] = []
    action = ""
    if policy.policy == "all":
        cut = min(latest, up_since) if up_since is not None else latest
        runs = [t for t in cron.latest(cut, policy.limit) if t > since] if cut > since else []
        action = f"running the latest {policy.limit} (catchup: all, max_catchup {policy.limit})"
    if current or policy.policy in ("latest", "all"):
        runs = sorted({*runs, latest})
    out, prev = [], since
    for i, fire_at in enumerate(runs):
        gap = _gap(cron, prev, fire_at, include_end=False)
        if gap and policy.policy == "all" and i == 0 and len(runs) > 1:
            gap = Missed(gap.count, gap.first, gap.last, action)
        out.append(Due(name, fire_at, gap))
        prev = fire_at
    if prev < latest:  # catchup none: nothing ran, the whole stretch is one gap
        gap = _gap(cron, prev, latest, include_end=True)
        if gap:
            note = "not run (catchup: none)"
            out.append(Due(name, None, Missed(gap.count, gap.first, gap.last, note)))
    return out


def _gap(
    cron: ZonedSchedule, after: dt.datetime, until: dt.datetime, include_end: bool
) -> Missed | None:
    """The firings in (after, until) — or (after, until] — as one gap, or None if there are none."""
    count = cron.count_between(after, until) - (0 if include_end else 1)
    if count <= 0:
        return None
    last = until if include_end else cron.previous_before(until)
    return Missed(count, cron.next_after(after), last)


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
    log: list[ScheduleEvent]  # newest first


@dataclass(frozen=True)
class ScheduleInfo:
    """One line of ``jupyter-mlops schedule list``: a scheduled pipeline and how it is doing."""

    pipeline: str
    cron: str
    timezone: str
    paused: bool
    catchup: str
    next: list[dt.datetime]  # UTC instants
    last_status: str | None  # the outcome of its latest firing (passed, gate_failed, ...)
    last_run: str | None
    last_at: dt.datetime | None
    gates: str | None  # passed | failed | None: the gate outcome of the latest run
    kind: str = "pipeline"  # pipeline | monitor (then `pipeline` is the monitor's name)


class Scheduler:
    def __init__(
        self,
        pipelines_dir: str | Path = "pipelines",
        tracker: Tracker | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        sleep: Callable[[float], None] | None = None,
        lease_ttl: float = LEASE_TTL,
        holder: str | None = None,
        lease_clock: Callable[[], float] = time.time,
        monitors_dir: str | Path | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        # tracker None is for scripts (the default tracker); front-ends pass the one they use.
        # on_event hears of each firing (and missed gap) as it ends, for a front-end to show.
        # sleep is the wait between retry attempts (tests pass a no-op).
        # Leases expire in real elapsed time between processes, so they use their own clock,
        # not the (possibly pinned) schedule clock.
        self.pipelines_dir = Path(pipelines_dir)
        # The project's monitors/ sits beside its pipelines/.
        self.monitors_dir = (
            Path(monitors_dir)
            if monitors_dir is not None
            else self.pipelines_dir.parent / "monitors"
        )
        self.tracker = tracker or default_tracker()
        self.clock = clock or scheduler_clock()
        self.sleep = sleep
        if lease_ttl <= 0:
            raise ValidationError(f"Invalid lease TTL {lease_ttl}: give a number of seconds > 0")
        self.lease_ttl = lease_ttl
        self.holder = holder or f"{hostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_clock = lease_clock
        self.lock_dir = self.tracker.store.workdir / "locks"
        self.up_since: dt.datetime | None = None  # set by the first tick
        self.monitors = MonitorJobs(self.monitors_dir, self.pipelines_dir, self.tracker.store)
        self.on_event = on_event
        # Notifications are due in real elapsed time too (backoff), so on the lease clock.
        self.outbox = Sender(self.tracker.store, clock=lease_clock)

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

    # -- pause ----------------------------------------------------------------------------------

    def paused(self) -> set[str]:
        state = self.tracker.store.schedule_state()
        n = len(PAUSE_PREFIX)
        return {k[n:] for k, v in state.items() if k.startswith(PAUSE_PREFIX) and v}

    def pause(self, name: str, kind: str | None = None) -> str:
        """Stop firing ``name`` until :meth:`resume`; kept in the store, across restarts.
        Returns its kind: pipeline or monitor (see :meth:`_kind`)."""
        if self.monitors.kind(name, kind) == "monitor":
            self.monitors.with_schedule(name)
            key = PAUSE_PREFIX + MONITOR_PREFIX + name
            self.tracker.store.set_schedule_state(key, self.clock().timestamp())
            return "monitor"
        spec = load_pipeline(name, self.pipelines_dir)  # an unknown name gets a did-you-mean
        if not spec.schedule:
            raise ValidationError(
                f"Pipeline '{name}' has no schedule, so there is nothing to pause; give it one "
                "with jupyter-mlops promote NOTEBOOK --schedule CRON"
            )
        self.tracker.store.set_schedule_state(PAUSE_PREFIX + name, self.clock().timestamp())
        return "pipeline"

    def resume(self, name: str, kind: str | None = None) -> str:
        """Fire ``name`` again from now on: firings that passed while paused are not run."""
        kind = self.monitors.kind(name, kind)
        if kind == "monitor":
            self.monitors.load(name)
            key = MONITOR_PREFIX + name
        else:
            load_pipeline(name, self.pipelines_dir)
            key = name
        store = self.tracker.store
        store.set_schedule_state(PAUSE_PREFIX + key, 0.0)
        store.set_schedule_state(key, self.clock().timestamp())
        return kind

    # -- firing ---------------------------------------------------------------------------------

    def tick(self, now: dt.datetime | None = None) -> list[dict[str, Any]]:
        """One pass: start the due pipelines (one after the other), then evaluate the due
        monitors; returns what happened. ``now`` defaults to the scheduler's clock.

        Each pipeline or monitor is looked at under its lease; one another scheduler holds is
        left to it.
        """
        now = now or self.clock()
        if self.up_since is None:
            self.up_since = now - ON_TIME_GRACE
        specs = self._specs()
        paused = self.paused()
        events = []
        for name, spec in specs.items():
            with self._leased(LEASE_PREFIX + name) as held:
                if held:
                    policy = Catchup(spec.catchup, spec.max_catchup)
                    fire = lambda at, spec=spec: self._fire(spec, at)  # noqa: E731
                    events += self._tick_one(name, spec.cron, policy, now, name in paused, fire)
        monitors, broken = self.monitors.scheduled()
        for name, error in broken.items():
            events += self.monitors.log_broken(name, error, now)
        for name, mspec in monitors.items():
            key = MONITOR_PREFIX + name
            with self._leased(MONITOR_LEASE_PREFIX + name) as held:
                if held:
                    evaluate = lambda at, m=mspec: self.monitors.evaluate(m, at)  # noqa: E731
                    # Only the latest missed firing: evaluating older ones adds nothing.
                    latest = Catchup("latest")
                    events += self._tick_one(key, mspec.cron, latest, now, key in paused, evaluate)
        return events

    def _tick_one(
        self,
        key: str,
        cron: ZonedSchedule | None,
        policy: Catchup,
        now: dt.datetime,
        paused: bool,
        fire: Callable[[dt.datetime], dict[str, Any]],
    ) -> list[dict[str, Any]]:
        store = self.tracker.store
        # Read under the lease: a firing the previous holder started is already recorded here.
        state = store.schedule_state()
        if key not in state:  # first seen: start counting from now
            store.set_schedule_state(key, now.timestamp())
            state[key] = now.timestamp()
        if paused or not cron:
            return []
        last = {key: utc(state[key])}
        events = []
        for d in due({key: cron}, last, now, {key: policy}, self.up_since):
            # Recorded before running: a crash mid-run must not make a restart run it again.
            mark = d.fire_at or (d.missed.last if d.missed else now)
            store.set_schedule_state(d.pipeline, mark.timestamp())
            if d.missed:  # one row per gap, however many firings it holds
                events.append(self._log_gap(d.pipeline, d.missed))
                self._report(events[-1])
            if d.fire_at is not None:
                started = time.monotonic()
                events.append(fire(d.fire_at))
                events[-1].update(duration=time.monotonic() - started, ended=self.clock())
                self._report(events[-1])
        return events

    def _report(self, event: dict[str, Any]) -> None:
        log.info("%s", event)
        if self.on_event is not None:
            self.on_event(event)

    @contextmanager
    def _leased(self, key: str) -> Iterator[bool]:
        """Hold lease ``key`` (renewed by a heartbeat thread) for the block; yields False,
        holding nothing, when another scheduler has it.

        The lease is released however the block ends, including when Ctrl-C or SIGTERM lands
        between the acquiring commit and the ``yield``: releasing a lease this holder does not
        hold changes nothing, so the release needs no knowledge of how far the acquire got."""
        store = self.tracker.store
        done = threading.Event()
        beater: threading.Thread | None = None

        def beat() -> None:
            try:
                while not done.wait(self.lease_ttl / 3):
                    try:
                        if not store.renew_lease(
                            key, self.holder, self.lease_ttl, self.lease_clock()
                        ):
                            if not done.is_set():
                                log.error("lost the lease of %s (expired and taken over)", key)
                            return
                    except MLOpsError as e:  # a busy store now and then must not end the beat
                        log.warning("could not renew the lease of %s: %s", key, e)
            finally:
                store.release_thread()

        try:
            if not store.acquire_lease(key, self.holder, self.lease_ttl, self.lease_clock()):
                yield False
                return
            beater = threading.Thread(target=beat, name=f"lease-{key}", daemon=True)
            beater.start()
            yield True
        finally:
            done.set()
            store.release_lease(key, self.holder)  # first: an interrupt in join() must not skip it
            if beater is not None:
                beater.join()

    def _log_gap(self, pipeline: str, missed: Missed) -> dict[str, Any]:
        if pipeline.startswith(MONITOR_PREFIX):
            missed = replace(missed, action="evaluating the latest")
        message = missed.describe()
        first = missed.first.timestamp()
        self.tracker.store.log_schedule(pipeline, first, Outcome.MISSED.value, None, message)
        return {
            "pipeline": pipeline,
            "outcome": Outcome.MISSED.value,
            "at": missed.first,
            "until": missed.last,
            "count": missed.count,
            "message": message,
        }

    def _runner(self) -> Any:
        from ..pipeline.runner import PipelineRunner

        # A model pin's expiry is judged by the schedule's clock, as the firing is.
        clock = lambda: self.clock().timestamp()  # noqa: E731
        if self.sleep is None:
            return PipelineRunner(self.tracker, progress=False, clock=clock)
        return PipelineRunner(self.tracker, progress=False, sleep=self.sleep, clock=clock)

    def _fire(self, spec: PipelineSpec, fire_at: dt.datetime) -> dict[str, Any]:
        event: dict[str, Any] = {"pipeline": spec.name, "at": fire_at}
        try:
            result = self._runner().run(spec, tags={"scheduled_for": fire_at.isoformat()})
        except ConflictError:  # the runner holds the pipeline's lock for a whole run
            event.update(
                outcome=Outcome.SKIPPED.value, message="still running from an earlier firing"
            )
        except MLOpsError as e:  # e.g. the notebook changed since promote
            event.update(outcome=Outcome.ERROR.value, message=str(e))
        else:
            interrupted = result.outcome is Outcome.INTERRUPTED
            attempts = f" after {result.attempts} attempts" if result.attempts > 1 else ""
            event.update(
                outcome=result.outcome.value,
                run_id=result.run.id,
                attempts=result.attempts,
                message="interrupted by the user"
                if interrupted
                else result.run.status.value + attempts + _held(result),
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

    # -- reading --------------------------------------------------------------------------------

    def status(self, limit: int = 20) -> SchedulerStatus:
        """The next firing of each scheduled pipeline and the ``limit`` latest log entries."""
        upcoming = dict(sorted(self.next_fire().items()))
        return SchedulerStatus(upcoming, self.tracker.store.schedule_log(limit=limit))

    def next_fire(self) -> dict[str, dt.datetime]:
        """The next firing of each scheduled pipeline and monitor (``monitor:NAME``) that is not
        paused."""
        now = self.clock()
        paused = self.paused()
        crons = {n: s.cron for n, s in self._specs().items()}
        crons |= {MONITOR_PREFIX + n: s.cron for n, s in self.monitors.scheduled()[0].items()}
        return {n: c.next_after(now) for n, c in crons.items() if c and n not in paused}

    def next_firings(self, name: str, count: int = 5, kind: str | None = None) -> list[dt.datetime]:
        if self.monitors.kind(name, kind) == "monitor":
            cron = self.monitors.with_schedule(name).cron
            assert cron is not None
            return cron.upcoming(self.clock(), count)
        spec = load_pipeline(name, self.pipelines_dir)
        if spec.cron is None:
            raise ValidationError(
                f"Pipeline '{name}' has no schedule; give it one with jupyter-mlops promote "
                "NOTEBOOK --schedule CRON"
            )
        return spec.cron.upcoming(self.clock(), count)

    def schedules_zone(self, name: str, kind: str | None = None) -> str:
        if self.monitors.kind(name, kind) == "monitor":
            return self.monitors.load(name).timezone or "UTC"
        return load_pipeline(name, self.pipelines_dir).timezone or "UTC"

    def schedules(self, count: int = 3) -> list[ScheduleInfo]:
        """Every scheduled pipeline and monitor: time zone, next firings, pause, last status and
        gates (of a monitor: of the run its latest retrain started)."""
        store = self.tracker.store
        paused = self.paused()
        out = []
        entries: list[tuple[str, str, str, PipelineSpec | MonitorSpec]] = [
            (name, name, "pipeline", spec) for name, spec in self._specs().items()
        ]
        entries += [
            (name, MONITOR_PREFIX + name, "monitor", spec)
            for name, spec in self.monitors.scheduled()[0].items()
        ]
        for name, key, kind, spec in sorted(entries, key=lambda e: (e[0], e[2] != "pipeline")):
            assert spec.cron is not None
            fired = [
                e for e in store.schedule_log(key, limit=20) if e.outcome != Outcome.MISSED.value
            ]
            last = fired[0] if fired else None
            gates = None
            if last and last.run_id:
                try:
                    gates = self.tracker.get_run(last.run_id).tags.get("gates")
                except MLOpsError:
                    gates = None
            out.append(
                ScheduleInfo(
                    pipeline=name,
                    cron=spec.cron.expr,
                    timezone=spec.timezone or "UTC",
                    paused=key in paused,
                    catchup=spec.catchup if isinstance(spec, PipelineSpec) else "latest",
                    next=[] if key in paused else spec.cron.upcoming(self.clock(), count),
                    last_status=last.outcome if last else None,
                    last_run=last.run_id if last else None,
                    last_at=last.scheduled_for if last else None,
                    gates=gates,
                    kind=kind,
                )
            )
        return out

    def serve(self, stop: threading.Event | None = None, poll: float = 30.0) -> None:
        """Tick until ``stop`` is set (or Ctrl-C), sleeping until the next firing time.

        The sleep ends just after the next firing (or after ``poll`` seconds, to pick up new or
        edited specs and pauses), so a due run starts within a second of its time and an idle
        scheduler wakes only every ``poll`` seconds.
        """
        from ..pipeline import runner as _runner  # noqa: F401 - imported now, not at the firing

        stop = stop or threading.Event()
        while not stop.is_set():
            self.tick()  # each firing is logged (and reported to on_event) as it ends
            sent = self._deliver_notifications()
            upcoming = self.next_fire().values()
            now = self.clock()
            wait = min([poll, *((t - now).total_seconds() for t in upcoming)])
            wait = min(wait, self.outbox.next_wait(sent, poll))
            stop.wait(max(0.0, wait) + 0.005)  # just past the firing, so it is due

    def _deliver_notifications(self) -> PassReport:
        """One pass over the notification outbox (these firings' and any other due ones)."""
        try:
            return self.outbox.deliver_due()
        except MLOpsError as e:  # a briefly unreachable store must not stop the scheduler
            log.warning("notification outbox: %s", e)
            return PassReport()


def _held(result: Any) -> str:
    """``; model churn@4 pinned by rollback at v2; not blessed`` when a pin held the bless."""
    return f"; model {result.model.ref} {result.held}" if result.held and result.model else ""
