"""The canary's decision: a sequential test on the metric difference candidate - blessed that
stays valid however often it is looked at.

The quantity: each labelled row gives a per-row score on its arm, ``hit`` (prediction ==
label: its mean is accuracy), or a loss (absolute or squared error: mean is MAE or MSE). The
effect ``delta`` is the candidate's mean minus the blessed's, signed so that positive is
better (a loss's difference is negated).

The hypotheses, declared before the first look with a minimum effect ``epsilon`` > 0:

- H0 "not better": ``delta <= 0``. Rejecting it ADVANCES the canary (at the last step:
  promotes it). The chance of ever advancing past the last step when H0 holds is at most
  ``alpha``.
- H1 "better by the effect": ``delta >= epsilon``. Rejecting it ROLLS BACK (futility: the
  candidate is not better by the effect that was to be detected, or is worse). The chance of
  ever rolling back a candidate that is better by ``epsilon`` is at most ``beta``, so such a
  candidate is promoted with probability at least ``1 - beta`` (if the canary runs to a
  decision).
- Otherwise it HOLDS: more labels are needed.

The method: a confidence sequence (CS) for ``delta`` from the normal-mixture boundary of
Robbins (1970) in the form of Howard, Ramdas, McAuliffe and Sekhon (2021, "Time-uniform,
nonparametric, nonasymptotic confidence sequences", eq. for the two-sided normal mixture),
used with the asymptotic (Gaussian) argument of Waudby-Smith et al. (2021, "Time-uniform
central limit theory"). With ``v`` the estimated variance of the difference of the arms' means
and ``I = 1/v`` its information, ``I * (diff - delta)`` behaves as a Brownian motion in the
intrinsic time ``I``, and

    |diff - delta| <= sqrt((I + rho) * log((I + rho) / (rho * a**2))) / I

holds at every ``I`` at once with probability ``1 - a``. The lower side at ``a = 2 * alpha``
decides advance and the upper side at ``a = 2 * beta`` decides rollback: a one-sided use of
a symmetric two-sided boundary at level ``2a`` crosses on that side with probability about
``a`` (and the looks being discrete only makes it rarer). ``rho`` tunes where the boundary is
tightest; it is set at the information a fixed-size test at (alpha, beta, epsilon) needs.

scipy has no confidence sequences (nor does statsmodels), so the boundary is written here;
scipy gives the normal quantiles. ``fixed_interval`` is the naive per-look z interval a
Flagger-style threshold check uses, kept for the decision benchmark's comparison.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from .. import bounds
from ..exceptions import ValidationError

ADVANCE, HOLD, ROLLBACK = "advance", "hold", "rollback"
# metric -> (per-row score, higher is better)
METRICS = {"accuracy": "hit", "mae": "absolute error", "mse": "squared error"}
HIGHER_IS_BETTER = {"accuracy": True, "mae": False, "mse": False}
MIN_LABELS_FLOOR = 30  # the Gaussian argument needs a few dozen rows an arm


@dataclass(frozen=True)
class Design:
    """What is declared before the first look."""

    metric: str = "accuracy"
    effect: float = 0.02  # epsilon, in the metric's units (0.02: two accuracy points)
    alpha: float = 0.05
    beta: float = 0.2
    min_labels: int = 200  # labelled rows each arm needs before any decision

    def __post_init__(self) -> None:
        check_metric(self.metric)
        bounds.check_float(self.effect, "--effect", 1e-6, 1e6)
        bounds.check_float(self.alpha, "--alpha", 1e-6, 0.25)
        bounds.check_float(self.beta, "--beta", 1e-6, 0.5)
        bounds.check_int(self.min_labels, "--min-labels", MIN_LABELS_FLOOR, 10**9)

    def rho(self) -> float:
        return _rho(self.alpha, self.beta, self.effect)


@functools.lru_cache(maxsize=64)
def _rho(alpha: float, beta: float, effect: float) -> float:
    """The mixture's tuning: the boundary is tightest near the information a fixed-size test
    of the same (alpha, beta, effect) needs (Howard et al. 2021, sec. 3.5)."""
    from scipy.stats import norm

    target = ((norm.ppf(1 - alpha) + norm.ppf(1 - beta)) / effect) ** 2
    la = math.log(1 / alpha)
    return float(target / (2 * la + math.log(1 + 2 * la)))


def check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValidationError(
            f"canary metric {metric!r} is not a per-row metric; use one of {', '.join(METRICS)}"
        )
    return metric


@dataclass(frozen=True)
class ArmStats:
    """An arm's labelled rows, summarised: count, mean and variance of the per-row score."""

    n: int
    mean: float
    var: float

    @classmethod
    def of(cls, values: Any) -> ArmStats:
        import numpy as np

        x = np.asarray(values, dtype=float)
        if x.size == 0:
            return cls(0, 0.0, 0.0)
        return cls(int(x.size), float(x.mean()), float(x.var(ddof=1)) if x.size > 1 else 0.0)

    def mean_var(self) -> float:
        """The variance of the mean. A sample variance of 0 (all hits so far) would claim
        infinite information, so it is floored at a Bernoulli's with one extra hit and miss
        (Agresti-Coull style): p(1-p) at p = 1/(n+2)."""
        p = 1.0 / (self.n + 2)
        return max(self.var, p * (1 - p)) / max(self.n, 1)


