"""``mlops.predict`` beside ``model.predict``, in the same run.

    python benchmarks/bench_predict.py [--quick]

The model: a scikit-learn pipeline (StandardScaler + LogisticRegression) on 20 numeric columns,
registered and blessed in a temporary store, with and without a logged training profile; the
shadow: a random forest (100 trees) in stage ``shadow``. Per case, the median time of a call
for 1, 100 and 10,000 rows, ``model.predict`` and ``mlops.predict`` alternating on the same
rows, with 0 and 1,000 batches already stored.

Each timed call finds the recorder and the shadows idle (``flush()`` runs between calls,
untimed): the latency a request sees. Back-to-back calls, where the recorder's work (profiles,
shadow scoring, the write) shares the interpreter with the caller, are timed too: the median
call and the calls per second against ``model.predict``'s, and how many batches a shadow that
cannot keep up left out (its bounded queue overflowed; the count is recorded).

First, the CPU time (``time.process_time``) of one batch's record, made and written as the
recorder does (1 and 100 rows), beside ``model.predict``'s; ``BENCH_RECORD_ONLY=1`` stops there.

Targets (issue 20): 1 row at most 1 ms added at the median; 10,000 rows at most 1.3x.
"""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time
from typing import Any

from report import main as bench_main
from report import result

COLUMNS = 20
SIZES = (1, 100, 10_000)
ADDED_MS_MAX = 1.0  # 1 row: mlops.predict's median minus model.predict's
RATIO_MAX = 1.3  # 10,000 rows


def frame(n: int, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, COLUMNS)), columns=[f"f{i}" for i in range(COLUMNS)])


def setup(root: str) -> dict[str, Any]:
    """A store with model ``lr`` (training profile logged), ``lr_bare`` (none), each also as
    ``…_shadowed`` with a random-forest shadow; returns the fitted models."""
    from sklearn.ensemble import RandomForestClassifier
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
    y = (X["f0"] + X["f1"] > 0).astype(int)
    lr = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    rf = RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y)
    tracker = mlops.default_tracker()
    registry = ModelRegistry(tracker.store)
    for name in ("lr", "lr_bare", "lr_shadowed", "lr_bare_shadowed"):
        for model in (lr, rf) if name.endswith("shadowed") else (lr,):
            with tracker.start_run(experiment=name) as run:
                run.log_model(model, "model")
                if "bare" not in name:
                    run.log_bytes(profile(X).to_json().encode(), "profile:train", kind="profile")
            mv = registry.register(name, tracker.get_run(run.id), "model")
            if model is lr:
                registry.bless(mv.ref)
            else:
                registry.shadow(mv.ref)
    return {"lr": lr, "tracker": tracker}


def add_history(store: Any, name: str, batches: int) -> None:
    """``batches`` stored batches of ``name`` (profiles of 100 rows), as a month of serving."""
    first = store.monitor_batches(name, limit=1)[0]  # one scored by the runs before
    from jupyter_mlops.store.base import MonitorBatch

    store.record_batch(
        [
            MonitorBatch(
                f"h{i}",
                name,
                first.version,
                "blessed",
                1.0e9 + i,
                100,
                0.001,
                first.profile,
                first.predictions,
            )
            for i in range(batches)
        ],
        [],
    )


def forget_bins() -> None:
    """As in a new serving process: the bins are looked up again (once)."""
    from jupyter_mlops.monitoring import recording

    recording._BINS.clear()
    recording._REFERENCES.clear()


def paired(name: str, model: Any, X: Any, repeats: int) -> tuple[float, float]:
    """Median seconds of ``model.predict(X)`` and of ``mlops.predict(name, X)``, alternating,
    with the recorder idle at each call."""
    from jupyter_mlops.monitoring import flush, predict

    base, ours = [], []
    predict(name, X)  # warm: the model is loaded once per process, recorded apart
    flush()
    pair = ((base, model.predict), (ours, lambda X: predict(name, X)))
    for i in range(repeats):
        # alternating, so that neither always follows the recorder's drain
        for timed, fn in pair if i % 2 else pair[::-1]:
            flush()  # each call finds the recorder idle, the model's own too
            gc.disable()  # as timeit does: a collection of the recorder's garbage is not the call's
            t0 = time.perf_counter()
            fn(X)
            timed.append(time.perf_counter() - t0)
            gc.enable()
    flush()
    return statistics.median(base), statistics.median(ours)


def loop(name: str, model: Any, X: Any, calls: int) -> dict[str, float]:
    """Back to back: the median call and the calls per second of ``model.predict`` and of
    ``mlops.predict``, whose records and shadows work behind it, sharing the interpreter (they
    are drained at the end, inside the rate, so the records' cost shows)."""
    from jupyter_mlops.monitoring import flush, predict

    out: dict[str, float] = {}
    for which, fn in (("model", model.predict), ("ours", lambda X: predict(name, X))):
        took = []
        start = time.perf_counter()
        for _ in range(calls):
            t0 = time.perf_counter()
            fn(X)
            took.append(time.perf_counter() - t0)
        flush()
        out[f"{which}_rate"] = calls / (time.perf_counter() - start)
        out[f"{which}_median"] = statistics.median(took)
    return out


