"""``jupyter-mlops sweep``: one pipeline run per parameter combination, grouped by a sweep id.

Each combination is an ordinary pipeline run (typed params, gates, registry, tracking) tagged
``sweep=<id>``. The sweep holds the pipeline's "already running" lock once for all its runs, so
a scheduled firing or a manual run cannot overlap it, while its own runs (one after the other,
or ``parallel`` at once) share it. Kernels come from a warm :class:`~.pool.KernelPool`, so
start-up is hidden while every run still gets a kernel that has never run user code.
Ctrl-C stops the sweep: the run under way ends ``interrupted`` and the rest are not started.
A run whose kernel is killed by a signal ends ``interrupted`` too, and the sweep goes on.

A sweep's runs register their models as candidates and never bless them: a sweep is a search,
not a release. ``bless_best`` blesses the best passing run's model by the ranking metric, once
every run is done, unless the model is pinned. The exit code is 0 only when every run passed
its gates: a failed execution gives 1, a failed gate 3, an interrupted run 130
(:mod:`jupyter_mlops.exit_codes`), the worst one winning.
With ``on`` (a Dask scheduler address) the runs are tasks on that cluster instead, see
:mod:`.dask_sweep`; the grouping, progress bar, ranking and Ctrl-C behave the same.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from ..entities import PipelineOutcome
from ..exceptions import ValidationError
from ..exit_codes import ExitCode, exit_code
from ..tracking import Tracker, default_tracker
from .engine import Ending
from .lock import running
from .params import coerce_params
from .pool import ColdKernels, KernelPool
from .runner import PipelineResult, PipelineRunner
from .spec import PipelineSpec


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    """``["C=0.01,0.1", "penalty=l1,l2"]`` -> ``{"C": ["0.01", "0.1"], "penalty": [...]}``."""
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        choices = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not choices:
            raise ValidationError(
                f"Invalid --grid '{item}': write NAME=V1,V2,... e.g. --grid C=0.01,0.1,1"
            )
        if key.strip() in grid:
            raise ValidationError(f"--grid {key.strip()} is given twice; give it once")
        grid[key.strip()] = choices
    return grid


def combinations(
    grid: dict[str, list[str]], random_n: int | None = None, seed: int | None = None
) -> list[dict[str, str]]:
    """Every combination in grid order, or ``random_n`` of them drawn with ``seed``."""
    keys = list(grid)
    every = [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]
    if random_n is None:
        return every
    if random_n < 1:
        raise ValidationError(f"Invalid --random {random_n}: give a number of runs >= 1")
    return random.Random(seed).sample(every, min(random_n, len(every)))


@dataclass
class SweepRun:
    params: dict[str, str]
    run_id: str | None = None
    status: str = "not started"
    outcome: str | None = None
    value: float | None = None  # the ranking metric
    error: str | None = None  # why a run on a Dask worker could not start


# Which exit code wins when runs ended differently: the worst outcome.
_SEVERITY = (ExitCode.OK, ExitCode.GATE, ExitCode.FAILED, ExitCode.INTERRUPTED)


@dataclass
class SweepResult:
    sweep_id: str
    pipeline: str
    metric: str | None
    maximize: bool
    runs: list[SweepRun] = field(default_factory=list)
    interrupted: bool = False
    blessed: str | None = None  # the model ref --bless-best blessed
    held: str | None = None  # why --bless-best blessed nothing

    def counts(self) -> dict[str, int]:
        """Runs by outcome (``passed``, ``gate_failed``, ``failed``, ``interrupted``,
        ``not started``), in that order, the empty ones left out."""
        order = [
            o.value
            for o in (
                PipelineOutcome.PASSED,
                PipelineOutcome.GATE_FAILED,
                PipelineOutcome.FAILED,
                PipelineOutcome.INTERRUPTED,
            )
        ]
        found = [r.outcome or "not started" for r in self.runs]
        return {k: found.count(k) for k in [*order, "not started"] if k in found}

    def summary(self) -> str:
        """``4 runs: 1 passed, 3 gate failed`` (and what --bless-best did)."""
        parts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in self.counts().items())
        line = f"{len(self.runs)} runs: {parts or 'none ran'}"
        if self.blessed:
            line += f"; blessed {self.blessed}"
        elif self.held:
            line += f"; {self.held}"
        return line

    def ranked(self) -> list[SweepRun]:
        """Runs with the metric first, best first; then the rest in their order."""
        scored = [r for r in self.runs if r.value is not None]
        scored.sort(key=lambda r: r.value if r.value is not None else 0.0, reverse=self.maximize)
        return scored + [r for r in self.runs if r.value is None]

    def table(self) -> str:
        keys = list(self.runs[0].params) if self.runs else []
        head = ["#", "run", "status", *keys, self.metric or "-"]
        rows = [
            [
                str(i),
                (r.run_id or "")[:8],
                r.outcome or r.status,
                *(r.params[k] for k in keys),
                "" if r.value is None else f"{r.value:.6g}",
            ]
            for i, r in enumerate(self.ranked(), 1)
        ]
        widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
        return "\n".join(
            "  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)).rstrip()
            for line in [head, *rows]
        )

    @property
    def exit_code(self) -> int:
        """0 only when every run passed its gates; else the worst run's code (see module)."""
        if self.interrupted:
            return int(ExitCode.INTERRUPTED)
        codes = [
            ExitCode(exit_code(PipelineOutcome(r.outcome))) if r.outcome else ExitCode.FAILED
            for r in self.runs
        ]
        return int(max(codes, key=_SEVERITY.index, default=ExitCode.OK))

    def best_passing(self) -> SweepRun | None:
        """The best run by the metric among those that passed every gate."""
        return next(
            (r for r in self.ranked() if r.value is not None and r.outcome == "passed"), None
        )