@dataclass(frozen=True)
class Look:
    """One look's evidence and decision."""

    decision: str
    reason: str
    candidate: ArmStats
    baseline: ArmStats
    diff: float  # candidate - baseline, positive = better
    lower: float  # the alpha-side lower bound of the CS for delta
    upper: float  # the beta-side upper bound

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "diff": self.diff,
            "lower": _finite(self.lower),
            "upper": _finite(self.upper),
            "candidate": vars(self.candidate),
            "baseline": vars(self.baseline),
        }


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def radius(info: float, level: float, rho: float) -> float:
    """The normal-mixture CS's half-width at information ``info`` (two-sided level
    ``level``)."""
    if info <= 0:
        return math.inf
    return math.sqrt((info + rho) * math.log((info + rho) / (rho * level**2))) / info


def signed(design: Design, stats: ArmStats) -> float:
    return stats.mean if HIGHER_IS_BETTER[design.metric] else -stats.mean


def decide(design: Design, candidate: ArmStats, baseline: ArmStats) -> Look:
    """Advance, hold or roll back, on the labelled rows of both arms so far."""
    diff = signed(design, candidate) - signed(design, baseline)
    low = min(candidate.n, baseline.n)
    if low < design.min_labels:
        why = f"{low} labelled rows on the smaller arm, {design.min_labels} needed"
        return Look(HOLD, why, candidate, baseline, diff, -math.inf, math.inf)
    info = 1.0 / (candidate.mean_var() + baseline.mean_var())
    rho = design.rho()
    lower = diff - radius(info, 2 * design.alpha, rho)
    upper = diff + radius(info, 2 * design.beta, rho)
    what = f"{design.metric} difference {diff:+.4f}"
    if lower > 0:
        decision, why = ADVANCE, f"{what}, better: lower bound {lower:+.4f} > 0"
    elif upper < design.effect:
        decision = ROLLBACK
        why = f"{what}, not better by {design.effect:g}: upper bound {upper:+.4f}"
    else:
        decision = HOLD
        why = f"{what}, undecided: [{lower:+.4f}, {upper:+.4f}] spans 0 and {design.effect:g}"
    return Look(decision, why, candidate, baseline, diff, lower, upper)


def fixed_interval(design: Design, candidate: ArmStats, baseline: ArmStats) -> str:
    """The Flagger-style check: a fixed-sample one-sided z test at each look, as if it were
    the only look (its error rates hold for one look, not for many)."""
    from scipy.stats import norm

    if min(candidate.n, baseline.n) < design.min_labels:
        return HOLD
    diff = signed(design, candidate) - signed(design, baseline)
    se = math.sqrt(candidate.mean_var() + baseline.mean_var())
    if diff - norm.ppf(1 - design.alpha) * se > 0:
        return ADVANCE
    if diff + norm.ppf(1 - design.beta) * se < design.effect:
        return ROLLBACK
    return HOLD


def row_scores(metric: str, predictions: Any, labels: Any) -> Any:
    """Each labelled row's score: 1.0/0.0 for a hit (accuracy), else its error."""
    import numpy as np

    check_metric(metric)
    if metric == "accuracy":
        return np.fromiter((p == y for p, y in zip(predictions, labels, strict=True)), float)
    try:
        err = np.asarray(predictions, dtype=float) - np.asarray(labels, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(
            f"canary metric {metric} needs numeric predictions and labels; use accuracy for classes"
        ) from None
    return np.abs(err) if metric == "mae" else err**2


__all__ = [
    "ADVANCE",
    "HOLD",
    "METRICS",
    "ROLLBACK",
    "ArmStats",
    "Design",
    "Look",
    "decide",
    "fixed_interval",
    "radius",
    "row_scores",
]