def record_cpu(store: Any, name: str, model: Any, n: int, repeats: int) -> tuple[float, float]:
    """CPU seconds per call (``time.process_time``: the machine may be shared) of making and
    writing one batch's record (``recording.record``, the recorder's job, run here), and of
    ``model.predict`` on the same rows."""
    from jupyter_mlops.monitoring import flush, recording

    mv = next(m for m in store.list_models(name) if m.stage.value == "blessed")
    X = frame(n, 4)
    y = model.predict(X)
    job = recording.Batch(store, name, mv, X, y, 0.001, 0.0, "bench", None, None, False)
    recording.record(job, True)  # warm: the bins found once per version
    took = {}
    for which, fn in (("record", lambda: recording.record(job, True)), ("model", None)):
        gc.disable()
        t0 = time.process_time()
        for _ in range(repeats):
            if fn is None:
                model.predict(X)
            else:
                fn()
        took[which] = (time.process_time() - t0) / repeats
        gc.enable()
    flush()
    return took["record"], took["model"]


def record_rows(store: Any, model: Any, quick: bool) -> list[dict[str, Any]]:
    rows = []
    for n in (1, 100):
        cpu, base = record_cpu(store, "lr", model, n, 50 if quick else 300)
        rows.append(
            result(
                f"lr: record of a {n}-row batch, CPU",
                cpu * 1000,
                "ms",
                base * 1000,
                "-",
                None,
                "profiles and write, per batch; baseline: model.predict's CPU",
            )
        )
    return rows


def left_out(store: Any, name: str) -> int:
    """Batches a shadow did not score because its queue was full (the recorded count)."""
    return sum(
        e.detail.get("batches", 0)
        for e in store.monitor_events(name)
        if e.kind == "shadow" and e.status == "overflow"
    )


def case_rows(name: str, model: Any, history: int, quick: bool) -> list[dict[str, Any]]:
    rows = []
    label = f"{name} (history {history})"
    for n in SIZES:
        X = frame(n, 2)
        repeats = {1: 200, 100: 100, 10_000: 50}[n] // (4 if quick else 1)
        base, ours = paired(name, model, X, repeats)
        if n == 1:
            added = (ours - base) * 1000
            rows.append(
                result(
                    f"{label}: 1 row, ms added",
                    added,
                    "ms",
                    None,
                    f"<= {ADDED_MS_MAX:g} ms",
                    added <= ADDED_MS_MAX,
                    f"model.predict {base * 1000:.2f} ms, mlops.predict {ours * 1000:.2f} ms",
                    ratio=ours / base,
                )
            )
        else:
            ok = ours / base <= RATIO_MAX if n == 10_000 else None
            rows.append(
                result(
                    f"{label}: {n:,} rows",
                    ours * 1000,
                    "ms",
                    base * 1000,
                    f"<= {RATIO_MAX:g}x" if ok is not None else "-",
                    ok,
                )
            )
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    from jupyter_mlops.monitoring import recorder

    # a timed call must find the shadows idle too: wait for them, however long they take
    recorder.SHADOW_WAIT = 3600.0
    with tempfile.TemporaryDirectory() as root:
        made = setup(root)
        store, lr = made["tracker"].store, made["lr"]
        rows: list[dict[str, Any]] = record_rows(store, lr, quick)
        if os.environ.get("BENCH_RECORD_ONLY"):  # the CPU of the records alone
            return rows
        for name in ("lr", "lr_bare", "lr_shadowed", "lr_bare_shadowed"):
            rows += case_rows(name, lr, 0, quick)
        for name in ("lr", "lr_bare"):
            add_history(store, name, 1000)
            forget_bins()
            rows += case_rows(name, lr, 1000, quick)
        for name in ("lr", "lr_shadowed"):
            got = loop(name, lr, frame(100, 3), 200 if quick else 1000)
            rows.append(
                result(
                    f"{name}: back to back, 100 rows, median",
                    got["ours_median"] * 1000,
                    "ms",
                    got["model_median"] * 1000,
                    "-",
                    None,
                    "the records (and shadow) working behind each call",
                )
            )
            rows.append(
                result(
                    f"{name}: back to back, 100 rows",
                    got["ours_rate"],
                    "/s",
                    got["model_rate"],
                    "-",
                    None,
                    f"calls per second, records drained; shadow batches left out "
                    f"(queue full, counted): {left_out(store, name)}",
                )
            )
        from jupyter_mlops.monitoring import flush

        flush()
        return rows


def main() -> None:
    bench_main(__doc__ or "", run, "fewer repeats (indicative only)")


if __name__ == "__main__":
    main()
