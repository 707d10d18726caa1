"""Canary rollouts: a candidate version takes a growing share of the traffic, step by step,
while a sequential test on delayed labels (:mod:`.sequential`) decides at each look whether
it advances, holds or rolls back, and guardrails on its errors and latency roll it back at
once. At 100 % it is blessed, with the evidence as the reason.

- :func:`start_canary` records the plan (``canary-start``);
- :func:`step` looks once, if a look is due (one ``interval`` after the last change), and
  applies the decision as one compare-and-set on the rollout's revision (so two schedulers
  never double-step, and a restart resumes at the stored step); the scheduler calls it for
  each running canary under a lease (``schedule/rollouts.py``);
- :func:`abort_canary` ends it, all traffic back on the blessed arm;
- :func:`arms_for` is the routing every front-end shares (``mlops.predict``, the HTTP server).

Each look, step and decision is a model event (``canary-*``), shown by ``models show``,
REST and the panel, and steps, rollbacks, promotions and aborts are queued as notifications
for the project's notify target.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import ModelNotFoundError, ModelPinnedError, ValidationError
from ..store.base import RunStore
from ..store.sql_rollouts import RUNNING, Rollout, RolloutChange, rollout_tables
from .canary_evidence import Evidence, gather
from .canary_spec import CanaryPlan
from .routing import split
from .sequential import ADVANCE, HOLD, ROLLBACK

log = logging.getLogger(__name__)
ABORT = "abort"
PROMOTE = "promote"
_ACTIONS = {HOLD: "canary-hold", ADVANCE: "canary-step", ROLLBACK: "canary-rollback"}
_STATES = {ROLLBACK: "rolled_back", ABORT: "aborted", PROMOTE: "promoted"}


@dataclass(frozen=True)
class StepResult:
    """What one :func:`step` did: the decision (advance | hold | rollback | promote | abort),
    why, the rollout after it and the evidence."""

    decision: str
    reason: str
    rollout: Rollout
    evidence: Evidence | None = None

    def to_dict(self) -> dict[str, Any]:
        ev = None if self.evidence is None else self.evidence.to_dict()
        return {"decision": self.decision, "reason": self.reason,
                "rollout": self.rollout.to_dict(), "evidence": ev}  # fmt: skip


def _blessed(st: RunStore, name: str) -> int:
    try:
        return st.get_model(name).version
    except ModelNotFoundError:
        st.get_model(name, 1)  # an unknown model: its own error
        raise ValidationError(
            f"{name} has no blessed version to canary against; bless one with "
            f"`jupyter-mlops models bless {name}@VERSION`"
        ) from None


def start_canary(
    st: RunStore,
    name: str,
    version: int,
    plan: CanaryPlan,
    now: float,
    *,
    actor: str | None = None,
) -> Rollout:
    """Start canarying ``name@version`` against the blessed version at the plan's first
    step. Refused (one line) without a blessed version, for the blessed version itself, or
    for a model whose labels were never logged (the test decides on labels)."""
    st.get_model(name, version)
    baseline = _blessed(st, name)
    if baseline == version:
        raise ValidationError(f"{name}@{version} is the blessed version; canary another one")
    if not st.labelled_predictions(name, labelled_until=now)[:1]:
        raise ValidationError(
            f"{name} has no labels: the canary decides on them; call mlops.log_labels({name!r},"
            " ids, y) for the rows mlops.predict scored, then start it"
        )
    share = plan.steps[0] / 100
    rollout = Rollout(name, version, baseline, RUNNING, plan.to_dict(), 0, share, now, now, 0)
    reason = f"{plan.steps[0]:g}% of traffic; plan {_describe(plan)}"
    return rollout_tables(st).start_rollout(rollout, actor, reason)


def _describe(plan: CanaryPlan) -> str:
    d = plan.design
    steps = ",".join(f"{s:g}" for s in plan.steps)
    guards = "".join(f" {g.describe()}" for g in plan.guards)
    return (f"steps {steps}, {d.metric} effect {d.effect:g}, alpha {d.alpha:g}, beta {d.beta:g},"
            f" min {d.min_labels} labels{guards}")  # fmt: skip


def _change(r: Rollout, plan: CanaryPlan, decision: str, why: str, ev: Evidence) -> RolloutChange:
    look = (decision, ev.to_dict())
    if decision == HOLD:
        return RolloutChange(RUNNING, r.step, r.share, look, [(r.candidate, _ACTIONS[HOLD], why)])
    if decision == ROLLBACK:
        events = [(r.candidate, _ACTIONS[ROLLBACK], f"rolled back at {r.share:.0%}: {why}")]
        return RolloutChange(_STATES[ROLLBACK], r.step, 0.0, look, events)
    if r.step + 1 < len(plan.steps):
        nxt = plan.steps[r.step + 1]
        reason = f"{r.share * 100:g}% -> {nxt:g}%: {why}"
        return RolloutChange(
            RUNNING, r.step + 1, nxt / 100, look, [(r.candidate, _ACTIONS[ADVANCE], reason)]
        )
    reason = f"canary promoted at 100%: {why}"
    events = [(r.candidate, "canary-promote", reason)]
    return RolloutChange(_STATES[PROMOTE], r.step, 1.0, look, events, bless_reason=reason)


def step(st: RunStore, name: str, now: float, *, root: Path | None = None) -> StepResult | None:
    """Look at ``name``'s running canary once, if a look is due at ``now``, and apply the
    decision; None when there is nothing to do (no canary, not due, or another scheduler
    changed it first). ``root``: the project whose notify target hears of the changes."""
    tables = rollout_tables(st)
    r = tables.active_rollout(name)
    if r is None:
        return None
    plan = CanaryPlan.from_dict(r.spec)
    if now < r.updated + plan.interval:
        return None
    blessed = _blessed(st, name)
    if blessed != r.baseline:
        why = f"v{blessed} was blessed during the canary (it ran against v{r.baseline})"
        return abort_canary(st, name, now, why, root=root, expected=r)
    ev = gather(st, r, plan, now)
    decision, why = ev.look.decision, ev.look.reason
    if ev.breaches:
        decision, why = ROLLBACK, "guardrail: " + "; ".join(ev.breaches)
    change = _change(r, plan, decision, why, ev)
    try:
        after = tables.update_rollout(r, change, r.revision, now)
    except ModelPinnedError as e:
        why = f"ready to promote but {e}"
        after = tables.update_rollout(r, _change(r, plan, HOLD, why, ev), r.revision, now)
        decision = HOLD
    if after is None:
        log.info("canary %s: changed by another scheduler; this look is dropped", name)
        return None
    if after.state == _STATES[PROMOTE]:
        decision = PROMOTE
    result = StepResult(decision, why, after, ev)
    if decision != HOLD:
        _notify(st, result, root)
    return result


def abort_canary(
    st: RunStore,
    name: str,
    now: float,
    reason: str | None = None,
    *,
    actor: str | None = None,
    root: Path | None = None,
    expected: Rollout | None = None,
) -> StepResult:
    """End ``name``'s running canary: all traffic back on the blessed arm."""
    tables = rollout_tables(st)
    why = reason or "aborted by hand"
    for _ in range(5):  # a scheduler's look may change the revision meanwhile: read again
        r = expected or tables.active_rollout(name)
        expected = None
        if r is None:
            break
        events = [(r.candidate, "canary-abort", f"aborted at {r.share:.0%}: {why}")]
        change = RolloutChange(_STATES[ABORT], r.step, 0.0, (ABORT, {"reason": why}), events,
                               actor=actor)  # fmt: skip
        after = tables.update_rollout(r, change, r.revision, now)
        if after is not None:
            result = StepResult(ABORT, why, after)
            _notify(st, result, root)
            return result
    raise ValidationError(f"{name} has no canary running; start one with "
                          f"`jupyter-mlops models canary {name}@VERSION`")  # fmt: skip


