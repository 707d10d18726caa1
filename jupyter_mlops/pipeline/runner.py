"""Run a pipeline: prepare → execute → gate → record.

One pipeline run is one ``kind=pipeline`` run in the store. The notebook executes in a kernel
that logs straight into that run (see :mod:`.in_kernel`); afterwards the runner evaluates the gates
on what the run logged, registers the model it produced, and blesses it only if every blocking
gate passed. Every way an execution can end leaves the run with an honest status.
"""

from __future__ import annotations

import ast
import logging
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import yaml

from ..entities import Run, RunKind, RunStatus, iso_time
from ..exceptions import MLOpsError, ValidationError
from ..project import Project, project_environment
from ..registry import ModelRegistry
from ..tracking import ActiveRun, Tracker, default_tracker
from ..validation.gates import evaluate_gates, gates_passed
from ..validation.report import render_gate_report_html
from .engine import Ending, Execution, get_engine, kernel_language
from .gate_inputs import build_context
from .in_kernel import INJECTED_TAG, init_source
from .lock import running
from .notebook import check_notebook_unchanged, find_parameters_cells, notebook_parameters
from .params import coerce_params, plain_value, resolve_params
from .result import PipelineResult
from .spec import PipelineSpec, load_pipeline, load_spec

log = logging.getLogger(__name__)


