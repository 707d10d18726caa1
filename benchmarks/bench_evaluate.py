"""``evaluate()`` over a growing history: its time after 1 day and after 30 days of serving.

    python benchmarks/bench_evaluate.py [--quick]

A blessed scikit-learn model (StandardScaler + LogisticRegression on 20 numeric columns) serves
one batch a day through ``mlops.predict`` with row ids, and each day's labels arrive through
``mlops.log_labels`` the same evening. A daily monitor (drift and accuracy) is evaluated at the
end of day 1 and of day 30: the window holds one day either way, so its time must not grow with
the history (issue 20: 0.37 s on day 0, 3.7 s after 30 days x 10k rows, before). Small: 1,000
rows a day; large: 10,000 rows a day (``--quick``: 10 days, not 30). Medians of 5 evaluations.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from bench_predict import frame
from report import main as bench_main
from report import median_seconds, result

DAY = 86400.0
T0 = 1_700_000_000.0
RATIO_MAX = 1.5  # the evaluation after the history's last day, against after its first


def serve(name: str, day: int, rows: int) -> None:
    import jupyter_mlops as mlops

    X = frame(rows, 100 + day)
    ids = [f"{day}-{i}" for i in range(rows)]
    mlops.predict(name, X, ids=ids, now=T0 + day * DAY + 3600)
    mlops.log_labels(name, ids, (X["f0"] + X["f1"] > 0).astype(int), now=T0 + day * DAY + 7200)


def setup(root: str, name: str) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import jupyter_mlops as mlops
    from jupyter_mlops.registry import ModelRegistry
    from jupyter_mlops.tracking import reset_default_tracker
    from jupyter_mlops.validation.profiles import profile

    os.environ["JUPYTER_MLOPS_STORE"] = os.path.join(root, ".mlops")
    reset_default_tracker()
    X = frame(5_000, 0)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(X, (X["f0"] + X["f1"] > 0).astype(int))
    tracker = mlops.default_tracker()
    with tracker.start_run(experiment=name) as run:
        run.log_model(model, "model")
        run.log_bytes(profile(X).to_json().encode(), "profile:train", kind="profile")
    registry = ModelRegistry(tracker.store)
    registry.bless(registry.register(name, tracker.get_run(run.id), "model").ref)
    return tracker.store


def history_rows(rows: int, days: int) -> list[dict[str, Any]]:
    from jupyter_mlops.monitoring import evaluate, flush
    from jupyter_mlops.monitoring.spec import MonitorSpec

    name = f"daily{rows}"
    spec = MonitorSpec.from_dict(
        name,
        {
            "window": "daily",
            "checks": [
                {"kind": "drift", "action": "none"},
                {"kind": "performance", "metric": "accuracy", "min": 0.5, "action": "none"},
            ],
        },
    )
    times = []
    with tempfile.TemporaryDirectory() as root:
        store = setup(root, name)
        for last in (0, days - 1):
            for day in range(0 if last == 0 else 1, last + 1):
                serve(name, day, rows)
            flush()
            now = T0 + last * DAY + DAY / 2

            def one(now: float = now) -> None:
                evaluate(name, now=now, spec=spec, act=False)

            times.append(median_seconds(one, 5))
        # what every evaluation read before: the whole labelled history
        whole = median_seconds(lambda: store.labelled_predictions(name), 3)
    first, last_ = times
    ok = last_ / first <= RATIO_MAX
    return [
        result(f"evaluate, {rows:,} rows/day, after 1 day", first * 1000, "ms", None, "-", None),
        result(
            f"evaluate, {rows:,} rows/day, after {days} days",
            last_ * 1000,
            "ms",
            first * 1000,
            f"<= {RATIO_MAX:g}x",
            ok,
            "baseline: after 1 day",
        ),
        result(
            f"read all {days} days' labels, {rows:,}/day",
            whole * 1000,
            "ms",
            None,
            "-",
            None,
            "what every evaluate() read before, whatever its window",
        ),
    ]


def run(quick: bool = False) -> list[dict[str, Any]]:
    days = 10 if quick else 30
    return history_rows(1_000, days) + history_rows(10_000, days)


def main() -> None:
    bench_main(__doc__ or "", run, "10 days of history (indicative only)")


if __name__ == "__main__":
    main()
