"""The background writer under a flood of metrics: peak memory and throughput of the bounded
queue (block briefly, then spill to the journal) against the unbounded queue it replaced,
measured in the same run.

    python benchmarks/bench_writer.py [--calls 10000000]

Each case is a fresh process (so its peak RSS is its own) logging ``--calls`` metrics in a tight
``run.log_metric`` loop into a new SQLite store, then waiting until every row is in the store
(counted). Two stores: a free one (the writer competes with the loop), and one whose write lock
another process holds for the whole loop (nothing drains: everything the writer cannot queue
must go somewhere). Targets: bounded peak RSS growth < 100 MB in both, every row arrives once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from report import print_table, result

ROOT = Path(__file__).resolve().parents[1]
RSS_TARGET_MB = 100.0

CHILD = textwrap.dedent("""
    import json, os, resource, sqlite3, subprocess, sys, time
    import jupyter_mlops as mlops

    calls, bounded, locked = int(sys.argv[1]), sys.argv[2] == "bounded", sys.argv[3] == "locked"
    tracker = mlops.default_tracker()
    if not bounded:
        tracker.writer.max_queued = 1 << 62  # the queue as it was: no bound
    run = tracker.start_run(experiment="flood", seed=None, probe_git=False)
    assert tracker.flush()
    db = tracker.store.workdir / "mlops.db"
    holder = None
    if locked:
        holder = subprocess.Popen(
            [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], "
             "isolation_level=None); c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); "
             "sys.stdin.readline()", str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True)
        assert holder.stdout.readline() == "locked\\n"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    for i in range(calls):
        run.log_metric("m", i, step=i)
    logged = time.perf_counter() - start
    if holder is not None:
        holder.stdin.write("\\n"); holder.stdin.flush(); holder.wait()
    run.end()
    assert tracker.flush()
    total = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    con = sqlite3.connect(db)
    rows, distinct = con.execute("SELECT COUNT(*), COUNT(DISTINCT step) FROM metrics").fetchone()
    print(json.dumps({
        "log_s": logged, "total_s": total, "rss_mb": (peak - before) / 1024,
        "rows": rows, "distinct": distinct, "spilled": tracker.writer.spilled,
    }))
""")


def _case(calls: int, queue: str, store: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, JUPYTER_MLOPS_STORE=str(Path(d) / ".mlops"))
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(calls), queue, store],
            capture_output=True,
            text=True,
            env=env,
            cwd=d,
            check=True,
        )
    found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{queue:9} {store:6} {found}", file=sys.stderr)
    return found


def run(calls: int = 10_000_000) -> list[dict[str, Any]]:
    results = []
    for store in ("free", "locked"):
        new = _case(calls, "bounded", store)
        old = _case(calls, "unbounded", store)
        complete = new["rows"] == new["distinct"] == calls
        results += [
            result(
                f"peak RSS growth, {calls / 1e6:g}M metrics, {store} store",
                new["rss_mb"],
                "MB",
                old["rss_mb"],
                f"< {RSS_TARGET_MB:g} MB",
                new["rss_mb"] < RSS_TARGET_MB and complete,
                note=f"baseline: unbounded queue; rows stored {new['rows']:,} of {calls:,}"
                f" ({new['spilled']} records spilled to the journal)",
            ),
            result(
                f"log_metric calls/s, {store} store",
                calls / new["log_s"],
                "1/s",
                calls / old["log_s"],
                "-",
                None,
            ),
            result(
                f"rows stored/s end to end, {store} store",
                calls / new["total_s"],
                "1/s",
                calls / old["total_s"],
                "-",
                None,
            ),
        ]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000_000)
    args = parser.parse_args()
    print_table(run(args.calls))


if __name__ == "__main__":
    main()