def run_sweep(
    spec: PipelineSpec,
    combos: list[dict[str, str]],
    *,
    tracker: Tracker | None = None,
    parallel: int | None = None,
    metric: str | None = None,
    maximize: bool = False,
    progress: bool = True,
    warm: bool = True,
    on: str | None = None,
    bless_best: bool = False,
) -> SweepResult:
    """Run ``spec`` once per combination; ``warm`` keeps ``parallel + 1`` kernels pre-started.

    ``on``: a Dask scheduler address (``dask://HOST:PORT``, ``tcp://...``) to run on instead of
    local kernels; ``parallel`` then defaults to the cluster's worker threads (else to 1).
    ``bless_best``: once every run is done, bless the model of the best passing run by
    ``metric`` (unless the model is pinned); without it the sweep blesses nothing.
    """
    if parallel is not None and parallel < 1:
        raise ValidationError(f"Invalid --parallel {parallel}: give a number of runs >= 1")
    if bless_best and metric is None:
        raise ValidationError(
            "--bless-best needs --metric NAME to rank the runs (add --maximize when higher "
            "is better)"
        )
    if bless_best and spec.register == "candidate":
        raise ValidationError(
            f"pipeline '{spec.name}' registers candidates (register: candidate), so --bless-best "
            "would bless against its own spec; drop --bless-best, or set register: bless"
        )
    for combo in combos:  # every combination typed up front: a bad value stops nothing midway
        coerce_params(spec.parameters, combo, None, source=f"pipeline '{spec.name}'")
    tracker = tracker or default_tracker()
    result = SweepResult(uuid.uuid4().hex[:12], spec.name, metric, maximize)
    result.runs = [SweepRun(dict(c)) for c in combos]

    if on is not None:
        from .dask_sweep import connect, dask_address

        client = connect(dask_address(on))  # before the lock: a bad address fails first
        driven = tracker  # not None here; a closure would see the Optional parameter

        def body(bar: Any) -> None:
            _on_dask(client, spec, result, driven, parallel, bar)

        try:
            with running(tracker.store.workdir / "locks", spec.name):
                _with_bar(result, progress, body)
        finally:
            client.close()
    else:
        _run_locally(spec, result, tracker, parallel or 1, progress, warm)
    if bless_best and not result.interrupted:
        _bless_best(result, tracker)
    return result


