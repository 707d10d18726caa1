"""The team store against the embedded one (and MLflow on the same PostgreSQL server).

    python benchmarks/bench_team.py [--record 1000] [--runs 10000] [--mlflow]

Starts its own throwaway PostgreSQL cluster (tests/pgserver.py), then, for SQLite and for
PostgreSQL in turn:

- records ``--record`` runs through the public API (start_run + 10 params + 10 metrics + end,
  then a flush): time per run;
- fills the store up to ``--runs`` runs and times ``runs()`` over all of them (target on
  PostgreSQL: < 1 s) and a filtered top-10.

With ``--mlflow`` it also times MLflow 3.x's tracking API (the same calls, and ``search_runs``
over as many runs) on a separate database of the same server, from a virtualenv of its own
(``benchmarks/.cache/mlflow-venv``, created on first use with ``pip install mlflow
psycopg2-binary``), and prints our PostgreSQL time as a ratio of MLflow's (target: <= 0.1x per
logged run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from report import median_seconds, print_table, result

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.pgserver, and this checkout's package

from tests.pgserver import PGServer  # noqa: E402

PARAMS = {f"p{i}": i for i in range(10)}


def _metrics(i: int) -> dict[str, float]:
    return {f"m{j}": (i * 7919 + j) % 1000 / 1000 for j in range(10)}


def _use(location: str) -> None:
    from jupyter_mlops.store import close_stores
    from jupyter_mlops.tracking import reset_default_tracker

    os.environ["JUPYTER_MLOPS_STORE"] = location
    close_stores()
    reset_default_tracker()


def _record(n: int) -> float:
    """Seconds per run to record ``n`` runs through the API, durably (flushed)."""
    import jupyter_mlops as mlops

    start = time.perf_counter()
    for i in range(n):
        with mlops.start_run(experiment="bench", seed=None) as run:
            run.log_params(PARAMS)
            run.log_metrics(_metrics(i))
    assert mlops.flush(timeout=600)
    return (time.perf_counter() - start) / n


def _fill(total: int) -> None:
    """Bulk-load runs like the recorded ones until the store holds ``total`` (untimed)."""
    import jupyter_mlops as mlops
    from jupyter_mlops.entities import RunKind, RunStatus
    from jupyter_mlops.store import RunStart, RunUpdate

    store = mlops.default_tracker().store
    have = len(store.search_run_ids())
    writes: list[Any] = []
    for i in range(have, total):
        rid, t = uuid.uuid4().hex, 1.7e9 + i
        writes.append(RunStart(rid, "bench", RunKind.SCRIPT, t))
        update = RunUpdate(
            params=PARAMS,
            metrics=[(k, v, 0, t) for k, v in _metrics(i).items()],
            status=RunStatus.FINISHED,
            ended=t + 1,
            duration=1.0,
        )
        writes.append((rid, update))
    for i in range(0, len(writes), 2000):
        store.write_batch(writes[i : i + 2000])
    if store.dialect.name == "postgresql":  # type: ignore[attr-defined]
        store._write(lambda c: c.execute("ANALYZE"))  # type: ignore[attr-defined]


def _queries(total: int) -> tuple[float, float]:
    import jupyter_mlops as mlops

    frame = mlops.runs(experiment="bench")
    assert len(frame) == total, len(frame)
    all_s = median_seconds(lambda: mlops.runs(experiment="bench"), 5, warmup=1)
    top_s = median_seconds(
        lambda: mlops.runs(
            experiment="bench", where="metrics.m3 > 0.5", order_by="metrics.m3 DESC", limit=10
        ),
        20,
        warmup=2,
    )
    return all_s, top_s


MLFLOW = """
import json, sys, time
import mlflow
from mlflow.entities import Metric, Param
uri, record, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("bench")
params = {f"p{i}": i for i in range(10)}
def metrics(i):
    return {f"m{j}": (i * 7919 + j) % 1000 / 1000 for j in range(10)}
start = time.perf_counter()
for i in range(record):
    with mlflow.start_run():
        mlflow.log_params(params)
        mlflow.log_metrics(metrics(i))
