"""Run every benchmark and print one table; the results also go to benchmarks/results/latest.json.

    python benchmarks/run_all.py [--quick]

The default is the full-size run that proves the targets in DESIGN.md (10,000 runs with MLflow as
the baseline, 10M-row fingerprints, 5 alternating pipeline/papermill repeats, a REST API over
100,000 runs). ``--quick`` uses small sizes (2,000 runs, no MLflow, 1M rows, 2 repeats, 10,000
runs behind the API) to check that everything still works in a few minutes; its figures are
indicative only. A benchmark that crashes is reported as a
failed row and the others still run. Exit code: 0 when every target passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the bench_* modules import each other and `report` by name
    sys.path.insert(0, str(HERE))

import bench_canary  # noqa: E402
import bench_changes  # noqa: E402
import bench_charts  # noqa: E402
import bench_drift  # noqa: E402
import bench_evaluate  # noqa: E402
import bench_fingerprint  # noqa: E402
import bench_first_open  # noqa: E402
import bench_frameworks  # noqa: E402
import bench_gates  # noqa: E402
import bench_kernel  # noqa: E402
import bench_notify  # noqa: E402
import bench_panel  # noqa: E402
import bench_pipeline  # noqa: E402
import bench_predict  # noqa: E402
import bench_reproduce  # noqa: E402
import bench_scheduler  # noqa: E402
import bench_server  # noqa: E402
import bench_sweep  # noqa: E402
import bench_team  # noqa: E402
import bench_tracking  # noqa: E402
import bench_writer  # noqa: E402
from report import print_table  # noqa: E402

RESULTS = HERE / "results" / "latest.json"


def suites(quick: bool) -> list[tuple[str, Callable[[], list[dict[str, Any]]]]]:
    runs, rows, repeats = (2_000, 1_000_000, 2) if quick else (10_000, 10_000_000, 5)
    gates: Callable[[], list[dict[str, Any]]] = getattr(bench_gates, "run", bench_gates.bench_gates)
    return [
        ("tracking", lambda: bench_tracking.run(runs=runs, with_mlflow=not quick)),
        (
            "kernel",
            lambda: bench_kernel.run(
                pairs=100 if quick else 400, kernels=2 if quick else 3, spaced=0 if quick else 5
            ),
        ),
        ("fingerprint", lambda: bench_fingerprint.run(rows=rows)),
        ("pipeline", lambda: bench_pipeline.run(repeats=repeats, gates=False)),
        ("gates", gates),
        ("server", lambda: bench_server.run(runs=10_000 if quick else 100_000)),
        ("scheduler", lambda: bench_scheduler.run(idle_seconds=10.0)),
        ("drift", lambda: bench_drift.run(quick=quick)),
        ("predict", lambda: bench_predict.run(quick)),
        ("evaluate", lambda: bench_evaluate.run(quick)),
        ("canary", lambda: bench_canary.run(quick)),
        ("panel", lambda: bench_panel.run(runs=10_000 if quick else 100_000)),
        ("first open", lambda: bench_first_open.run(runs=10_000 if quick else 100_000)),
        ("changes", lambda: bench_changes.run(runs=10_000 if quick else 100_000)),
        ("charts", lambda: bench_charts.run(repeats=2 if quick else 5)),
        ("reproduce", lambda: bench_reproduce.run(repeats=repeats)),
        ("sweep", lambda: bench_sweep.run(runs=8, parallel=2)),
        ("team", lambda: bench_team.run(record=1000, total=runs, with_mlflow=not quick)),
        ("writer", lambda: bench_writer.run(calls=1_000_000 if quick else 10_000_000)),
        ("notify", lambda: bench_notify.run(repeats=1 if quick else 3)),
        ("frameworks", lambda: bench_frameworks.run(quick, with_mlflow=not quick)),
    ]


def _run_suite(name: str, fn: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One suite's results, tagged with its name; a crash becomes one failed row."""
    saved = os.environ.get("JUPYTER_MLOPS_STORE")
    start = time.perf_counter()
    try:
        results = fn()
    except Exception as e:  # keep going: one broken benchmark must not hide the others
        traceback.print_exc()
        results = [
            {
                "name": f"{name}: crashed",
                "value": None,
                "unit": "",
                "baseline": None,
                "ratio": None,
                "target": "-",
                "passed": False,
                "note": f"{type(e).__name__}: {e}"[:300],
            }
        ]
    finally:
        # benchmarks point the default tracker at temporary stores; don't leak one into the next
        from jupyter_mlops.tracking import reset_default_tracker

        if saved is None:
            os.environ.pop("JUPYTER_MLOPS_STORE", None)
        else:
            os.environ["JUPYTER_MLOPS_STORE"] = saved
        reset_default_tracker()
    seconds = time.perf_counter() - start
    print(f"[{name}] {len(results)} results in {seconds:.1f} s", file=sys.stderr, flush=True)
    return [{"suite": name, **r} for r in results]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes, no MLflow (~2 minutes)")
    p.add_argument("--output", type=Path, default=RESULTS, help=f"JSON file (default {RESULTS})")
    args = p.parse_args()

    started = dt.datetime.now(dt.timezone.utc)
    start = time.perf_counter()
    results: list[dict[str, Any]] = []
    for name, fn in suites(args.quick):
        print(f"[{name}] running ...", file=sys.stderr, flush=True)
        results += _run_suite(name, fn)
    total = time.perf_counter() - start

    print()
    print_table(results)
    failed = [r["name"].strip() for r in results if r.get("passed") is False]
    checked = sum(r.get("passed") is not None for r in results)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "started": started.isoformat(timespec="seconds"),
        "quick": args.quick,
        "seconds": round(total, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "passed": not failed,
        "results": results,
    }
    args.output.write_text(json.dumps(payload, indent=2, default=str) + "\n")

    print()
    print(
        f"{checked - len(failed)}/{checked} targets passed"
        + (f"; failed: {failed}" if failed else "")
    )
    print(f"results written to {args.output}")
    print(f"total wall time {total:.1f} s" + (" (--quick: indicative sizes)" if args.quick else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
