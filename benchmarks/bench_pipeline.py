"""Pipeline overhead and gate speed, each against a baseline measured in the same run.

    python benchmarks/bench_pipeline.py [--repeats 5] [--rows 100000]

- a full pipeline run (``PipelineRunner.run``: typed params, code-hash check, papermill execution
  with the injected tracking cell, gates incl. no-regression against the blessed model, registry,
  bless, gate report) vs bare ``papermill.execute_notebook`` on the same short scikit-learn
  training notebook (target: pipeline <= 1.15x papermill). The two alternate, ``repeats`` times
  each after one warm-up each, and the medians are compared. The notebook is generated at
  benchmark time in a temporary project; the bare variant replaces ``mlops.log_*`` with local
  pickling (papermill has no run to log into), so both do the same training and persisting work;
- where the pipeline's extra time goes (median per phase, and per-cell kernel time from the two
  output notebooks' papermill metadata);
- 20 gates evaluated without model scoring (``bench_gates``; target < 50 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from report import print_table, result

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 1.15
PIPELINE = "bench-train"

PARAMETERS = """\
C: float = 1.0  # inverse regularisation strength
max_iter: int = 500  # solver iterations
test_size: float = 0.25  # share of rows held out for validation"""

PIPELINE_SETUP = "import jupyter_mlops as mlops"

# The bare-papermill variant: the same calls, persisted by pickling into the working directory.
BARE_SETUP = """\
import pickle
import types


def _dump(obj, path):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)


_metrics = {}
mlops = types.SimpleNamespace(
    log_metric=lambda key, value: _metrics.__setitem__(key, float(value)),
    log_model=lambda model, name="model": _dump(model, f"{name}.pkl"),
    log_validation_data=lambda X, y: _dump((X, y), "validation.pkl"),
)"""

BODY = [
    """\
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_val, y_train, y_val = train_test_split(
    X, y, test_size=test_size, random_state=0, stratify=y
)""",
    """\
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))
model.fit(X_train, y_train)""",
    """\
from sklearn.metrics import accuracy_score, roc_auc_score

accuracy = accuracy_score(y_val, model.predict(X_val))
roc_auc = roc_auc_score(y_val, model.predict_proba(X_val)[:, 1])
mlops.log_metric("accuracy", accuracy)
mlops.log_metric("roc_auc", roc_auc)
print(f"accuracy {accuracy:.4f}  roc_auc {roc_auc:.4f}")""",
    """\
mlops.log_validation_data(X_val, y_val)
mlops.log_model(model)""",
]

GATES: list[dict[str, Any]] = [
    {"kind": "metric", "metric": "accuracy", "min": 0.9},
    {"kind": "metric", "metric": "roc_auc", "min": 0.95},
    {"kind": "no_regression", "metric": "roc_auc", "abs_tolerance": 0.005},
    {"kind": "no_regression", "metric": "accuracy", "rel_tolerance": 0.01},
    {"kind": "meta", "metric": "duration_s", "max": 600},
    {"kind": "meta", "metric": "model_size_mb", "max": 5},
    {"kind": "meta", "metric": "latency_ms_per_row", "max": 1},
]

RUN_PARAMS = {"C": "0.5", "max_iter": "300"}  # as typed on the command line (-p key=value)
PM_PARAMS = {"C": 0.5, "max_iter": 300}


def write_notebook(path: Path, setup: str) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(setup)]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in BODY]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


# --- phase timing -------------------------------------------------------------------------------


class _Phases:
    """Accumulates wall time per phase of one pipeline run (wrapping the runner's steps)."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.runs: list[dict[str, float]] = []

    def wrap(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.current[phase] += time.perf_counter() - start

        return timed

    def close(self, total: float, keep: bool) -> None:
        if keep:
            self.runs.append({**self.current, "total": total})
        self.current = defaultdict(float)

    def medians(self) -> dict[str, float]:
        return {k: statistics.median(r.get(k, 0.0) for r in self.runs) for k in self.runs[0]}


class _TimedEngine:
    def __init__(self, engine: Any, phases: _Phases) -> None:
        self.execute = phases.wrap("execute", engine.execute)


@contextmanager
def _instrumented(runner: Any, phases: _Phases) -> Iterator[None]:
    """Time the runner's phases: the module functions it calls are wrapped for the duration."""
    from jupyter_mlops.pipeline import gating as gating_mod

    runner.engine = _TimedEngine(runner.engine, phases)
    runner._attempt = phases.wrap("attempt", runner._attempt)
    runner._gate_and_register = phases.wrap("gate_and_register", runner._gate_and_register)
    saved = {n: getattr(gating_mod, n) for n in ("build_context", "evaluate_gates")}
    for name, fn in saved.items():
        setattr(gating_mod, name, phases.wrap(name, fn))
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(gating_mod, name, fn)