def _run_locally(
    spec: PipelineSpec,
    result: SweepResult,
    tracker: Tracker,
    parallel: int,
    progress: bool,
    warm: bool,
) -> None:
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    cwd = spec.notebook_path().parent
    with running(tracker.store.workdir / "locks", spec.name):  # the sweep-level lock
        pool = KernelPool(spec.kernel, cwd, parallel + 1) if warm else None
        # Cold: each run still gets a kernel we started, so a kill of it is seen as such.
        kernels = pool if pool is not None else ColdKernels(spec.kernel, cwd)
        runner = PipelineRunner(tracker, progress=False, kernels=kernels)
        bar = tqdm(total=len(result.runs), desc=f"sweep {spec.name}", disable=not progress)
        try:
            _drive(runner, spec, result, parallel, bar)
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            bar.close()
            if pool is not None:
                pool.close()


def _bless_best(result: SweepResult, tracker: Tracker) -> None:
    """Bless the best passing run's model, unless pinned (then ``result.held`` says so)."""
    from ..registry import ModelRegistry

    best = result.best_passing()
    if best is None:
        result.held = f"no run passed its gates with a value of {result.metric}: nothing blessed"
        return
    models = [m for m in tracker.store.list_models() if m.run_id == best.run_id]
    if not models:
        result.held = f"the best run {(best.run_id or '')[:8]} registered no model: nothing blessed"
        return
    registry = ModelRegistry(tracker.store)
    mv = models[-1]
    why = f"best of sweep {result.sweep_id} by {result.metric} = {best.value:.6g}"
    pin = registry.offer(mv, reason=why)
    if pin is not None:
        result.held = f"{mv.ref} {pin.describe()}; not blessed"
    else:
        result.blessed = mv.ref


def _with_bar(result: SweepResult, progress: bool, body: Any) -> None:
    from tqdm.auto import tqdm

    bar = tqdm(total=len(result.runs), desc=f"sweep {result.pipeline}", disable=not progress)
    try:
        body(bar)
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        bar.close()


def _on_dask(
    client: Any,
    spec: PipelineSpec,
    result: SweepResult,
    tracker: Tracker,
    parallel: int | None,
    bar: Any,
) -> None:
    from .dask_sweep import drive_on_dask

    if parallel is None:  # as many runs at once as the cluster has worker threads
        parallel = max(1, sum(client.nthreads().values()))
    drive_on_dask(client, spec, result, tracker, parallel, bar)


def _drive(
    runner: PipelineRunner, spec: PipelineSpec, result: SweepResult, parallel: int, bar: Any
) -> None:
    tags = {"sweep": result.sweep_id}

    def one(item: SweepRun) -> None:
        res: PipelineResult = runner.run(spec, item.params, tags=tags, hold_lock=False, bless=False)
        item.run_id, item.status = res.run.id, res.run.status.value
        item.outcome = res.outcome.value
        if result.metric is not None:
            item.value = res.run.metrics.get(result.metric)
        bar.update(1)
        if res.execution.ending is Ending.INTERRUPTED:  # Ctrl-C; a killed kernel is that run's
            raise KeyboardInterrupt

    if parallel == 1:  # in this thread, so that Ctrl-C reaches the run under way
        for item in result.runs:
            one(item)
        return
    with ThreadPoolExecutor(parallel, thread_name_prefix="sweep") as ex:
        pending: set[Future[None]] = set()
        todo = iter(result.runs)
        try:
            for item in itertools.islice(todo, parallel):
                pending.add(ex.submit(one, item))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    f.result()
                    nxt = next(todo, None)
                    if nxt is not None:
                        pending.add(ex.submit(one, nxt))
        except KeyboardInterrupt:
            for f in pending:
                f.cancel()  # runs under way finish; the rest never start
            raise
