"""A sweep on the warm kernel pool against bare papermill, on a short notebook.

    python benchmarks/bench_sweep.py [--runs 8] [--parallel 2]

- sweep: ``run_sweep`` of a promoted pipeline over ``runs`` values of one parameter, with
  ``parallel`` runs at once and ``parallel + 1`` kernels pre-started (each run a full pipeline
  run: params, tracking, output notebook, registry).
- baseline: the same notebook run ``runs`` times, one after the other, with bare
  ``papermill.execute_notebook`` (a kernel started per run). Target: the sweep >= 3x faster.
Both in the same process, on the same machine, one after the other.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from report import print_table, result, write_parameterized_notebook

TARGET = 3.0


def _notebook(path: Path) -> None:
    write_parameterized_notebook(path, "x: int = 0", "y = x * 2")


def run(runs: int = 8, parallel: int = 2) -> list[dict[str, Any]]:
    import papermill as pm

    from jupyter_mlops.pipeline import promote
    from jupyter_mlops.pipeline.spec import load_pipeline
    from jupyter_mlops.pipeline.sweep import run_sweep
    from jupyter_mlops.store import close_stores
    from jupyter_mlops.tracking import reset_default_tracker

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cwd = os.getcwd()
        os.chdir(root)
        os.environ["JUPYTER_MLOPS_STORE"] = str(root / ".mlops")
        reset_default_tracker()
        try:
            _notebook(root / "short.ipynb")
            promote(root / "short.ipynb", pipelines_dir=root / "pipelines")
            spec = load_pipeline("short", root / "pipelines")
            combos = [{"x": str(i)} for i in range(runs)]
            start = time.perf_counter()
            swept = run_sweep(spec, combos, parallel=parallel, progress=False)
            sweep_s = time.perf_counter() - start
            ok = sum(r.status == "finished" for r in swept.runs)
            start = time.perf_counter()
            for i in range(runs):
                pm.execute_notebook(
                    str(root / "short.ipynb"), str(root / f"out{i}.ipynb"),
                    parameters={"x": i}, progress_bar=False, cwd=str(root),
                )  # fmt: skip
            bare_s = time.perf_counter() - start
        finally:
            os.chdir(cwd)
            reset_default_tracker()
            close_stores()
    speedup = bare_s / sweep_s
    return [
        result(
            f"sweep: {runs} runs, warm pool, --parallel {parallel}",
            sweep_s,
            "s",
            bare_s,
            f">= {TARGET:g}x faster than sequential bare papermill",
            speedup >= TARGET and ok == runs,
            f"{speedup:.2f}x; {ok}/{runs} runs finished; cores: {os.cpu_count()}",
        )
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=8)
    p.add_argument("--parallel", type=int, default=2)
    args = p.parse_args()
    results = run(args.runs, args.parallel)
    print_table(results)
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
