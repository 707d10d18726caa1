"""Gate evaluation speed, excluding model scoring.

    python benchmarks/bench_gates.py [--rows 100000] [--repeats 15]

Evaluates 20 data and value gates (schema, nulls, ranges, categories, unique keys, row count,
freshness, PSI / KS / chi-square drift against a reference profile, metric and meta thresholds)
on a frame of ``rows`` rows x 8 columns. Target: under 50 ms for the 20 checks at 100k rows.
The slowest gates are listed in the note, so a regression points at its gate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from typing import Any

from report import print_table

TARGET_MS = 50.0


def make_frame(rows: int, seed: int = 0, shift: float = 0.0) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-06-01", tz="UTC")
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "age": rng.integers(18, 90, rows).astype("float64"),
            "income": rng.lognormal(10 + shift, 0.5, rows),
            "score": rng.random(rows),
            "city": rng.choice(["paris", "lyon", "nice", "lille", "brest"], rows),
            "segment": pd.Categorical(rng.choice(["a", "b", "c"], rows)),
            "active": rng.random(rows) < 0.7,
            "ts": start + pd.to_timedelta(rng.integers(0, 86_400 * 9, rows), unit="s"),
        }
    )


def make_gates() -> list[dict[str, Any]]:
    """Twenty checks covering every data and value gate kind."""
    d = {"dataset": "scoring"}
    dtypes = {"id": "int", "age": "float", "income": "float", "score": "float"}
    dtypes |= {"city": "str", "segment": "category", "active": "bool", "ts": "datetime"}
    cities = ["paris", "lyon", "nice", "lille", "brest"]
    return [
        {"kind": "schema", **d, "columns": dtypes, "strict": True},
        {"kind": "not_null", **d, "columns": ["id", "city", "ts"]},
        {"kind": "not_null", **d},
        {"kind": "max_null_share", **d, "max": 0.01},
        {"kind": "range", **d, "column": "age", "min": 0, "max": 120},
        {"kind": "range", **d, "column": "score", "min": 0, "max": 1},
        {"kind": "range", **d, "column": "income", "min": 0},
        {"kind": "allowed_values", **d, "column": "city", "values": cities},
        {"kind": "allowed_values", **d, "column": "segment", "values": ["a", "b", "c"]},
        {"kind": "unique", **d, "columns": ["id"]},
        {"kind": "row_count", **d, "min": 1000, "max": 10_000_000},
        {"kind": "freshness", **d, "column": "ts", "max_age": "2d"},
        {"kind": "drift", **d, "reference": "train"},
        {"kind": "drift", **d, "reference": "train", "method": "ks"},
        {"kind": "drift", **d, "reference": "train", "method": "chi2"},
        {"kind": "drift", **d, "reference": "train", "columns": ["income"], "max": 0.1},
        {"kind": "metric", "metric": "accuracy", "min": 0.8},
        {"kind": "metric", "metric": "log_loss", "max": 0.5},
        {"kind": "meta", "metric": "duration_s", "max": 600},
        {"kind": "meta", "metric": "peak_memory_mb", "max": 4096},
    ]


def make_context(rows: int) -> Any:
    from jupyter_mlops.validation.drift import profile_dataframe
    from jupyter_mlops.validation.gates import GateContext

    # The reference keeps `id`: a column only the scored data has is a drift breach ("new").
    reference = profile_dataframe(make_frame(rows, seed=1))
    return GateContext(
        datasets={"scoring": make_frame(rows, seed=2)},
        metrics={"accuracy": 0.91, "log_loss": 0.3},
        meta={"duration_s": 42.0, "peak_memory_mb": 812.0},
        reference_profiles={"train": reference},
        now=dt.datetime(2024, 6, 10, 12, tzinfo=dt.timezone.utc),
    )


def time_gates(rows: int = 100_000, repeats: int = 15) -> tuple[float, dict[str, float], list[Any]]:
    """Median wall time of evaluating the 20 gates (ms), per-gate medians (ms), last results."""
    from jupyter_mlops.validation.gates import GATE_KINDS, evaluate_gates, parse_gates

    ctx = make_context(rows)
    specs = parse_gates(make_gates())
    results = evaluate_gates(specs, ctx)  # warm-up: lazy imports, pandas caches
    labels = [r.gate for r in results]  # unique, unlike spec labels
    totals: list[float] = []
    per_gate: dict[str, list[float]] = {label: [] for label in labels}
    for _ in range(repeats):
        ctx.cache.clear()  # each repeat is a fresh run: drift gates re-profile the dataset
        start = time.perf_counter()
        results = evaluate_gates(specs, ctx)
        totals.append((time.perf_counter() - start) * 1000)
        for label, spec in zip(labels, specs, strict=True):
            t0 = time.perf_counter()
            GATE_KINDS[spec.kind].check(spec, ctx)
            per_gate[label].append((time.perf_counter() - t0) * 1000)
    medians = {k: statistics.median(v) for k, v in per_gate.items()}
    return statistics.median(totals), medians, results


def bench_gates(rows: int = 100_000, repeats: int = 15) -> list[dict[str, Any]]:
    total, per_gate, results = time_gates(rows, repeats)
    slowest = sorted(per_gate.items(), key=lambda kv: -kv[1])[:4]
    note = "slowest: " + ", ".join(f"{k} {v:.1f} ms" for k, v in slowest)
    failed = [r.gate for r in results if r.status.value != "pass"]
    if failed:
        note += f"; not passing: {', '.join(failed)}"
    return [
        {
            "name": f"20 gates on {rows:,} rows (no model scoring)",
            "value": total,
            "unit": "ms",
            "baseline": None,
            "ratio": None,
            "target": f"< {TARGET_MS:g} ms",
            "passed": total < TARGET_MS,
            "note": note,
        }
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=15)
    args = p.parse_args()
    print_table(bench_gates(args.rows, args.repeats))


if __name__ == "__main__":
    main()
