"""The cost of one look at the store for live updates (``store.change_marks()``), which the
Jupyter server makes every 0.5 s while a panel is open, over a store of 100,000 runs.

    python benchmarks/bench_changes.py [--runs 100000]

Baseline: the naive question, ``SELECT count(*), max(ended) FROM runs`` (a scan of every run).
Target: under 1 ms a look, so that polling costs the server under 0.2 % of a core. SQLite's
query plans are printed: no probe of ``runs`` may scan the table (the small tables of
models, monitors and pipelines are read whole).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from report import median_seconds, print_table, result

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def run(runs: int = 100_000, repeats: int = 200) -> list[dict[str, Any]]:
    from bench_server import _store

    from jupyter_mlops.store import open_store
    from jupyter_mlops.store.sql_changes import _PROBES

    store: Any = open_store(str(_store(runs)))
    look = median_seconds(store.change_marks, repeats, warmup=5) * 1000

    def naive() -> None:
        with store._read() as conn:
            conn.execute("SELECT count(*), max(ended) FROM runs").fetchone()

    scan = median_seconds(naive, max(5, repeats // 10), warmup=1) * 1000
    with store._read() as conn:
        plans = [
            " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            for probes in _PROBES.values()
            for sql in probes
        ]
    # "SCAN runs USING INDEX runs_started" is the newest run: an index walk that stops at once.
    scans = [p for p in plans if p.startswith("SCAN runs") and "INDEX" not in p]
    return [
        result(
            f"Live updates: one look at the store, {runs:,} runs (SQLite)",
            look,
            "ms",
            scan,
            "< 1 ms",
            look < 1.0 and not scans,
            f"naive count(*) scan {scan:.1f} ms; plans: {'; '.join(plans)}",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args()
    print_table(run(args.runs))


if __name__ == "__main__":
    main()
