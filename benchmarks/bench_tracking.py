"""Tracking overhead and query speed, each against a baseline measured in the same run.

    python benchmarks/bench_tracking.py [--runs 10000] [--no-mlflow]

- ``%%track`` on a trivial cell vs the same cell untracked (target: < 3 ms added);
- our start_run + 10 params + 10 metrics + end vs MLflow's on SQLite (target: <= 1/10 of MLflow)
  and vs raw SQLite inserting the same rows in one WAL transaction;
- ``runs()`` over N runs as a DataFrame (target < 0.5 s) and a filtered top-10 (< 50 ms) vs
  MLflow ``search_runs`` over the same N runs;
- ``import jupyter_mlops`` / ``%load_ext`` in a fresh process (< 300 ms) vs ``import mlflow``;
- a ``%%track`` cell while another process holds the store's write lock vs the same cell
  untracked (target: < 50 ms added; before the background writer it waited for the lock).
- ``%%track`` on a 20-assignment cell (< 3 ms; goal < 1.5 ms), a trailing-``;`` cell (< 3 ms), a
  plot cell under the inline backend (<= 50 ms) and the first tracked cell of a fresh session
  (< 150 ms), each vs the same cell untracked in the same run.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from report import median_seconds, print_table, result


def _median_ms(fn: Any, n: int, warmup: int = 5) -> float:
    return median_seconds(fn, n, warmup) * 1e3


HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"


def bench_track_overhead(n: int = 300) -> list[dict[str, Any]]:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    cfg = Config()
    cfg.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=cfg)
    shell.run_line_magic("load_ext", "jupyter_mlops")
    shell.display_pub.publish = lambda *a, **k: None  # measure tracking, not terminal printing
    plain = _median_ms(lambda: shell.run_cell("x = 1\ny = x + 1", store_history=True), n)
    tracked = _median_ms(
        lambda: shell.run_cell("%%track -e bench\nx = 1\ny = x + 1", store_history=True), n
    )
    added = tracked - plain
    return [
        result(
            "%%track added per trivial cell",
            added,
            "ms",
            None,
            "< 3 ms",
            added < 3,
            f"untracked cell {plain:.3f} ms, tracked {tracked:.3f} ms",
        )
    ]


def _our_equivalent_ms(n: int) -> float:
    import jupyter_mlops as mlops

    params = {f"p{i}": i for i in range(10)}
    metrics = {f"m{i}": i / 10 for i in range(10)}

    def one() -> None:
        with mlops.start_run(experiment="bench", seed=None) as run:
            run.log_params(params)
            run.log_metrics(metrics)
        mlops.flush()  # durable, like MLflow's: in IPython the end alone does not wait

    return _median_ms(one, n)


def _raw_sqlite_ms(n: int, path: Path) -> float:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE IF NOT EXISTS r (id TEXT, started REAL)")
    con.execute("CREATE TABLE IF NOT EXISTS kv (run TEXT, k TEXT, v TEXT)")

    def one() -> None:
        rid = uuid.uuid4().hex
        con.execute("BEGIN")
        con.execute("INSERT INTO r VALUES (?, ?)", (rid, time.time()))
        con.executemany(
            "INSERT INTO kv VALUES (?, ?, ?)", [(rid, f"k{i}", str(i)) for i in range(20)]
        )
        con.execute("COMMIT")

    return _median_ms(one, n)


def _mlflow_ms(n: int, uri: str) -> float:
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench")
    params = {f"p{i}": i for i in range(10)}
    metrics = {f"m{i}": i / 10 for i in range(10)}

    def one() -> None:
        with mlflow.start_run():
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)

    return _median_ms(one, n, warmup=3)


def bench_run_logging(n: int, with_mlflow: bool, tmp: Path) -> list[dict[str, Any]]:
    ours = _our_equivalent_ms(n)
    raw = _raw_sqlite_ms(n, tmp / "raw.db")
    out = [
        result(
            "start_run + 10 params + 10 metrics + end",
            ours,
            "ms",
            raw,
            "-",
            None,
            f"raw SQLite same rows one txn: {raw:.3f} ms",
        )
    ]
    if with_mlflow:
        ml = _mlflow_ms(max(20, n // 10), f"sqlite:///{tmp / 'mlflow-log.db'}")
        out.append(
            result(
                "  vs MLflow (same calls, SQLite backend)",
                ours,
                "ms",
                ml,
                "<= 0.1x",
                ours <= ml / 10,
                f"MLflow {ml:.2f} ms per run",
            )
        )
    return out


def _fill_ours(n: int) -> None:
    import jupyter_mlops as mlops

    params = {f"p{i}": i for i in range(10)}
    for i in range(n):
        with mlops.start_run(experiment="search", seed=None) as run:
            run.log_params(params)
            run.log_metrics({f"m{j}": (i * 7919 + j) % 1000 / 1000 for j in range(10)})


def _mlflow_db(n: int) -> Path:
    """An MLflow SQLite store holding ``n`` runs like ours (built once, then cached)."""
    path = CACHE / f"mlflow-{n}.db"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    code = (
        "import mlflow,sys\nmlflow.set_tracking_uri(sys.argv[1])\nmlflow.set_experiment('search')\n"
        "from mlflow.entities import Metric, Param\nc = mlflow.MlflowClient()\n"
        "e = c.get_experiment_by_name('search').experiment_id\nimport time\n"
        "for i in range(int(sys.argv[2])):\n"
        "    r = c.create_run(e)\n"
        "    t = int(time.time() * 1000)\n"
        "    c.log_batch(r.info.run_id, params=[Param(f'p{j}', str(j)) for j in range(10)],\n"
        "        metrics=[Metric(f'm{j}', (i * 7919 + j) % 1000 / 1000, t, 0)\n"
        "                 for j in range(10)])\n"
        "    c.set_terminated(r.info.run_id)\n"
    )
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp}", str(n)], check=True)
    tmp.rename(path)
    return path


def bench_queries(n: int, with_mlflow: bool) -> list[dict[str, Any]]:
    import jupyter_mlops as mlops

    _fill_ours(n)
    all_ms = _median_ms(lambda: mlops.runs(experiment="search"), 5, warmup=1)
    top_ms = _median_ms(
        lambda: mlops.runs(
            experiment="search", where="metrics.m3 > 0.5", order_by="metrics.m3 DESC", limit=10
        ),
        20,
        warmup=2,
    )
    ml_all = ml_top = None
    if with_mlflow:
        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{_mlflow_db(n)}")
        t = time.perf_counter()
        got = mlflow.search_runs(experiment_names=["search"], max_results=100_000)
        ml_all = (time.perf_counter() - t) * 1e3
        assert len(got) == n, len(got)
        t = time.perf_counter()
        mlflow.search_runs(
            experiment_names=["search"],
            filter_string="metrics.m3 > 0.5",
            order_by=["metrics.m3 DESC"],
            max_results=10,
        )
        ml_top = (time.perf_counter() - t) * 1e3
    return [
        result(
            f"runs() all {n:,} as DataFrame",
            all_ms,
            "ms",
            ml_all,
            "< 500 ms",
            all_ms < 500,
            f"MLflow search_runs {ml_all:.0f} ms" if ml_all else "",
        ),
        result(
            "runs() filtered top-10",
            top_ms,
            "ms",
            ml_top,
            "< 50 ms",
            top_ms < 50,
            f"MLflow {ml_top:.0f} ms" if ml_top else "",
        ),
    ]


def _fresh_process_ms(code: str, n: int = 5) -> float:
    env = dict(os.environ, JUPYTER_MLOPS_STORE=tempfile.mkdtemp())
    times = []
    for _ in range(n):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times)


def bench_import(with_mlflow: bool) -> list[dict[str, Any]]:
    timer = "import time; t = time.perf_counter(); {}; print((time.perf_counter() - t) * 1e3)"
    ours = _fresh_process_ms(timer.format("import jupyter_mlops"))
    load = _fresh_process_ms(
        "from IPython.core.interactiveshell import InteractiveShell; ip = InteractiveShell."
        "instance(); " + timer.format("ip.run_line_magic('load_ext', 'jupyter_mlops')")
    )
    ml = _fresh_process_ms(timer.format("import mlflow"), 3) if with_mlflow else None
    return [
        result(
            "import jupyter_mlops",
            ours,
            "ms",
            ml,
            "< 300 ms",
            ours < 300,
            f"import mlflow {ml:.0f} ms" if ml else "",
        ),
        result("%load_ext jupyter_mlops", load, "ms", None, "< 300 ms", load < 300),
    ]


_LOCK_HOLDER = (
    "import select, sqlite3, sys\n"
    "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "con.execute('BEGIN IMMEDIATE')\n"
    "print('locked', flush=True)\n"
    "select.select([sys.stdin], [], [], 60)\n"
    "con.execute('ROLLBACK')\n"
)


def bench_contended_cell(n: int = 5, cell_seconds: float = 0.2) -> list[dict[str, Any]]:
    """A tracked cell while a plain sqlite3 connection in another process holds the store's
    write lock (a scheduler writing, a pipeline registering its model, a gc)."""
    from IPython.core.interactiveshell import InteractiveShell

    import jupyter_mlops as mlops

    shell = InteractiveShell.instance()
    if "track" not in shell.magics_manager.magics["cell"]:
        shell.run_line_magic("load_ext", "jupyter_mlops")
    shell.display_pub.publish = lambda *a, **k: None
    body = f"import time\ntime.sleep({cell_seconds})\nacc = 0.5"
    shell.run_cell("%%track -e contended\n" + body, store_history=True)  # store open, warm
    mlops.flush()
    db = Path(mlops.default_tracker().store.location)
    plain = median_seconds(lambda: shell.run_cell(body, store_history=True), n) * 1e3
    holder = subprocess.Popen(
        [sys.executable, "-c", _LOCK_HOLDER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "locked"
    try:
        cell = "%%track -e contended\n" + body
        tracked = median_seconds(lambda: shell.run_cell(cell, store_history=True), n, 0) * 1e3
        still_locked = holder.poll() is None
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    released = time.perf_counter()
    written = mlops.flush(timeout=60)
    drain_ms = (time.perf_counter() - released) * 1e3
    added = tracked - plain
    return [
        result(
            "%%track added while the store is locked",
            added,
            "ms",
            None,
            "< 50 ms",
            added < 50 and still_locked and written,
            f"untracked {plain:.1f} ms, tracked under the lock {tracked:.1f} ms "
            f"({n} cells); queued runs written {drain_ms:.0f} ms after the lock was released",
        )
    ]


TWENTY_ASSIGNMENTS = "\n".join(
    [f"i{k} = {k * 7}" for k in range(10)] + [f"f{k} = {k * 0.37:.2f}" for k in range(10)]
)
SEMICOLON = "values = [1, 2, 3]\nsum(values);"
PLOT = "fig, ax = plt.subplots(figsize=(4, 3))\nax.plot([1, 3, 2, 5])\nax.set_title('t');"


def _paired_ms(shell: Any, cell: str, n: int, line: str = "%%track -e b") -> tuple[float, float]:
    """Median ms of ``cell`` untracked and tracked, alternating so both see the same machine."""
    plain, tracked = [], []
    for i in range(n + 3):
        t = time.perf_counter()
        shell.run_cell(cell, store_history=True)
        a = time.perf_counter() - t
        t = time.perf_counter()
        shell.run_cell(f"{line}\n{cell}", store_history=True)
        b = time.perf_counter() - t
        if i >= 3:  # warm-up
            plain.append(a)
            tracked.append(b)
    return statistics.median(plain) * 1e3, statistics.median(tracked) * 1e3


def _bench_shell() -> Any:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    cfg = Config()
    cfg.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=cfg)
    shell.run_line_magic("load_ext", "jupyter_mlops")
    return shell


def bench_cell_kinds(n: int = 100) -> list[dict[str, Any]]:
    """Added time of ``%%track`` on a 20-assignment cell, a trailing-``;`` cell and a plot cell
    (inline backend: the figure is rendered once, for the front-end, and that PNG is stored)."""
    shell = _bench_shell()
    pub = shell.display_pub
    pub.publish = lambda *a, **k: None  # measure tracking, not terminal printing
    out = []
    for label, cell, target in (
        ("20-assignment cell", TWENTY_ASSIGNMENTS, 3.0),
        ("trailing-; cell", SEMICOLON, 3.0),
    ):
        plain, tracked = _paired_ms(shell, cell, n)
        added = tracked - plain
        out.append(
            result(
                f"%%track added per {label}",
                added,
                "ms",
                None,
                f"< {target:g} ms",
                added < target,
                f"untracked {plain:.3f} ms, tracked {tracked:.3f} ms",
            )
        )
    import matplotlib
    from matplotlib_inline.backend_inline import configure_inline_support

    inline = "module://matplotlib_inline.backend_inline"
    matplotlib.use(inline)  # what %matplotlib inline does in a kernel
    matplotlib.interactive(True)
    configure_inline_support(shell, inline)
    shell.run_cell("import matplotlib.pyplot as plt", store_history=True)
    plain, tracked = _paired_ms(shell, PLOT, max(10, n // 5))
    added = tracked - plain
    out.append(
        result(
            "%%track added per plot cell (inline)",
            added,
            "ms",
            None,
            "<= 50 ms",
            added <= 50,
            f"untracked {plain:.1f} ms, tracked {tracked:.1f} ms",
        )
    )
    return out


_FIRST_CELL = """
import sys, time
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
ip.display_pub.publish = lambda *a, **k: None
ip.run_cell("import numpy as np, pandas as pd, matplotlib.pyplot as plt, sklearn.linear_model")
ip.run_line_magic("load_ext", "jupyter_mlops")
ip.run_cell("X = pd.DataFrame(np.ones((1000, 4)), columns=list('abcd'))", store_history=True)
cell = "C = 0.5\\nscore = float(X['a'].sum())"
t = time.perf_counter(); ip.run_cell(cell, store_history=True); plain = time.perf_counter() - t
t = time.perf_counter(); ip.run_cell("%%track -e first\\n" + cell, store_history=True)
print(plain * 1e3, (time.perf_counter() - t) * 1e3)
"""


def bench_first_cell(repeats: int = 3) -> list[dict[str, Any]]:
    """The first tracked cell of a fresh kernel-like process vs the same cell untracked just
    before it; with the package-version cache on disk (every kernel but the first after an
    install) and without it."""
    out = []
    for label, cold in (("cached package list", False), ("cold package list", True)):
        added, plain = [], []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as d:
                env = dict(os.environ, JUPYTER_MLOPS_STORE=str(Path(d) / ".mlops"))
                if cold:
                    env["XDG_CACHE_HOME"] = d
                got = subprocess.run(
                    [sys.executable, "-c", _FIRST_CELL],
                    capture_output=True,
                    text=True,
                    env=env,
                    cwd=d,
                    check=True,
                )
                a, b = map(float, got.stdout.split()[-2:])
                plain.append(a)
                added.append(b - a)
        value = statistics.median(added)
        out.append(
            result(
                f"first %%track cell of a session ({label})",
                value,
                "ms",
                None,
                "< 150 ms",
                value < 150,
                f"untracked cell {statistics.median(plain):.2f} ms",
            )
        )
    return out


def run(runs: int = 10_000, with_mlflow: bool = True) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as d:
        os.environ["JUPYTER_MLOPS_STORE"] = str(Path(d) / ".mlops")
        from jupyter_mlops.tracking import reset_default_tracker

        reset_default_tracker()
        if with_mlflow:
            import logging

            logging.getLogger("mlflow").setLevel(logging.ERROR)
            logging.getLogger("alembic").setLevel(logging.ERROR)
        results = bench_track_overhead()
        results += bench_cell_kinds()
        results += bench_first_cell()
        results += bench_run_logging(300, with_mlflow, Path(d))
        results += bench_queries(runs, with_mlflow)
        results += bench_import(with_mlflow)
        results += bench_contended_cell()
        return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--no-mlflow", action="store_true")
    args = p.parse_args()
    print_table(run(args.runs, not args.no_mlflow))


if __name__ == "__main__":
    main()