per_run = (time.perf_counter() - start) / record
c = mlflow.MlflowClient()
e = c.get_experiment_by_name("bench").experiment_id
for i in range(record, total):  # the fastest way MLflow's API offers: one batch per run
    r = c.create_run(e)
    t = int(time.time() * 1000)
    c.log_batch(r.info.run_id, params=[Param(k, str(v)) for k, v in params.items()],
                metrics=[Metric(k, v, t, 0) for k, v in metrics(i).items()])
    c.set_terminated(r.info.run_id)
t = time.perf_counter()
got = mlflow.search_runs(experiment_names=["bench"], max_results=100_000)
all_s = time.perf_counter() - t
assert len(got) == total, len(got)
t = time.perf_counter()
mlflow.search_runs(experiment_names=["bench"], filter_string="metrics.m3 > 0.5",
                   order_by=["metrics.m3 DESC"], max_results=10)
top_s = time.perf_counter() - t
print(json.dumps({"per_run": per_run, "all": all_s, "top": top_s}))
"""


def _mlflow_python() -> Path:
    venv = HERE / ".cache" / "mlflow-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(python), "-c", "import mlflow, psycopg2"]).returncode != 0:
        pip = [str(python), "-m", "pip", "install", "-q", "mlflow>=3,<4", "psycopg2-binary"]
        subprocess.run(pip, check=True)
    return python


def _mlflow(server: PGServer, record: int, total: int) -> dict[str, float]:
    # SQLAlchemy's driver named explicitly: MLflow's venv has psycopg2, not psycopg 3.
    url = server.create_database("mlflow_bench").replace("postgresql://", "postgresql+psycopg2://")
    out = subprocess.run(
        [str(_mlflow_python()), "-c", MLFLOW, url, str(record), str(total)],
        capture_output=True,
        text=True,
        env={**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"},
    )
    if out.returncode != 0:
        raise SystemExit(f"MLflow baseline failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run(record: int, total: int, with_mlflow: bool) -> list[dict[str, Any]]:
    server = PGServer()
    measured: dict[str, tuple[float, float, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for backend, location in (
                ("SQLite", str(Path(tmp) / ".mlops")),
                ("PostgreSQL", server.create_database("ours_bench")),
            ):
                _use(location)
                per_run = _record(record)
                _fill(total)
                measured[backend] = (per_run, *_queries(total))
            _use(str(Path(tmp) / "unused"))
        ml = _mlflow(server, record, total) if with_mlflow else None
    finally:
        server.stop()
    (sq_run, sq_all, sq_top), (pg_run, pg_all, pg_top) = measured["SQLite"], measured["PostgreSQL"]
    out = [
        result(f"record a run, PostgreSQL ({record:,} runs)", pg_run * 1e3, "ms", sq_run * 1e3,
               "-", None, f"SQLite {sq_run * 1e3:.2f} ms"),
        result(f"runs() all {total:,}, PostgreSQL", pg_all * 1e3, "ms", sq_all * 1e3, "< 1000 ms",
               pg_all < 1.0, f"SQLite {sq_all * 1e3:.0f} ms"),
        result("runs() filtered top-10, PostgreSQL", pg_top * 1e3, "ms", sq_top * 1e3, "-", None,
               f"SQLite {sq_top * 1e3:.1f} ms"),
    ]  # fmt: skip
    if ml is not None:
        out += [
            result("  record a run vs MLflow 3, same server", pg_run * 1e3, "ms",
                   ml["per_run"] * 1e3, "<= 0.1x", pg_run <= ml["per_run"] / 10,
                   f"MLflow {ml['per_run'] * 1e3:.1f} ms"),
            result(f"  runs() all {total:,} vs MLflow search_runs", pg_all * 1e3, "ms",
                   ml["all"] * 1e3, "-", None, f"MLflow {ml['all'] * 1e3:.0f} ms"),
            result("  top-10 vs MLflow search_runs", pg_top * 1e3, "ms", ml["top"] * 1e3, "-",
                   None, f"MLflow {ml['top'] * 1e3:.0f} ms"),
        ]  # fmt: skip
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--record", type=int, default=1000)
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--mlflow", action="store_true")
    args = p.parse_args()
    print_table(run(args.record, args.runs, args.mlflow))
