"""The canary's decision under continuous looks: 1,000 simulated canaries per case (a
candidate better by the declared effect, an equal one, a worse one), each fed through the
same decision function the scheduler calls (``jupyter_mlops.monitoring.sequential.decide``)
on a delayed-label stream, beside two fixed-threshold checks at every interval on the same
streams: Flagger's analysis (the candidate passes a check when its metric is at least the
blessed's, steps up, and is rolled back after 5 failed checks), and a one-look z test
applied at every look (``fixed_interval``).

    python benchmarks/bench_canary.py [--quick] [--json]

The stream: each interval the model serves ``--requests`` requests, split between the arms
by the canary's current share (2, 5, 10, 25, 50, 100 %); each request's label arrives a
geometric number of intervals later (mean ``--delay``), as ``mlops.log_labels`` would record
it; hits are Bernoulli at the arm's accuracy (blessed 0.80). A look comes every interval:
advance moves to the next share, at 100 % promotes; rollback ends the canary; a canary still
undecided after ``--max-looks`` counts as not promoted. Both rules see the same random draws
(common random numbers: one seed per canary).

Targets (issue 22): false promotion of an equal or worse candidate <= alpha (5 %); promotion
of the better one >= 1 - beta (80 %). Also reported: the median labels a decision needed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from report import main, result

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from jupyter_mlops.monitoring.sequential import (  # noqa: E402
    ADVANCE,
    HOLD,
    ROLLBACK,
    ArmStats,
    Design,
    decide,
    fixed_interval,
)

STEPS = (0.02, 0.05, 0.10, 0.25, 0.50, 1.0)
BASE = 0.80
DESIGN = Design(metric="accuracy", effect=0.02, alpha=0.05, beta=0.2, min_labels=200)
SEED = 20261207


class Arm:
    """An arm's labels: those still on their way (by the interval they arrive) and those in."""

    def __init__(self, horizon: int) -> None:
        self.due_n = np.zeros(horizon, dtype=np.int64)
        self.due_hits = np.zeros(horizon, dtype=np.int64)
        self.n = 0
        self.hits = 0

    def serve(self, rng: np.random.Generator, t: int, n: int, p: float, delay: float) -> None:
        if n <= 0:
            return
        lags = rng.geometric(1.0 / (1.0 + delay), n) - 1  # 0, 1, 2 … intervals late
        hits = rng.random(n) < p
        np.add.at(self.due_n, np.minimum(t + lags, len(self.due_n) - 1), 1)
        np.add.at(self.due_hits, np.minimum(t + lags, len(self.due_n) - 1), hits)

    def arrive(self, t: int) -> ArmStats:
        self.n += int(self.due_n[t])
        self.hits += int(self.due_hits[t])
        p = self.hits / self.n if self.n else 0.0
        var = p * (1 - p) * self.n / (self.n - 1) if self.n > 1 else 0.0
        return ArmStats(self.n, p, var)


def canary(
    rule: Callable[[Design, ArmStats, ArmStats], Any],
    p_candidate: float,
    seed: int,
    requests: int,
    delay: float,
    max_looks: int,
) -> tuple[str, int, int]:
    """(outcome: promote | rollback | undecided, labels in at the decision, looks)."""
    rng = np.random.default_rng(seed)
    horizon = max_looks + 2
    cand, base = Arm(horizon), Arm(horizon)
    step = 0
    for t in range(max_looks):
        share = STEPS[step]
        k = int(rng.binomial(requests, share))
        cand.serve(rng, t, k, p_candidate, delay)
        base.serve(rng, t, requests - k, BASE, delay)
        c, b = cand.arrive(t), base.arrive(t)
        out = rule(DESIGN, c, b)
        decision = out if isinstance(out, str) else out.decision
        if decision == ROLLBACK:
            return "rollback", c.n + b.n, t + 1
        if decision == ADVANCE:
            step += 1
            if step == len(STEPS):
                return "promote", c.n + b.n, t + 1
    return "undecided", cand.n + base.n, max_looks


class Flagger:
    """Flagger's analysis as a fixed-threshold check at every interval: the candidate passes
    when its metric is at least the blessed arm's (the threshold) and then steps up; after
    ``threshold`` failed checks it is rolled back (Flagger's ``analysis.threshold``, 5)."""

    def __init__(self, threshold: int = 5) -> None:
        self.threshold = threshold
        self.failed = 0

    def __call__(self, design: Design, c: ArmStats, b: ArmStats) -> str:
        if min(c.n, b.n) < design.min_labels:
            return HOLD
        if c.mean >= b.mean:
            return ADVANCE
        self.failed += 1
        return ROLLBACK if self.failed >= self.threshold else HOLD


CASES = {"better": BASE + DESIGN.effect, "equal": BASE, "worse": BASE - DESIGN.effect}
RULES: dict[str, Callable[[], Callable[[Design, ArmStats, ArmStats], Any]]] = {
    "sequential": lambda: decide,
    "Flagger": Flagger,
    "z each look": lambda: fixed_interval,
}


def simulate(n: int, requests: int, delay: float, max_looks: int) -> dict[tuple[str, str], Any]:
    out = {}
    for case, p in CASES.items():
        for rule_name, rule in RULES.items():
            runs = [canary(rule(), p, SEED + i, requests, delay, max_looks) for i in range(n)]
            out[(case, rule_name)] = runs
    return out


def run(quick: bool = False, requests: int = 5000, delay: float = 1.0) -> list[dict[str, Any]]:
    n = 100 if quick else 1000
    max_looks = 400
    started = time.perf_counter()
    sims = simulate(n, requests, delay, max_looks)
    rows = []
    for (case, rule), runs in sims.items():
        outcomes = [r[0] for r in runs]
        promoted = outcomes.count("promote") / n
        labels = float(np.median([r[1] for r in runs]))
        undecided = outcomes.count("undecided") / n
        note = f"median labels {labels:,.0f}; undecided after {max_looks} looks {undecided:.1%}"
        if case == "better":
            target, ok = ">= 80%", promoted >= 0.80
            name = f"promoted, better by {DESIGN.effect:g} ({rule})"
        else:
            target, ok = "<= 5%", promoted <= DESIGN.alpha
            name = f"false promotion, {case} ({rule})"
        passed = ok if rule == "sequential" else None  # the fixed check is the comparison
        rows.append(result(name, promoted * 100, "%", None, target, passed, note))
    took = time.perf_counter() - started
    rows.append(result(f"simulated canaries ({n} a case and rule)", took, "s", None, "", None))
    return rows


if __name__ == "__main__":
    main(__doc__, run, "100 canaries a case (indicative only)")
