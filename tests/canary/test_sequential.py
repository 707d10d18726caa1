"""The sequential test's calibration on small simulations (seeded): an equal or worse
candidate is rarely promoted, however often it is looked at; a better one usually is."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.monitoring.sequential import (
    ADVANCE,
    HOLD,
    ROLLBACK,
    ArmStats,
    Design,
    decide,
    fixed_interval,
    radius,
    row_scores,
)

DESIGN = Design(effect=0.05, min_labels=50)


def _run(rng: np.random.Generator, delta: float, check=decide, per_look: int = 100) -> str:
    """Looks every ``per_look`` labels an arm until a decision (or 400 looks)."""
    hits_c, hits_b, n = 0, 0, 0
    for _ in range(400):
        n += per_look
        hits_c += rng.binomial(per_look, 0.7 + delta)
        hits_b += rng.binomial(per_look, 0.7)
        c, b = hits_c / n, hits_b / n
        out = check(DESIGN, ArmStats(n, c, c * (1 - c)), ArmStats(n, b, b * (1 - b)))
        decision = out if isinstance(out, str) else out.decision
        if decision != HOLD:
            return decision
    return HOLD


@pytest.mark.parametrize(("delta", "lo", "hi"), [(0.0, 0.0, 0.05), (-0.05, 0.0, 0.01)])
def test_false_promotion_stays_under_alpha(delta: float, lo: float, hi: float) -> None:
    rng = np.random.default_rng(7)
    out = [_run(rng, delta) for _ in range(200)]
    assert lo <= out.count(ADVANCE) / len(out) <= hi


def test_a_better_candidate_is_promoted_with_power_one_minus_beta() -> None:
    rng = np.random.default_rng(8)
    out = [_run(rng, 0.05) for _ in range(200)]
    assert out.count(ADVANCE) / len(out) >= 0.8


def test_the_fixed_threshold_check_looked_at_often_promotes_equal_models() -> None:
    """The Flagger-style check at every look: its nominal 5 % does not hold."""
    rng = np.random.default_rng(9)
    out = [_run(rng, 0.0, fixed_interval, per_look=50) for _ in range(200)]
    assert out.count(ADVANCE) / len(out) > 0.1


def test_holds_below_min_labels_and_the_boundary_shrinks() -> None:
    look = decide(DESIGN, ArmStats(49, 1.0, 0.0), ArmStats(500, 0.0, 0.0))
    assert look.decision == HOLD and "50 needed" in look.reason
    widths = [radius(i, 0.1, 100.0) for i in (10.0, 100.0, 1e4, 1e6)]
    assert widths == sorted(widths, reverse=True) and math.isinf(radius(0.0, 0.1, 1.0))


def test_losses_are_signed_so_lower_is_better() -> None:
    design = Design(metric="mae", effect=0.1, min_labels=30)
    low, high = ArmStats(5000, 0.2, 0.01), ArmStats(5000, 0.6, 0.01)
    assert decide(design, low, high).decision == ADVANCE
    assert decide(design, high, low).decision == ROLLBACK
    assert list(row_scores("mae", [1.0, 2.0], [1.5, 2.0])) == [0.5, 0.0]
    assert list(row_scores("accuracy", ["a", "b"], ["a", "c"])) == [1.0, 0.0]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"metric": "f1"}, "per-row metric"),
        ({"effect": 0.0}, "--effect"),
        ({"alpha": 0.9}, "--alpha"),
        ({"min_labels": 5}, "--min-labels"),
    ],
)
def test_a_bad_design_is_one_line(kw: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match) as e:
        Design(**kw)
    assert "\n" not in str(e.value)
