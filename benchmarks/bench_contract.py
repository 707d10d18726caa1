"""What the input contract costs ``mlops.predict``: the same model with and without one.

    python benchmarks/bench_contract.py [--quick]

The model: a scikit-learn pipeline (one-hot ``region`` with 5 values, scaled 20 numeric
columns, LogisticRegression), registered twice in a temporary store and blessed: ``checked``
with the signature its training frame shows (kinds, no nulls, the regions seen), ``unchecked``
with none recorded (JSON ``null``: no contract). Per size (1 and 10,000 rows), the median of
``mlops.predict`` on each, alternating, the recorder idle at each call; and ``enforce`` alone
(reject, a conforming batch; coerce, the numbers sent as text), its median wall time and its
CPU time per call (``time.process_time``), the batch's shape seen before (the fast path).

Target: the contract adds at most 0.2 ms to a 1-row call and 5 % to a 10,000-row one.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import tempfile
import time
from typing import Any

from report import main as bench_main
from report import median_seconds, result

COLUMNS = 20
SIZES = (1, 10_000)
ADDED_MS_MAX = 0.2
RATIO_MAX = 1.05
ENFORCE_CPU_MS = 0.1  # a conforming 1-row batch, its shape seen before (issue 22)


def frame(n: int, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, COLUMNS)), columns=[f"f{i}" for i in range(COLUMNS)])
    X["region"] = rng.choice(["n", "s", "e", "w", "c"], n)
    return X


def setup(root: str) -> Any:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    import jupyter_mlops as mlops
    from jupyter_mlops.registry import ModelRegistry
    from jupyter_mlops.tracking import reset_default_tracker

    os.environ["JUPYTER_MLOPS_STORE"] = os.path.join(root, ".mlops")
    reset_default_tracker()
    X = frame(5_000, 0)
    y = (X["f0"] + X["f1"] > 0).astype(int)
    numeric = [f"f{i}" for i in range(COLUMNS)]
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["region"]), (StandardScaler(), numeric)),
        LogisticRegression(),
    ).fit(X, y)
    registry = ModelRegistry(mlops.default_tracker().store)
    for name in ("checked", "unchecked"):
        mv = mlops.register_model(name, model, example=X)
        if name == "unchecked":
            registry.store.set_model_signature(name, mv.version, json.dumps(None), "reject")  # type: ignore[attr-defined]
        registry.bless(mv.ref)
    return model


def paired(X: Any, repeats: int) -> tuple[float, float]:
    """Median seconds of ``mlops.predict`` without and with the contract, alternating."""
    from jupyter_mlops.monitoring import flush, predict

    times: dict[str, list[float]] = {"unchecked": [], "checked": []}
    for name in times:
        predict(name, X)  # warm: model and contract loaded once per process
    flush()
    for i in range(repeats):
        for name in ("unchecked", "checked") if i % 2 else ("checked", "unchecked"):
            flush()
            gc.disable()
            t0 = time.perf_counter()
            predict(name, X)
            times[name].append(time.perf_counter() - t0)
            gc.enable()
    flush()
    return statistics.median(times["unchecked"]), statistics.median(times["checked"])


def cpu_seconds(fn: Any, repeats: int) -> float:
    """CPU seconds per call (``time.process_time``: the machine may be shared), after one
    call that warms what is kept per signature."""
    fn()
    gc.disable()
    t0 = time.process_time()
    for _ in range(repeats):
        fn()
    took = (time.process_time() - t0) / repeats
    gc.enable()
    return took


def enforce_rows(quick: bool) -> list[dict[str, Any]]:
    from jupyter_mlops.validation.contract import enforce
    from jupyter_mlops.validation.signature import from_frame

    sig = from_frame(frame(5_000, 0))
    rows = []
    for n in SIZES:
        X = frame(n, 2)
        text = X.astype(str)
        reps = (400 if n == 1 else 60) // (4 if quick else 1)
        took = median_seconds(lambda X=X: enforce(sig, X, "reject"), reps)
        rows.append(result(f"enforce, reject, {n:,} rows", took * 1000, "ms", None, "-", None))
        cpu = cpu_seconds(lambda X=X: enforce(sig, X, "reject"), reps * 2)
        target = f"< {ENFORCE_CPU_MS:g} ms" if n == 1 else "-"
        ok = cpu * 1000 < ENFORCE_CPU_MS if n == 1 else None
        rows.append(result(f"enforce, reject, {n:,} rows, CPU", cpu * 1000, "ms", None, target, ok))
        took = median_seconds(lambda text=text: enforce(sig, text, "coerce"), reps // 4)
        rows.append(
            result(f"enforce, coerce from text, {n:,} rows", took * 1000, "ms", None, "-", None)
        )
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as root:
        setup(root)
        rows: list[dict[str, Any]] = []
        for n in SIZES:
            X = frame(n, 1)
            repeats = (300 if n == 1 else 60) // (4 if quick else 1)
            base, ours = paired(X, repeats)
            if n == 1:
                added = (ours - base) * 1000
                rows.append(
                    result(
                        "predict, 1 row: ms added by the contract",
                        added,
                        "ms",
                        None,
                        f"<= {ADDED_MS_MAX:g} ms",
                        added <= ADDED_MS_MAX,
                        f"without {base * 1000:.3f} ms, with {ours * 1000:.3f} ms",
                        ratio=ours / base,
                    )
                )
            else:
                rows.append(
                    result(
                        f"predict, {n:,} rows, with the contract",
                        ours * 1000,
                        "ms",
                        base * 1000,
                        f"<= {RATIO_MAX:g}x",
                        ours / base <= RATIO_MAX,
                    )
                )
        rows += enforce_rows(quick)
        return rows


def main() -> None:
    bench_main(__doc__ or "", run, "fewer repeats (indicative only)")


if __name__ == "__main__":
    main()
