"""The evidence of a canary's arms, read from what ``mlops.predict`` (or the HTTP server)
recorded since the canary started: per arm, the rows scored, the errors, the latency p50/p99,
the labelled rows and the metric on them, and the candidate's prediction distribution against
the blessed arm's. The sequential look (``sequential.decide``) runs on the per-row scores of
the labelled rows; the guardrails on the candidate's errors and latency.

Errors are counted from monitor events of kind ``error`` whose detail names the ``version``
and the ``rows`` it failed (what a server records for a failed request); ``mlops.predict``
raises to its caller instead, so in-process its error rate is 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..store.base import RunStore
from ..store.sql_rollouts import Rollout, rollout_tables
from .canary_spec import CanaryPlan, Guard
from .sequential import ArmStats, Look, decide, row_scores

MAX_DISTANCE_ROWS = 50_000  # predictions read per arm for the distribution distance


@dataclass(frozen=True)
class ArmEvidence:
    """One arm since the canary started."""

    version: int
    arm: str  # candidate | blessed
    share: float
    rows: int
    errors: int
    error_rate: float | None
    p50: float | None  # seconds, of the batches' (requests') model latency
    p99: float | None
    labels: int
    metric: float | None  # the plan's metric on the labelled rows
    distance: float | None = None  # prediction distribution vs the blessed arm (candidate)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class Evidence:
    """Both arms, the sequential look, and the guardrails breached."""

    candidate: ArmEvidence
    blessed: ArmEvidence
    look: Look
    breaches: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate.to_dict(),
            "blessed": self.blessed.to_dict(),
            "look": self.look.to_dict(),
            "breaches": list(self.breaches),
        }


def _scores(st: RunStore, r: Rollout, version: int, metric: str, now: float) -> Any:
    found = st.labelled_predictions(r.name, since=r.started, version=version, labelled_until=now)
    preds = [json.loads(row[3]) for row in found if row[2] <= now]
    labels = [json.loads(row[4]) for row in found if row[2] <= now]
    return row_scores(metric, preds, labels)


def _errors(st: RunStore, r: Rollout, now: float) -> dict[int, int]:
    out: dict[int, int] = {}
    for e in st.monitor_events(r.name, since=r.started, until=now):
        if e.kind == "error" and isinstance(e.detail.get("version"), int):
            version = e.detail["version"]
            out[version] = out.get(version, 0) + int(e.detail.get("rows", 1))
    return out


def _arm(
    st: RunStore, r: Rollout, version: int, arm: str, errors: int, scores: Any, now: float
) -> ArmEvidence:
    import numpy as np

    batches = st.monitor_batches(r.name, since=r.started, until=now, version=version)
    rows = sum(b.n_rows for b in batches)
    lat = np.array([b.latency for b in batches if b.latency is not None], dtype=float)
    p50, p99 = (float(np.quantile(lat, q)) for q in (0.5, 0.99)) if lat.size else (None, None)
    total = rows + errors
    share = r.share if arm == "candidate" else 1.0 - r.share
    return ArmEvidence(
        version,
        arm,
        share,
        rows,
        errors,
        errors / total if total else None,
        p50,
        p99,
        int(scores.size),
        float(scores.mean()) if scores.size else None,
    )


def distance(ours: list[Any], theirs: list[Any]) -> float | None:
    """How far apart two prediction samples are: the Kolmogorov-Smirnov statistic for
    continuous values (scipy), else the total variation distance of the classes."""
    if not ours or not theirs:
        return None
    if all(isinstance(v, float) and not v.is_integer() for v in ours[:100] + theirs[:100]):
        from scipy.stats import ks_2samp

        return float(ks_2samp(ours, theirs).statistic)
    a, b = _freq(ours), _freq(theirs)
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in a.keys() | b.keys())


def _freq(values: list[Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for v in values:
        key = json.dumps(v)
        out[key] = out.get(key, 0.0) + 1.0 / len(values)
    return out


def breached(guards: tuple[Guard, ...], arm: ArmEvidence) -> tuple[str, ...]:
    """The guardrails the candidate's arm breaks (a guard with nothing measured holds)."""
    found = []
    for g in guards:
        value = {"error_rate": arm.error_rate, "p50": arm.p50, "p99": arm.p99}[g.kind]
        if value is not None and value >= g.limit:
            shown = f"{value * 100:.3g}%" if g.kind == "error_rate" else f"{value * 1000:.3g}ms"
            found.append(f"{g.kind} {shown} breaks {g.describe()}")
    return tuple(found)


def gather(st: RunStore, r: Rollout, plan: CanaryPlan, now: float) -> Evidence:
    """Both arms' evidence as of ``now`` and the sequential look on it."""
    metric = plan.design.metric
    errors = _errors(st, r, now)
    scores = {v: _scores(st, r, v, metric, now) for v in (r.candidate, r.baseline)}
    cand = _arm(
        st, r, r.candidate, "candidate", errors.get(r.candidate, 0), scores[r.candidate], now
    )
    base = _arm(st, r, r.baseline, "blessed", errors.get(r.baseline, 0), scores[r.baseline], now)
    tables = rollout_tables(st)
    preds = {
        v: [json.loads(p) for p in tables.arm_predictions(r.name, v, r.started, MAX_DISTANCE_ROWS)]
        for v in (r.candidate, r.baseline)
    }
    cand = _with_distance(cand, distance(preds[r.candidate], preds[r.baseline]))
    look = decide(plan.design, ArmStats.of(scores[r.candidate]), ArmStats.of(scores[r.baseline]))
    return Evidence(cand, base, look, breached(plan.guards, cand))


def _with_distance(arm: ArmEvidence, value: float | None) -> ArmEvidence:
    from dataclasses import replace

    return replace(arm, distance=value)


__all__ = ["ArmEvidence", "Evidence", "breached", "distance", "gather"]
