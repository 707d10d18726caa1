"""evaluate() reads only its window: after 30 days of history it reads what it read after one
(SQLite's virtual-machine steps and the rows it judged, deterministic proxies of its time;
benchmarks/bench_predict.py times it), and judges the same rows as before."""

from __future__ import annotations

import sqlite3
from functools import partial

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.monitoring import evaluate, flush, log_labels, predict
from jupyter_mlops.monitoring.spec import MonitorSpec

from .helpers import DAY, T0, Threshold, features, register, truth

N = 200  # rows a day


def serve(day: int) -> None:
    X = features(N, seed=300 + day).drop(columns="region")
    ids = [f"{day}-{i}" for i in range(N)]
    predict("win", X, ids=ids, now=T0 + day * DAY + 3600)
    log_labels("win", ids, truth(X), now=T0 + day * DAY + 7200)


def steps_of(conn: sqlite3.Connection, fn):  # type: ignore[no-untyped-def]
    """``fn()``'s result, and the hundreds of SQLite VM steps it took on ``conn``."""
    seen = [0]

    def step() -> int:
        seen[0] += 1
        return 0

    conn.set_progress_handler(step, 100)
    try:
        return fn(), seen[0]
    finally:
        conn.set_progress_handler(None, 0)


@pytest.mark.parametrize("window", ["daily", "batch"])
def test_evaluate_reads_the_same_after_30_days_as_after_one(
    tracker: mlops.Tracker, window: str
) -> None:
    if tracker.store.location.startswith("postgresql"):
        pytest.skip("counts SQLite's steps")
    register(tracker, "win", Threshold())
    spec = MonitorSpec.from_dict(
        "win",
        {
            "window": window,
            "checks": [
                {"kind": "drift", "action": "none"},
                {"kind": "performance", "metric": "accuracy", "min": 0.5, "action": "none"},
            ],
        },
    )
    conn = tracker.store._conn()  # type: ignore[attr-defined]
    costs, judged = [], []
    for days in (range(0, 1), range(1, 30)):  # one day of history, then 30
        for day in days:
            serve(day)
        flush()  # the records land on the recorder's connection, not counted here
        now = T0 + days[-1] * DAY + 0.5 * DAY
        ev, steps = steps_of(conn, partial(evaluate, "win", now=now, spec=spec, act=False))
        costs.append(steps)
        drift, perf = ev.checks
        judged.append((drift.detail["rows"], perf.detail["labelled"], perf.value))
    assert judged[0][:2] == judged[1][:2] == (N, N)  # the window's rows, then as now
    assert judged[1][2] == 1.0
    assert costs[1] <= 1.5 * costs[0] + 10, costs
    # the measure sees a read of the whole history (what evaluate did before)
    _, whole = steps_of(conn, partial(tracker.store.labelled_predictions, "win"))
    assert whole > 10 * costs[1]