# What the injected first cell costs, step by step, in a fresh interpreter like the kernel's:
# importing the kernel module, init() (store, ambient run, seeding), and the first environment
# capture, which the post-cell hook does after the injected cell itself.
_INIT_PROBE = """\
import json, sys, time
t0 = time.perf_counter()
import jupyter_mlops.pipeline.in_kernel as k
t1 = time.perf_counter()
k.init(run_id=sys.argv[1], seed=0, store=sys.argv[2], notebook=sys.argv[3])
t2 = time.perf_counter()
from jupyter_mlops.tracking.environment import current_environment
current_environment()
t3 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2]))
"""


def _kernel_init_breakdown(
    tracker: Any, store_dir: Path, notebook: Path, n: int = 3
) -> list[float] | None:
    """Median seconds of (import kernel module, init(), first environment capture)."""
    import json
    import subprocess

    from jupyter_mlops.entities import RunKind, RunStatus

    run = tracker.start_run(experiment="bench-init-probe", kind=RunKind.PIPELINE, seed=0)
    try:
        samples = []
        for _ in range(n):
            out = subprocess.run(
                [sys.executable, "-c", _INIT_PROBE, run.id, str(store_dir), str(notebook)],
                capture_output=True,
                text=True,
                check=True,
                cwd=notebook.parent,
            )
            samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    except (subprocess.CalledProcessError, ValueError, IndexError):
        return None
    finally:
        run.end(RunStatus.FINISHED)
    return [statistics.median(s[i] for s in samples) for i in range(3)]


def _cell_seconds(path: Path) -> list[float]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return [c.metadata.get("papermill", {}).get("duration") or 0.0 for c in nb.cells]


# --- the comparison -----------------------------------------------------------------------------


def bench_pipeline_vs_papermill(repeats: int = 5) -> list[dict[str, Any]]:
    import logging

    import papermill as pm

    from jupyter_mlops.config import load_settings
    from jupyter_mlops.pipeline import promote
    from jupyter_mlops.pipeline.runner import PipelineRunner
    from jupyter_mlops.pipeline.spec import load_spec
    from jupyter_mlops.tracking import Tracker, reset_default_tracker

    logging.getLogger("papermill").setLevel(logging.WARNING)
    saved_env = os.environ.get("JUPYTER_MLOPS_STORE")
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as d:
        project = Path(d) / "project"
        store_dir = project / ".mlops"
        (project / "pyproject.toml").parent.mkdir(parents=True)
        (project / "pyproject.toml").write_text("[project]\nname = 'bench'\n")
        os.environ["JUPYTER_MLOPS_STORE"] = str(store_dir)
        reset_default_tracker()
        try:
            nb = write_notebook(project / "train.ipynb", PIPELINE_SETUP)
            bare_dir = Path(d) / "bare"
            bare_nb = write_notebook(bare_dir / "train.ipynb", BARE_SETUP)
            spec_path = promote(
                nb, name=PIPELINE, gates=GATES, pipelines_dir=project / "pipelines"
            ).path
            spec = load_spec(spec_path)
            tracker = Tracker.from_settings(load_settings(store_dir, start=project))
            runner = PipelineRunner(tracker, progress=False)
            phases = _Phases()
            pipe_times: list[float] = []
            bare_times: list[float] = []
            pipe_cells: list[list[float]] = []  # papermill's per-cell durations, per run
            bare_cells: list[list[float]] = []
            last: Any = None
            bare_out = bare_dir / "output.ipynb"

            def one_pipeline(keep: bool) -> None:
                nonlocal last
                start = time.perf_counter()
                last = runner.run(spec, dict(RUN_PARAMS))
                elapsed = time.perf_counter() - start
                phases.close(elapsed, keep)
                if last.exit_code != 0:
                    failed = [g.gate for g in last.gates if g.status.value == "fail"]
                    raise RuntimeError(
                        f"pipeline run ended with exit code {last.exit_code} "
                        f"({last.execution.ename}: {last.execution.evalue}; failed gates {failed})"
                    )
                if keep:
                    pipe_times.append(elapsed)
                    pipe_cells.append(_cell_seconds(last.output_notebook))

            def one_bare(keep: bool) -> None:
                start = time.perf_counter()
                pm.execute_notebook(
                    str(bare_nb),
                    str(bare_out),
                    parameters=PM_PARAMS,
                    progress_bar=False,
                    kernel_name="python3",
                    cwd=str(bare_dir),
                )
                if keep:
                    bare_times.append(time.perf_counter() - start)
                    bare_cells.append(_cell_seconds(bare_out))

            with _instrumented(runner, phases):
                one_pipeline(keep=False)  # warm-up: page cache, lazy imports, first bless
                one_bare(keep=False)
                for i in range(repeats):
                    # alternate which goes first so drift (thermal, other load) hits both alike
                    order = (one_pipeline, one_bare) if i % 2 == 0 else (one_bare, one_pipeline)
                    for fn in order:
                        fn(keep=True)
            init_steps = _kernel_init_breakdown(tracker, store_dir, nb)
            gate_summary = ", ".join(f"{g.gate} {g.status.value}" for g in last.gates)
        finally:
            reset_default_tracker()
            if saved_env is None:
                os.environ.pop("JUPYTER_MLOPS_STORE", None)
            else:
                os.environ["JUPYTER_MLOPS_STORE"] = saved_env
    return _report(
        pipe_times,
        bare_times,
        phases.medians(),
        pipe_cells,
        bare_cells,
        init_steps,
        gate_summary,
        repeats,
    )


