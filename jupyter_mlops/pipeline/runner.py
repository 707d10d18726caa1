"""Run a pipeline: prepare → execute → gate → record.

One pipeline run is one ``kind=pipeline`` run in the store. The notebook executes in a kernel
that logs straight into that run (see :mod:`.kernel`); afterwards the runner evaluates the gates
on what the run logged, registers the model it produced, and blesses it only if every blocking
gate passed. Every way an execution can end leaves the run with an honest status.
"""

from __future__ import annotations

import ast
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..entities import ModelVersion, Run, RunKind, RunStatus
from ..exceptions import ValidationError
from ..tracking import ActiveRun, Tracker, default_tracker
from .context import build_context
from .engine import Ending, Execution, get_engine, kernel_language
from .gates import GateResult, evaluate_gates, gates_passed
from .kernel import INJECTED_TAG, init_source
from .notebook import check_notebook_unchanged, find_parameters_cells, notebook_parameters
from .params import coerce_params, resolve_params
from .registry import ModelRegistry
from .report import render_gate_report_html
from .spec import PipelineSpec, load_pipeline, load_spec, plain_value

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_GATE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


@dataclass
class PipelineResult:
    run: Run
    execution: Execution
    output_notebook: Path
    gates: list[GateResult] = field(default_factory=list)
    model: ModelVersion | None = None
    blessed: bool = False
    report: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.execution.ending is Ending.INTERRUPTED:
            return EXIT_INTERRUPTED
        if not self.execution.succeeded:
            return EXIT_FAILED
        return EXIT_OK if gates_passed(self.gates) else EXIT_GATE


def find_spec(name_or_path: str, pipelines_dir: str | Path = "pipelines") -> PipelineSpec:
    """A spec by pipeline name (``pipelines/NAME.yaml``) or by the path of its YAML file."""
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
    path: Path, run_id: str, seed: int | None, store: str, overrides: Mapping[str, Any]
) -> Any:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell(init_source(run_id, seed, store, str(path)))
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
        self, tracker: Tracker | None = None, engine: str = "papermill", progress: bool = True
    ) -> None:
        self.tracker = tracker or default_tracker()
        self.engine = get_engine(engine)
        self.progress = progress

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
    ) -> PipelineResult:
        """Validate, execute, gate and record one run of ``spec``; ``on_start`` is called once
        the inputs are valid and the run is recorded, just before the notebook executes."""
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
        run = self.tracker.start_run(
            experiment=spec.name,
            kind=RunKind.PIPELINE,
            seed=seed if seed is not None else "auto",
            params=plain_value(resolve_params(spec.parameters, overrides)),
            tags={"pipeline": spec.name, **(tags or {})},
            notebook=str(notebook),
        )
        if warning:
            run.warn(warning)
        try:
            # Written now, not when the run ends: the gate report and anyone listing runs
            # meanwhile read the params and tags from the store.
            run.flush()
            if on_start is not None:
                on_start(run)
            return self._run(spec, run, overrides, notebook, language)
        except BaseException as e:  # never leave the run 'running' behind
            if not run.ended:
                from ..tracking import status_for_exception

                run.end(*status_for_exception(e))
            raise

    def _run(
        self,
        spec: PipelineSpec,
        run: ActiveRun,
        overrides: dict[str, Any],
        notebook: Path,
        language: str,
    ) -> PipelineResult:
        self.tracker.store.save_pipeline(
            spec.name,
            spec.to_dict(),
            str(notebook),
            spec.notebook_hash,
            spec.schedule,
        )
        out_dir = self.store_dir / "runs" / run.id
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
        self._gate_and_register(spec, run, result, out_dir)
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
        deadline = time.monotonic() + spec.timeout_s
        attempts = spec.retries + 1
        for attempt in range(1, attempts + 1):
            execution = self._attempt(
                run,
                notebook,
                notebook.parent,
                output,
                overrides,
                spec.kernel,
                language,
                max(1.0, deadline - time.monotonic()),
            )
            run.set_tags({"attempts": str(attempt)})
            if execution.ending is not Ending.KERNEL_DIED or attempt == attempts:
                return execution
            log.warning("kernel died (attempt %d of %d); retrying", attempt, attempts)
            run.warn(f"attempt {attempt}: the kernel died; retried")
        raise AssertionError("unreachable")  # pragma: no cover

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
        nb = _prepared_notebook(notebook, run.id, run.seed, str(self.store_dir), parameters)
        return self.engine.execute(
            nb,
            output,
            parameters=parameters,
            kernel_name=kernel,
            language=language,
            cwd=cwd,
            timeout_s=timeout_s,
            progress=self.progress,
        )

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
        out_dir = self.store_dir / "runs" / run.id
        out_dir.mkdir(parents=True, exist_ok=True)
        output = out_dir / "output.ipynb"
        language = kernel_language(kernel, notebook, None, bool(params))
        execution = self._attempt(run, notebook, cwd, output, params, kernel, language, timeout_s)
        if output.exists():
            run.log_artifact(output, "output.ipynb", kind="notebook")
        return execution

    def _gate_and_register(
        self, spec: PipelineSpec, run: ActiveRun, result: PipelineResult, out_dir: Path
    ) -> None:
        store = self.tracker.store
        registry = ModelRegistry(store)
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
                reason = f"passed gates in run {run.id[:8]}"
                result.model = registry.bless(result.model.ref, reason=reason)
                result.blessed = True
        result.report = self._write_report(spec, recorded, result, out_dir)
        run.log_artifact(result.report, "gate-report.html", kind="report")

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
            outcome = "blessed" if result.blessed else "kept as a candidate: a gate failed"
            context["model"] = f"{result.model.ref} {outcome}"
        report = out_dir / "gate-report.html"
        title = f"{spec.name} · run {run.id[:8]}"
        report.write_text(render_gate_report_html(result.gates, title, context, result.notes))
        return report


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
    if execution.ending is Ending.TIMEOUT:
        return RunStatus.FAILED, (
            f"timed out: the run exceeded its timeout of {spec.timeout}; partial output in {output}"
        )
    if execution.ending is Ending.KERNEL_DIED:
        return RunStatus.FAILED, (
            f"the kernel died after {spec.retries + 1} attempt(s): {execution.evalue}; see {output}"
        )
    return RunStatus.FAILED, (
        f"{execution.ename}: {execution.evalue} in {where}\n{execution.traceback or ''}"
    )


def run_pipeline(
    name_or_path: str,
    params: dict[str, str] | None = None,
    *,
    params_file: str | Path | None = None,
    allow_changed: bool = False,
    pipelines_dir: str | Path = "pipelines",
    progress: bool = True,
    seed: int | None = None,
) -> PipelineResult:
    """Run the pipeline named ``name_or_path`` (or the spec at that path) once."""
    spec = find_spec(name_or_path, pipelines_dir)
    return PipelineRunner(progress=progress).run(
        spec, params, params_file, allow_changed=allow_changed, seed=seed
    )


__all__ = ["PipelineResult", "PipelineRunner", "find_spec", "run_pipeline"]
