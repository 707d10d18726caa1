"""Which firings are due: the pure part of the scheduler.

Given the schedules, when each last fired and the time now, :func:`due` says what to run.
Firing times that passed while no scheduler ran are *missed*, and each pipeline's ``catchup``
policy says what happens to them: ``latest`` (default) runs the latest, ``all`` runs the latest
``max_catchup`` of them in order, ``none`` runs none. Firings not run are recorded as one gap
per stretch (count, first, last), not one row each. Finding the latest firing steps back from
now, so a tick costs the same after three minutes or three days down. Firings that came due
while this scheduler was up but busy with another run are not "missed while down": the latest
of them runs whatever the policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from ..cron import CronSchedule, ZonedSchedule


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