def _report(
    pipe_times: list[float],
    bare_times: list[float],
    ph: dict[str, float],
    pipe_cells: list[list[float]],
    bare_cells: list[list[float]],
    init_steps: list[float] | None,
    gate_summary: str,
    repeats: int,
) -> list[dict[str, Any]]:
    pipe = statistics.median(pipe_times)
    bare = statistics.median(bare_times)
    ratio = pipe / bare
    spread = (
        f"pipeline {min(pipe_times):.2f}-{max(pipe_times):.2f} s, "
        f"papermill {min(bare_times):.2f}-{max(bare_times):.2f} s over {repeats} alternating runs"
    )
    results = [
        result(
            "pipeline run vs bare papermill (same nb)",
            pipe,
            "s",
            bare,
            f"<= {TARGET_RATIO:g}x",
            ratio <= TARGET_RATIO,
            f"{spread}; bare variant pickles model/validation data instead of mlops.log_*",
        )
    ]
    # Per-phase medians (each phase's own median, so they need not add up exactly).
    execute = ph.get("execute", 0.0)
    prepare = ph.get("attempt", 0.0) - execute
    context = ph.get("build_context", 0.0)
    gates = ph.get("evaluate_gates", 0.0)
    registry = ph.get("gate_and_register", 0.0) - context - gates
    record = ph["total"] - ph.get("attempt", 0.0) - ph.get("gate_and_register", 0.0)
    # papermill's own per-cell durations: cell 0 of the pipeline's output is the injected one
    injected = statistics.median(c[0] for c in pipe_cells)
    others = statistics.median(sum(c[1:]) for c in pipe_cells) - statistics.median(
        sum(c) for c in bare_cells
    )
    kernel_note = (
        f"kernel time in cells {injected + others:+.3f} s vs bare: injected init cell "
        f"{injected:.3f} s, the notebook's own cells {others:+.3f} s (post-cell hooks, less "
        "imports init already did)"
    )
    if init_steps is None:
        init_note = "fresh-process probe failed"
    else:
        imp, init, env = init_steps
        init_note = (
            f"fresh process: import kernel module {imp * 1e3:.0f} ms, init() {init * 1e3:.0f} ms,"
            f" first environment capture {env * 1e3:.0f} ms"
        )
    rows = [
        ("papermill execution (engine)", execute, bare, kernel_note),
        ("injected init cell (in the kernel)", injected, None, init_note),
        ("prepare notebook (read + inject)", prepare, None, ""),
        ("build gate context (load model, data)", context, None, "incl. latency probe"),
        ("evaluate gates (incl. model scoring)", gates, None, gate_summary),
        ("gate results, report, register, bless", registry, None, ""),
        ("params, start/end run, artifacts", record, None, "outside execution and gates"),
    ]
    for name, value, baseline, note in rows:
        results.append(result(f"  {name}", value, "s", baseline, "-", None, note))
    return results


def run(repeats: int = 5, gates: bool = True, rows: int = 100_000) -> list[dict[str, Any]]:
    """The pipeline-vs-papermill comparison, then (if ``gates``) bench_gates' 20-gate figure."""
    results = bench_pipeline_vs_papermill(repeats)
    if gates:
        if str(HERE) not in sys.path:
            sys.path.insert(0, str(HERE))
        import bench_gates  # type: ignore[import-not-found]

        results += bench_gates.bench_gates(rows=rows)
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--rows", type=int, default=100_000, help="rows for the 20-gate benchmark")
    args = p.parse_args()
    print_table(run(args.repeats, rows=args.rows))


if __name__ == "__main__":
    main()