def find_spec(name_or_path: str, pipelines_dir: Path | None = None) -> PipelineSpec:
    """A spec by pipeline name (``<pipelines_dir>/NAME.yaml``, by default the project's) or by
    the path of its YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.is_file():
        return load_spec(p)
    return load_pipeline(name_or_path, pipelines_dir)


def read_params_file(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())  # JSON is YAML too
    except OSError as e:
        raise ValidationError(f"Cannot read params file {p}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise ValidationError(f"Params file {p} is not valid YAML/JSON: {e}") from e
    if not isinstance(data, dict):
        raise ValidationError(f"Params file {p} must hold a mapping of name: value")
    return data


def _prepared_notebook(
    path: Path,
    run_id: str,
    seed: int | None,
    store: str,
    overrides: Mapping[str, Any],
    project: Project,
) -> Any:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    env = project_environment(project)  # the kernel's project is ours
    cell = nbformat.v4.new_code_cell(init_source(run_id, seed, store, str(path), env))
    cell.metadata["tags"] = [INJECTED_TAG]
    nb.cells.insert(0, cell)
    found = find_parameters_cells(nb)
    source = rederive_source(nb, overrides) if found else None
    if source:
        # papermill puts its injected cell right after the parameters cell, so before this one.
        derived = nbformat.v4.new_code_cell(source)
        derived.metadata["tags"] = [INJECTED_TAG]
        nb.cells.insert(found[0] + 1, derived)
    return nb


def rederive_source(nb: Mapping[str, Any], overrides: Mapping[str, Any]) -> str | None:
    """Code recomputing the derived parameters that depend on an overridden one.

    papermill injects overrides *after* the parameters cell, so ``out_dir = f"runs/{date}"``
    would keep the default date under ``-p date=...``. Derived parameters overridden themselves
    keep their override; the others are left as the notebook computed them.
    """
    if not overrides:
        return None
    params, _ = notebook_parameters(nb)
    changed, lines = set(overrides), []
    for p in params:
        if p.expression is None or p.name in overrides:
            continue
        names = {
            n.id for n in ast.walk(ast.parse(p.expression, mode="eval")) if isinstance(n, ast.Name)
        }
        if names & changed:
            lines.append(f"{p.name} = {p.expression}")
            changed.add(p.name)
    if not lines:
        return None
    return "# Injected by jupyter-mlops: derived parameters, recomputed from the overrides\n" + (
        "\n".join(lines)
    )


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
        file_values = read_params_file(params_file) if params_file else None
        overrides = coerce_params(
            spec.parameters, raw_params or {}, file_values, source=f"pipeline '{spec.name}'"
        )
        notebook = spec.notebook_path()
        warning = None
        try:
            check_notebook_unchanged(spec, notebook)
        except ValidationError as e:
            if not allow_changed:
                raise
            warning = f"ran with --allow-changed: {e}"
        language = kernel_language(spec.kernel, notebook, spec.path, bool(overrides))
        attempts = spec.retries + 1
        # A sweep holds the pipeline's lock once for all its runs (hold_lock=False here).
        lock: AbstractContextManager[None] = (
            running(self.store_dir / "locks", spec.name) if hold_lock else nullcontext()
        )
        with lock:  # ConflictError if it already is
            started = time.time()
            for attempt in range(1, attempts + 1):
                extra = {"attempt": f"{attempt}/{attempts}"} if attempts > 1 else {}
                result = self._run_attempt(
                    spec, overrides, notebook, language, seed, {**(tags or {}), **extra},
                    warning, on_start,
                    run_id=run_id if attempt == 1 else None,  # a pre-assigned id is the first try
                    bless=bless,
                )  # fmt: skip
                reason = retry_reason(spec, result.execution)
                if reason is None or attempt == attempts:
                    break
                delay = spec.retry_backoff_s * 2 ** (attempt - 1)
                log.warning(
                    "pipeline %s run %s: %s (attempt %d/%d); retrying in %.3gs",
                    spec.name, result.run.id[:8], reason, attempt, attempts, delay,
                )  # fmt: skip
                self.sleep(delay)
            result.attempts = attempt
        self._follow_up(spec, result, started)
        return result

    def _run_attempt(
        self,
        spec: PipelineSpec,
        overrides: dict[str, Any],
        notebook: Path,
        language: str,
        seed: int | None,
        tags: dict[str, str],
        warning: str | None,
        on_start: Callable[[ActiveRun], None] | None,
        run_id: str | None = None,
        bless: bool = True,
    ) -> PipelineResult:
        run = self.tracker.start_run(
            experiment=spec.name,
            # The name column of `runs` shows the attempt ("attempt 2/3") when retries are on.
            name=f"attempt {tags['attempt']}" if "attempt" in tags else None,
            kind=RunKind.PIPELINE,
            seed=seed if seed is not None else "auto",
            params=plain_value(resolve_params(spec.parameters, overrides)),
            tags={"pipeline": spec.name, **tags},
            notebook=str(notebook),
            run_id=run_id,
        )
        if warning:
            run.warn(warning)
        try:
            # Written now, not when the run ends: the gate report and anyone listing runs
            # meanwhile read the params and tags from the store.
            run.flush()
            if on_start is not None:
                on_start(run)
            return self._run(spec, run, overrides, notebook, language, bless)
        except BaseException as e:  # never leave the run 'running' behind
            if not run.ended:
                from ..tracking import status_for_exception

                run.end(*status_for_exception(e))
            raise

    def _follow_up(self, spec: PipelineSpec, result: PipelineResult, started: float) -> None:
        """Notifications (queued, not sent) and retention after a run: logged on failure,
        never raised."""
        from .notify import notify_run
        from .retention import collect_garbage

        try:
            queued = notify_run(
                spec, result, self.tracker.store, started, root=self.tracker.project.root
            )
            result.notifications = [n.id for n in queued]
        except Exception:  # a notification must never fail the run
            log.exception("pipeline %s: notification failed", spec.name)
        if spec.retention is not None:
            try:
                store = self.tracker.store
                report = collect_garbage(
                    store,
                    keep=spec.retention,
                    outputs_dir=self.tracker.project.outputs_dir,
                    pipeline=spec.name,
                )
                log.info("pipeline %s: retention: %s", spec.name, report.describe())
            except Exception:  # retention must never fail the run
                log.exception("pipeline %s: retention failed", spec.name)

    def _run(
        self,
        spec: PipelineSpec,
        run: ActiveRun,
        overrides: dict[str, Any],
        notebook: Path,
        language: str,
        bless: bool = True,
    ) -> PipelineResult:
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
        execution = self._execute(spec, run, overrides, notebook, output, language)
        if output.exists():
            run.log_artifact(output, "output.ipynb", kind="notebook")
        result = PipelineResult(
            run=self.tracker.get_run(run.id), execution=execution, output_notebook=output
        )
        if not execution.succeeded:
            run.end(*_failure_status(execution, spec, output))
            result.run = self.tracker.get_run(run.id)
            return result
        self._gate_and_register(spec, run, result, out_dir, bless)
        run.set_tags({"gates": "passed" if gates_passed(result.gates) else "failed"})
        run.end(RunStatus.FINISHED)
        result.run = self.tracker.get_run(run.id)
        return result

    def _execute(
        self,
        spec: PipelineSpec,
        run: ActiveRun,
        overrides: dict[str, Any],
        notebook: Path,
        output: Path,
        language: str,
    ) -> Execution:
        return self._attempt(
            run, notebook, notebook.parent, output, overrides, spec.kernel, language, spec.timeout_s
        )

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
        nb = _prepared_notebook(notebook, run.id, run.seed, store, parameters, self.tracker.project)
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
        result: PipelineResult,
        out_dir: Path,
        bless: bool = True,
    ) -> None:
        store = self.tracker.store
        registry = ModelRegistry(store, clock=self.clock)
        run.flush()  # what this process logged (the output notebook) is part of the record
        recorded = self.tracker.get_run(run.id)
        ctx, candidate = build_context(spec, recorded, store, registry, result.execution)
        result.notes.extend(ctx.notes)
        result.gates = evaluate_gates(spec.gates, ctx.gate_context) if spec.gates else []
        store.save_gate_results(run.id, result.gates)
        if candidate is None:
            result.notes.append(
                "the notebook logged no model (mlops.log_model), so nothing was registered"
            )
        else:
            owner, artifact = candidate
            model_name = spec.name if artifact == "model" else artifact
            result.model = registry.register(model_name, owner, artifact, pipeline=spec.name)
            if gates_passed(result.gates):
                self._bless(registry, result, run.id, bless)
        result.report = self._write_report(spec, recorded, result, out_dir)
        run.log_artifact(result.report, "gate-report.html", kind="report")

    @staticmethod
    def _bless(registry: ModelRegistry, result: PipelineResult, run_id: str, bless: bool) -> None:
        """Bless the passing model unless this is a sweep's run or the model is pinned."""
        assert result.model is not None
        if not bless:
            result.held = "a sweep's run (the sweep blesses only with --bless-best)"
            return
        pin = registry.offer(result.model, reason=f"passed gates in run {run_id[:8]}")
        if pin is not None:
            result.held = f"{pin.describe()}; not blessed"
            result.notes.append(
                f"{pin.name} is {pin.describe()}: runs register candidates until `jupyter-mlops "
                f"models unpin {pin.name}`"
                + (f" or {iso_time(pin.until)}" if pin.until is not None else "")
            )
            log.warning("model %s: %s", result.model.ref, result.held)
            return
        result.model = registry.get(result.model.ref)
        result.blessed = True

    def _write_report(
        self, spec: PipelineSpec, run: Run, result: PipelineResult, out_dir: Path
    ) -> Path:
        context = {
            "pipeline": spec.name,
            "run": run.id,
            "seed": str(run.seed),
            "params": ", ".join(f"{k}={v!r}" for k, v in run.params.items()) or "-",
            "notebook": str(result.output_notebook),
        }
        if result.model is not None:
            context["model"] = f"{result.model.ref} {model_outcome(result)}"
        report = out_dir / "gate-report.html"
        title = f"{spec.name} · run {run.id[:8]}"
        report.write_text(render_gate_report_html(result.gates, title, context, result.notes))
        return report


