"""``store migrate`` of a large local store, against a raw copy of the same files in the same run.

    python benchmarks/bench_migrate.py [--runs 10000] [--batch 1000] [--target URL]

A store of N runs (5 params, 3 metrics x 10 steps, 2 tags each; an artifact every 10th run),
a pipeline with gate results and a model blessed, re-blessed and rolled back, is copied to a
fresh store (SQLite in a temp dir by default; ``--target postgresql://…`` for a team server).
Reported: runs/s and rows/s of the copy with its verification, the second (idempotent) run,
a second person's store of N runs merged into the now non-empty target (its metrics and logs
looked up by content there, against the first copy), ``runs()`` on the copy against the source,
and the same bytes copied raw (SQLite's backup API
plus the artifact files) as the floor a row-by-row, verified copy is compared with.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from report import median_seconds, print_table, result

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

T0 = 1_700_000_000.0


def build_source(directory: Path, n: int, first: int = 0, model: str = "m") -> Any:
    from jupyter_mlops.entities import Artifact, GateResult, GateStatus, RunKind, RunStatus
    from jupyter_mlops.store import RunStart, RunUpdate, open_store

    store = open_store(directory)
    writes: list[Any] = []
    for i in range(n):
        rid = uuid.UUID(int=first + i + 1).hex
        started = T0 + i
        writes.append(RunStart(rid, f"exp{i % 5}", RunKind.SCRIPT, started, name=f"run {i}"))
        update = RunUpdate(
            params={"lr": 0.1 / (i + 1), "depth": i % 7, "opt": "adam", "seed": i, "n": 100},
            metrics=[
                (key, 1.0 / (s + i + 1), s, started + s)
                for key in ("loss", "acc", "f1")
                for s in range(10)
            ],
            tags={"team": "ml", "stage": "dev" if i % 2 else "prod"},
            status=RunStatus.FINISHED,
            ended=started + 10,
            duration=10.0,
        )
        if i % 10 == 0:
            sha, size, uri = store.artifacts.put_bytes(f"artifact {i} ".encode() * 500)
            update.artifacts.append(Artifact("model", "model", sha, size, uri))
        writes.append((rid, update))
        if len(writes) >= 2000:
            store.write_batch(writes)
            writes = []
    store.write_batch(writes)
    store.save_pipeline("train", {"notebook": "t.ipynb"}, "t.ipynb", "ab", "0 3 * * *")
    for v in range(3):
        rid = uuid.UUID(int=first + v * 10 + 1).hex
        run = store.get_run(rid)
        art = run.artifacts[0]
        store.save_gate_results(rid, [GateResult("auc", "metric", GateStatus.PASS, 0.9)])
        store.register_model(model, rid, art.uri, art.sha256, art.size, {"auc": 0.9}, [], "train")
        store.bless_model(model, v + 1)
    store.rollback_model(model)
    return store


def raw_copy(src: Path, dst: Path) -> float:
    start = time.perf_counter()
    dst.mkdir(parents=True)
    with sqlite3.connect(src / "mlops.db") as a, sqlite3.connect(dst / "mlops.db") as b:
        a.backup(b)
    shutil.copytree(src / "artifacts", dst / "artifacts")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument(
        "--target",
        help="target store URL, or 'postgresql' for a throwaway PostgreSQL server started here "
        "(tests/pgserver.py); default: a fresh SQLite store",
    )
    args = ap.parse_args()
    server = None
    if args.target == "postgresql":
        from tests.pgserver import PGServer

        server = PGServer()
        args.target = server.create_database("migrate_bench")
    try:
        _run(args)
    finally:
        if server is not None:
            server.stop()


def _run(args: argparse.Namespace) -> None:

    from jupyter_mlops.store import open_store
    from jupyter_mlops.store.migrate import migrate_store

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        source = build_source(root / "source", args.runs)
        print(f"built a source of {args.runs} runs in {time.perf_counter() - t:.1f} s")
        # The target's blobs apart from the source's (a server store's default is the cwd's).
        target = open_store(args.target or root / "target", artifacts=str(root / "target-blobs"))

        t = time.perf_counter()
        report = migrate_store(source, target, batch=args.batch)
        first = time.perf_counter() - t
        assert report.ok, report.problems
        t = time.perf_counter()
        again = migrate_store(source, target, batch=args.batch)
        second = time.perf_counter() - t
        assert again.ok and again.rows_copied == 0, again.problems
        listing_source = median_seconds(source.runs_frame, 3)
        listing = median_seconds(target.runs_frame, 3)
        assert len(target.runs_frame()) == args.runs
        other = build_source(root / "other", args.runs, first=args.runs, model="m2")
        t = time.perf_counter()
        merged = migrate_store(other, target, batch=args.batch)
        merge = time.perf_counter() - t
        assert merged.ok and merged.rows_copied > 0, merged.problems
        assert len(target.runs_frame()) == 2 * args.runs
        raw = raw_copy(root / "source", root / "raw")

    rows = report.rows_copied
    print(
        f"migrated {args.runs} runs ({rows} rows, {report.artifacts_copied} artifacts) in "
        f"{first:.2f} s: {args.runs / first:,.0f} runs/s, {rows / first:,.0f} rows/s, verified"
    )
    print_table(
        [
            result(
                f"migrate {args.runs} runs (verified)",
                first,
                "s",
                raw,
                "-",
                None,
                f"{args.runs / first:,.0f} runs/s; baseline: raw file copy",
            ),
            result(
                "second migrate (re-reads and compares)",
                second,
                "s",
                first,
                "0 rows",
                again.rows_copied == 0,
                f"{again.rows_copied} rows copied",
            ),
            result(
                f"merge {args.runs} more runs (verified)",
                merge,
                "s",
                first,
                "<= 1.5x",
                merge <= 1.5 * first,
                f"{args.runs / merge:,.0f} runs/s; baseline: the first copy, into an empty store",
            ),
            result(
                "runs() on the copy",
                listing,
                "s",
                listing_source,
                "<= 1.2x",
                listing <= 1.2 * listing_source,
                "baseline: runs() on the source",
            ),
        ]
    )


if __name__ == "__main__":
    main()