def arms_for(st: RunStore, name: str, keys: Sequence[Any], now: float) -> list[tuple[int, Any]]:
    """Which version scores which rows: ``[(version, bool mask over keys), ...]``, one entry
    per arm with at least one row (the blessed version alone without a running canary).
    ``now`` is the request's time (kept for arms that depend on it)."""
    import numpy as np

    r = rollout_tables(st).active_rollout(name)
    if r is None:
        return [(st.get_model(name).version, np.ones(len(keys), dtype=bool))]
    mask = split(keys, r.share)
    arms = [(r.baseline, ~mask), (r.candidate, mask)]
    return [(v, m) for v, m in arms if m.any()]


def _notify(st: RunStore, result: StepResult, root: Path | None) -> None:
    """Queue the change for the project's notify target (none configured: nothing)."""
    if root is None:
        return
    from ..pipeline.notify import project_notify, queue_notification

    target = project_notify(root)
    if target is None:
        return
    r = result.rollout
    event = f"canary_{result.decision}"
    data = {"event": event, "model": f"{r.name}@{r.candidate}", "status": r.state,
            "share": r.share, "error": result.reason, "pipeline": None}  # fmt: skip
    queue_notification(st, target, event, data, r.updated)


__all__ = ["ABORT", "PROMOTE", "StepResult", "abort_canary", "arms_for", "start_canary", "step"]