def model_outcome(result: PipelineResult) -> str:
    """What became of the run's model, in words: blessed, or kept as a candidate and why."""
    if result.blessed:
        return "blessed"
    if result.held:
        return f"kept as a candidate: {result.held}"
    return "kept as a candidate: a gate failed"


def _failure_status(
    execution: Execution, spec: PipelineSpec, output: Path
) -> tuple[RunStatus, str]:
    where = (
        f"cell {execution.cell_index} of {output}"
        if execution.cell_index is not None
        else str(output)
    )
    if execution.ending is Ending.INTERRUPTED:
        return RunStatus.INTERRUPTED, "interrupted (Ctrl-C) while executing the notebook"
    if execution.ending is Ending.KILLED:  # not the notebook's fault: someone ended its kernel
        return RunStatus.INTERRUPTED, (
            f"interrupted: {execution.evalue} while executing the notebook; partial output in "
            f"{output}"
        )
    if execution.ending is Ending.TIMEOUT:
        return RunStatus.FAILED, (
            f"timed out: the run exceeded its timeout of {spec.timeout}; partial output in {output}"
        )
    if execution.ending is Ending.KERNEL_DIED:
        return RunStatus.FAILED, f"the kernel died: {execution.evalue}; see {output}"
    return RunStatus.FAILED, (
        f"{execution.ename}: {execution.evalue} in {where}\n{execution.traceback or ''}"
    )


def retry_reason(spec: PipelineSpec, execution: Execution) -> str | None:
    """Why this attempt should be retried (kernel death, timeout, a ``retry_on`` error), or None.

    ``retry_on`` names match the failing cell's exception name, with or without its module
    (``ConnectionError`` matches ``requests.exceptions.ConnectionError`` too).
    """
    if execution.ending is Ending.KERNEL_DIED:
        return "the kernel died"
    if execution.ending is Ending.TIMEOUT:
        return f"timed out after {spec.timeout}"
    if execution.ending is Ending.CELL_ERROR and execution.ename and spec.retry_on:
        name = execution.ename
        short = name.rpartition(".")[2]
        if name in spec.retry_on or short in {n.rpartition(".")[2] for n in spec.retry_on}:
            return f"{name} (in retry_on)"
    return None


def run_pipeline(
    name_or_path: str,
    params: dict[str, str] | None = None,
    *,
    params_file: str | Path | None = None,
    allow_changed: bool = False,
    pipelines_dir: Path | None = None,
    progress: bool = True,
    seed: int | None = None,
) -> PipelineResult:
    """Run the pipeline named ``name_or_path`` (or the spec at that path) once. Like
    ``jupyter-mlops run``, it then tries to deliver the run's notifications for at most the
    ``notify_wait`` setting (a script or an Airflow task may have no other sender), and logs
    a warning naming what is left for the background senders."""
    from .outbox import wait_for

    runner = PipelineRunner(progress=progress)
    spec = find_spec(name_or_path, pipelines_dir or runner.tracker.project.pipelines_dir)
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


__all__ = ["PipelineResult", "PipelineRunner", "find_spec", "run_pipeline"]
