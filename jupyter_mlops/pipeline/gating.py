"""The gate stage of a pipeline run: evaluate the gates on what the run logged, register the
model it produced, bless it only if every blocking gate passed, and write the gate report.

Each step returns what it decided (a :class:`ModelDecision`, a :class:`~.result.Verdict`);
nothing is filled in afterwards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..entities import ModelVersion, Run, iso_time
from ..registry import ModelRegistry
from ..tracking import ActiveRun, Tracker
from ..validation.gates import GateResult, evaluate_gates, gates_passed
from ..validation.registration import record_signature
from ..validation.report import render_gate_report_html
from .engine import Execution
from .gate_inputs import build_context
from .result import PipelineResult, Verdict
from .spec import PipelineSpec

log = logging.getLogger(__name__)

NO_MODEL_NOTE = "the notebook logged no model (mlops.log_model), so nothing was registered"
SWEEP_HOLD = "a sweep's run (the sweep blesses only with --bless-best)"


@dataclass(frozen=True)
class ModelDecision:
    """What became of a run's model: registered or not, blessed, or held and why."""

    model: ModelVersion | None = None
    blessed: bool = False
    held: str | None = None
    notes: tuple[str, ...] = ()


def gate(
    spec: PipelineSpec,
    run: ActiveRun,
    tracker: Tracker,
    registry: ModelRegistry,
    execution: Execution,
    output_notebook: Path,
    bless: bool = True,
) -> Verdict:
    """Gate the executed ``run``, decide on its model and write ``gate-report.html`` beside
    ``output_notebook``; the gate results and the report are recorded with the run."""
    store = tracker.store
    run.flush()  # what this process logged (the output notebook) is part of the record
    recorded = tracker.get_run(run.id)
    ctx, candidate = build_context(spec, recorded, store, registry, execution)
    gates = evaluate_gates(spec.gates, ctx.gate_context) if spec.gates else []
    store.save_gate_results(run.id, gates)
    loaded = ctx.gate_context.candidate_model  # its signature is read from it, not reloaded
    decision = decide_model(spec, registry, candidate, gates, run.id, bless, loaded)
    notes = (*ctx.notes, *decision.notes)
    report = write_report(spec, recorded, gates, notes, decision, output_notebook)
    run.log_artifact(report, "gate-report.html", kind="report")
    return Verdict(tuple(gates), notes, decision.model, decision.blessed, decision.held, report)


def decide_model(
    spec: PipelineSpec,
    registry: ModelRegistry,
    candidate: tuple[Run, str] | None,
    gates: list[GateResult],
    run_id: str,
    bless: bool,
    loaded: Any = None,
) -> ModelDecision:
    """Register the run's candidate model, if it logged one, with its input contract (read
    from ``loaded``, the model itself, when the gates loaded it), and bless it if the gates
    passed."""
    if candidate is None:
        return ModelDecision(notes=(NO_MODEL_NOTE,))
    owner, artifact = candidate
    model_name = spec.name if artifact == "model" else artifact
    model = registry.register(model_name, owner, artifact, pipeline=spec.name)
    record_signature(registry.store, model, loaded)
    if not gates_passed(gates):
        return ModelDecision(model)
    if bless and spec.register == "candidate":  # (a sweep's run keeps the sweep's reason)
        return ModelDecision(model, held=candidate_hold(model))
    return bless_model(registry, model, run_id, bless)


def candidate_hold(model: ModelVersion) -> str:
    """Why a passing model of a ``register: candidate`` run (``run --candidate``) is held."""
    return (
        "registered as a candidate (run --candidate, or register: candidate in the spec); "
        f"put it in shadow with `jupyter-mlops models shadow {model.ref}`"
    )


def bless_model(
    registry: ModelRegistry, model: ModelVersion, run_id: str, bless: bool
) -> ModelDecision:
    """Bless the passing model unless this is a sweep's run or the model is pinned."""
    if not bless:
        return ModelDecision(model, held=SWEEP_HOLD)
    pin = registry.offer(model, reason=f"passed gates in run {run_id[:8]}")
    if pin is not None:
        held = f"{pin.describe()}; not blessed"
        note = (
            f"{pin.name} is {pin.describe()}: runs register candidates until `jupyter-mlops "
            f"models unpin {pin.name}`"
            + (f" or {iso_time(pin.until)}" if pin.until is not None else "")
        )
        log.warning("model %s: %s", model.ref, held)
        return ModelDecision(model, held=held, notes=(note,))
    return ModelDecision(registry.get(model.ref), blessed=True)


def model_outcome(result: PipelineResult | ModelDecision) -> str:
    """What became of the run's model, in words: blessed, or kept as a candidate and why."""
    if result.blessed:
        return "blessed"
    if result.held:
        return f"kept as a candidate: {result.held}"
    return "kept as a candidate: a gate failed"


def write_report(
    spec: PipelineSpec,
    run: Run,
    gates: list[GateResult],
    notes: tuple[str, ...],
    decision: ModelDecision,
    output_notebook: Path,
) -> Path:
    """Write ``gate-report.html`` beside the output notebook; returns its path."""
    context = {
        "pipeline": spec.name,
        "run": run.id,
        "seed": str(run.seed),
        "params": ", ".join(f"{k}={v!r}" for k, v in run.params.items()) or "-",
        "notebook": str(output_notebook),
    }
    if decision.model is not None:
        context["model"] = f"{decision.model.ref} {model_outcome(decision)}"
    report = output_notebook.parent / "gate-report.html"
    title = f"{spec.name} · run {run.id[:8]}"
    report.write_text(render_gate_report_html(gates, title, context, list(notes)))
    return report


__all__ = ["ModelDecision", "bless_model", "decide_model", "gate", "model_outcome"]
