"""A model's deployment: its canary (``GET models/NAME/rollout``, ``jupyter-mlops models
canary-status NAME``). The arms with their versions and shares, each arm's evidence (rows,
errors, latency p50/p99, labels and the metric with its always-valid interval, the candidate's
prediction distance from the blessed arm), the interval for the difference, the plan, and the
trail of looks and decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..codec import utc
from ..monitoring.canary import abort_canary, start_canary
from ..monitoring.canary_evidence import ArmEvidence, gather
from ..monitoring.canary_spec import CanaryPlan
from ..monitoring.sequential import ArmStats, radius
from ..store.base import RunStore
from ..store.sql_rollouts import RUNNING, rollout_tables
from .values import View

TRAIL = 50  # looks shown


@dataclass(frozen=True)
class Arm(View):
    version: int
    arm: str  # candidate | blessed
    share: float  # a fraction of the traffic
    rows: int
    errors: int
    error_rate: float | None
    p50_ms: float | None
    p99_ms: float | None
    labels: int
    metric: float | None
    lower: float | None  # the metric's always-valid interval (level 1 - 2 alpha)
    upper: float | None
    distance: float | None  # prediction distribution vs the blessed arm


@dataclass(frozen=True)
class Decision(View):
    seq: int
    time: dt.datetime
    decision: str  # advance | hold | rollback | abort
    reason: str
    share: float | None  # the candidate's share when it was taken


@dataclass(frozen=True)
class Deployment(View):
    """``state`` is ``none`` when the model never had a canary (the other fields empty)."""

    name: str
    state: str  # none | running | promoted | rolled_back | aborted
    candidate: int | None
    baseline: int | None
    share: float
    step: int | None
    plan: dict[str, Any]
    started: dt.datetime | None
    updated: dt.datetime | None
    next_look: dt.datetime | None
    arms: tuple[Arm, ...]
    difference: dict[str, Any]  # diff, lower, upper of candidate - blessed, and the decision
    trail: tuple[Decision, ...]


def _arm(a: ArmEvidence, scores: ArmStats, plan: CanaryPlan) -> Arm:
    lo = hi = None
    if scores.n and a.metric is not None:
        half = radius(1.0 / scores.mean_var(), 2 * plan.design.alpha, plan.design.rho())
        lo, hi = a.metric - half, a.metric + half
    ms = (None if x is None else x * 1000 for x in (a.p50, a.p99))
    p50, p99 = ms
    return Arm(a.version, a.arm, a.share, a.rows, a.errors, a.error_rate, p50, p99, a.labels,
               a.metric, lo, hi, a.distance)  # fmt: skip


def deployment(st: RunStore, name: str, now: float) -> Deployment:
    """``name``'s current (else latest) canary as of ``now``."""
    st.get_model(name, 1)  # an unknown model: a 404
    tables = rollout_tables(st)
    r = tables.latest_rollout(name)
    if r is None:
        return Deployment(name, "none", None, None, 0.0, None, {}, None, None, None, (), {}, ())
    plan = CanaryPlan.from_dict(r.spec)
    arms: tuple[Arm, ...] = ()
    difference: dict[str, Any] = {}
    if r.state == RUNNING:
        ev = gather(st, r, plan, now)
        look = ev.look
        arms = (_arm(ev.candidate, look.candidate, plan), _arm(ev.blessed, look.baseline, plan))
        difference = look.to_dict() | {"breaches": list(ev.breaches)}
    trail = tuple(_decision(x.seq, x.time, x.decision, x.evidence) for x in
                  tables.rollout_looks(name, r.candidate, TRAIL))  # fmt: skip
    nxt = utc(r.updated + plan.interval) if r.state == RUNNING else None
    return Deployment(name, r.state, r.candidate, r.baseline, r.share, r.step, r.spec,
                      utc(r.started), utc(r.updated), nxt, arms, difference, trail)  # fmt: skip


def _decision(seq: int, time: float, decision: str, evidence: dict[str, Any]) -> Decision:
    look = evidence.get("look") or {}
    reason = look.get("reason") or evidence.get("reason") or ""
    if evidence.get("breaches"):
        reason = "guardrail: " + "; ".join(evidence["breaches"])
    share = (evidence.get("candidate") or {}).get("share")
    return Decision(seq, utc(time), decision, reason, share)


def start_deployment(
    st: RunStore, name: str, version: int, plan: CanaryPlan, now: float, actor: str | None = None
) -> Deployment:
    """Start a canary (``POST models/NAME/rollout``) and show it."""
    start_canary(st, name, version, plan, now, actor=actor)
    return deployment(st, name, now)


def abort_deployment(
    st: RunStore, name: str, now: float, reason: str | None = None, actor: str | None = None
) -> Deployment:
    """Abort the running canary (``POST models/NAME/rollout/abort``) and show it."""
    abort_canary(st, name, now, reason, actor=actor)
    return deployment(st, name, now)


def describe(d: Deployment) -> str:
    """The CLI's text for a deployment."""
    if d.state == "none":
        return f"{d.name} has never had a canary"
    lines = [f"{d.name}: canary v{d.candidate} vs blessed v{d.baseline}, {d.state}, "
             f"candidate share {d.share:.0%}"]  # fmt: skip
    for a in d.arms:
        metric = "-" if a.metric is None else f"{a.metric:.4f} [{a.lower:.4f}, {a.upper:.4f}]"
        p99 = "-" if a.p99_ms is None else f"{a.p99_ms:.2f}ms"
        lines.append(f"  {a.arm:9} v{a.version}  {a.share:>4.0%}  rows {a.rows}  labels "
                     f"{a.labels}  metric {metric}  p99 {p99}")  # fmt: skip
    if d.difference:
        lines.append(f"  look now: {d.difference['decision']}: {d.difference['reason']}")
    lines += [f"  #{x.seq} {x.time:%Y-%m-%d %H:%M} {x.decision}: {x.reason}" for x in d.trail]
    return "\n".join(lines)


__all__ = [
    "Arm",
    "Decision",
    "Deployment",
    "abort_deployment",
    "deployment",
    "describe",
    "start_deployment",
]
