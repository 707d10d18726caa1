"""Run a pipeline: prepare → execute → gate → record.

One pipeline run is one ``kind=pipeline`` run in the store. The notebook executes in a kernel
that logs straight into that run (see :mod:`.in_kernel`); afterwards the runner evaluates the gates
on what the run logged, registers the model it produced, and blesses it only if every blocking
gate passed. Every way an execution can end leaves the run with an honest status.

The stages live beside this module: :mod:`.preparation` (inputs and the notebook),
:mod:`.gating` (gates, model, report) and :mod:`.recording` (statuses, retries, notifications
and retention). Each returns a value; :func:`.result.pipeline_result` assembles the result.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from ..entities import RunKind, RunStatus
from ..exceptions import MLOpsError
from ..registry import ModelRegistry
from ..tracking import ActiveRun, Tracker, default_tracker
from ..validation.gates import gates_passed
from .engine import Execution, get_engine, kernel_language
from .gating import gate, model_outcome
from .lock import running
from .params import plain_value, resolve_params
from .preparation import Prepared, find_spec, prepare, prepared_notebook
from .recording import failure_status, follow_up, retry_reason
from .result import Attempt, PipelineResult, Verdict, pipeline_result
from .spec import PipelineSpec

log = logging.getLogger(__name__)


class PipelineRunner:
    def __init__(
        self,
        tracker: Tracker | None = None,
        engine: str = "papermill",
        progress: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        kernels: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # sleep waits between attempts (tests pass a no-op).
        # kernels: a sweep's warm KernelPool (pool.py); each attempt takes one fresh kernel.
        # clock: when a model pin's expiry is evaluated (the scheduler passes its own).
        self.kernels = kernels
        self.clock = clock
        self.tracker = tracker or default_tracker()
        self.engine = get_engine(engine)
        self.progress = progress
        self.sleep = sleep

    @property
    def store_dir(self) -> Path:
        return self.tracker.store.workdir

    def run(
        self,
        spec: PipelineSpec,
        raw_params: dict[str, str] | None = None,
        params_file: str | Path | None = None,
        *,
        allow_changed: bool = False,
        seed: int | None = None,
        tags: dict[str, str] | None = None,
        on_start: Callable[[ActiveRun], None] | None = None,
        run_id: str | None = None,
        hold_lock: bool = True,
        bless: bool = True,
    ) -> PipelineResult:
        """Validate, execute, gate and record one run of ``spec``; ``on_start`` is called once
        the inputs are valid and the run is recorded, just before the notebook executes.

        A model that passed every blocking gate is blessed, unless ``bless`` is False (a
        sweep's runs: the sweep decides) or the model is pinned (a rollback, ``models pin``):
        then it is registered as a candidate and ``result.held`` says why.

        A kernel death, a timeout or an error named in ``retry_on`` is retried up to
        ``spec.retries`` times, after ``retry_backoff`` doubling each time: each attempt is a
        run of its own tagged ``attempt=k/n`` (its own output notebook and metrics), all under
        the same lock and firing. The result is the last attempt's. Then the spec's
        notifications are queued in the store's outbox (``result.notifications``; sent by
        :mod:`.outbox`) and its retention applied; neither can fail the run.
        """
        prepared = prepare(spec, raw_params, params_file, allow_changed)
        # A sweep holds the pipeline's lock once for all its runs (hold_lock=False here).
        lock: AbstractContextManager[None] = (
            running(self.store_dir / "locks", spec.name) if hold_lock else nullcontext()
        )
        with lock:  # ConflictError if it already is
            started = time.time()
            attempt, attempts = self._attempts(
                spec, prepared, seed, tags or {}, on_start, run_id, bless
            )
        # A notification's payload is the result itself; the final value adds their ids.
        queued = follow_up(
            spec,
            pipeline_result(attempt, attempts),
            self.tracker.store,
            started,
            self.tracker.project,
        )
        return pipeline_result(attempt, attempts, queued)

    def _attempts(
        self,
        spec: PipelineSpec,
        prepared: Prepared,
        seed: int | None,
        tags: dict[str, str],
        on_start: Callable[[ActiveRun], None] | None,
        run_id: str | None,
        bless: bool,
    ) -> tuple[Attempt, int]:
        """Attempt the run until one needs no retry or none are left: the last attempt, and
        how many there were."""
        attempts, k = spec.retries + 1, 1
        while True:
            extra = {"attempt": f"{k}/{attempts}"} if attempts > 1 else {}
            attempt = self._run_attempt(
                spec, prepared, seed, {**tags, **extra}, on_start,
                run_id=run_id if k == 1 else None,  # a pre-assigned id is the first try
                bless=bless,
            )  # fmt: skip
            reason = retry_reason(spec, attempt.execution)
            if reason is None or k == attempts:
                return attempt, k
            delay = spec.retry_backoff_s * 2 ** (k - 1)
            log.warning(
                "pipeline %s run %s: %s (attempt %d/%d); retrying in %.3gs",
                spec.name, attempt.run.id[:8], reason, k, attempts, delay,
            )  # fmt: skip
            self.sleep(delay)
            k += 1

    def _run_attempt(
        self,
        spec: PipelineSpec,
        prepared: Prepared,
        seed: int | None,
        tags: dict[str, str],
        on_start: Callable[[ActiveRun], None] | None,
        run_id: str | None = None,
        bless: bool = True,
    ) -> Attempt:
        run = self.tracker.start_run(
            experiment=spec.name,
            # The name column of `runs` shows the attempt ("attempt 2/3") when retries are on.
            name=f"attempt {tags['attempt']}" if "attempt" in tags else None,
            kind=RunKind.PIPELINE,
            seed=seed if seed is not None else "auto",
            params=plain_value(resolve_params(spec.parameters, prepared.overrides)),
            tags={"pipeline": spec.name, **tags},
            notebook=str(prepared.notebook),
            run_id=run_id,
        )
        if prepared.warning:
            run.warn(prepared.warning)
        try:
            # Written now, not when the run ends: the gate report and anyone listing runs
            # meanwhile read the params and tags from the store.
            run.flush()
            if on_start is not None:
                on_start(run)
            return self._run(spec, run, prepared, bless)
        except BaseException as e:  # never leave the run 'running' behind
            if not run.ended:
                from ..tracking import status_for_exception

                run.end(*status_for_exception(e))
            raise

    def _run(
        self, spec: PipelineSpec, run: ActiveRun, prepared: Prepared, bless: bool = True
    ) -> Attempt:
        notebook = prepared.notebook
        self.tracker.store.save_pipeline(
            spec.name,
            spec.to_dict(),
            str(notebook),
            spec.notebook_hash,
            spec.schedule,
        )
        out_dir = self.tracker.project.run_outputs(run.id)
        out_dir.mkdir(parents=True, exist_ok=True)
        output = out_dir / "output.ipynb"
        execution = self._attempt(
            run, notebook, notebook.parent, output, prepared.overrides, spec.kernel,
            prepared.language, spec.timeout_s,
        )  # fmt: skip
        if output.exists():
            run.log_artifact(output, "output.ipynb", kind="notebook")
        if not execution.succeeded:
            run.end(*failure_status(execution, spec, output))
            return Attempt(self.tracker.get_run(run.id), execution, output)
        verdict = self._gate_and_register(spec, run, execution, output, bless)
        run.set_tags({"gates": "passed" if gates_passed(verdict.gates) else "failed"})
        run.end(RunStatus.FINISHED)
        return Attempt(self.tracker.get_run(run.id), execution, output, verdict)

    def _attempt(
        self,
        run: ActiveRun,
        notebook: Path,
        cwd: Path,
        output: Path,
        parameters: dict[str, Any],
        kernel: str,
        language: str,
        timeout_s: float,
    ) -> Execution:
        store = self.tracker.store.child_location  # a server store's URL: not store_dir
        nb = prepared_notebook(notebook, run.id, run.seed, store, parameters, self.tracker.project)
        km = self.kernels.take() if self.kernels is not None else None
        try:
            return self.engine.execute(
                nb,
                output,
                parameters=parameters,
                kernel_name=kernel,
                language=language,
                cwd=cwd,
                timeout_s=timeout_s,
                progress=self.progress,
                **({"km": km} if km is not None else {}),
            )
        finally:
            if km is not None:  # it has run user code now: never handed out again
                from .pool import shutdown

                shutdown(km)

    def replay(
        self,
        run: ActiveRun,
        notebook: Path,
        cwd: Path,
        params: dict[str, Any],
        kernel: str = "python3",
        timeout_s: float = 3600,
    ) -> Execution:
        """Execute ``notebook`` in ``cwd`` as ``run`` (reproduce), keeping its output."""
        out_dir = self.tracker.project.run_outputs(run.id)
        out_dir.mkdir(parents=True, exist_ok=True)
        output = out_dir / "output.ipynb"
        language = kernel_language(kernel, notebook, None, bool(params))
        execution = self._attempt(run, notebook, cwd, output, params, kernel, language, timeout_s)
        if output.exists():
            run.log_artifact(output, "output.ipynb", kind="notebook")
        return execution

    def _gate_and_register(
        self,
        spec: PipelineSpec,
        run: ActiveRun,
        execution: Execution,
        output: Path,
        bless: bool = True,
    ) -> Verdict:
        registry = ModelRegistry(self.tracker.store, clock=self.clock)
        return gate(spec, run, self.tracker, registry, execution, output, bless)


def run_pipeline(
    name_or_path: str,
    params: dict[str, str] | None = None,
    *,
    params_file: str | Path | None = None,
    allow_changed: bool = False,
    pipelines_dir: Path | None = None,
    progress: bool = True,
    seed: int | None = None,
    candidate: bool = False,
) -> PipelineResult:
    """Run the pipeline named ``name_or_path`` (or the spec at that path) once; ``candidate``
    registers its model without blessing it (``run --candidate``, the spec's ``register:
    candidate``), to be put in shadow. Like
    ``jupyter-mlops run``, it then tries to deliver the run's notifications for at most the
    ``notify_wait`` setting (a script or an Airflow task may have no other sender), and logs
    a warning naming what is left for the background senders."""
    from .outbox import wait_for

    runner = PipelineRunner(progress=progress)
    spec = find_spec(name_or_path, pipelines_dir or runner.tracker.project.pipelines_dir)
    if candidate:
        spec = dataclasses.replace(spec, register="candidate")
    started = time.time()
    result = runner.run(spec, params, params_file, allow_changed=allow_changed, seed=seed)
    if result.notifications:
        try:
            left = wait_for(runner.tracker.store, started, runner.tracker.settings.notify_wait)
        except MLOpsError as e:  # the run is recorded; its notifications stay queued
            log.warning("pipeline %s: notifications not checked: %s", spec.name, e)
        else:
            if left.pending:
                log.warning("pipeline %s: %s", spec.name, left.message())
    return result


__all__ = ["PipelineResult", "PipelineRunner", "find_spec", "model_outcome", "run_pipeline"]
