"""Gather what the gates look at from what a pipeline run (and its child runs) recorded."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..entities import Run
from ..exceptions import MLOpsError, ModelNotFoundError
from ..frameworks import flavor_of
from ..registry import ModelRegistry, load_run_artifact
from ..validation.gates import GateContext
from .engine import Execution
from .spec import PipelineSpec

_READERS = {
    ".csv": "read_csv",
    ".parquet": "read_parquet",
    ".json": "read_json",
    ".feather": "read_feather",
}


@dataclass
class BuiltContext:
    gate_context: GateContext
    notes: list[str] = field(default_factory=list)


def _family(run: Run, store: Any) -> list[Run]:
    """The run and the runs it started (``%%track`` cells in its notebook), oldest first."""
    children = [store.get_run(i) for i in store.search_run_ids(parent_id=run.id)]
    return [*sorted(children, key=lambda r: r.started), run]


def _gate_dataset_names(spec: PipelineSpec) -> set[str]:
    names = set()
    for g in spec.gates:
        for key in ("dataset", "reference"):
            if isinstance(g.options.get(key), str):
                names.add(g.options[key])
    return names


def _saved_datasets(runs: list[Run], store: Any) -> dict[str, Any]:
    from ..store.columns import read_dataset

    out = {}
    for r in runs:
        for a in r.artifacts:
            if a.kind == "dataset" and a.name.startswith("dataset:"):
                out[a.name.removeprefix("dataset:")] = read_dataset(store.artifacts, a.sha256)
    return out


def _file_datasets(runs: list[Run], wanted: set[str], notes: list[str]) -> dict[str, Any]:
    """Files the notebook read, loaded by the name gates use, if unchanged since the run."""
    import pandas as pd

    from ..hashing import fingerprint_file

    out = {}
    for r in runs:
        for d in r.inputs:
            fp = d.fingerprint
            if d.name not in wanted or fp.kind != "file" or fp.path is None:
                continue
            reader = _READERS.get(Path(fp.path).suffix.lower())
            if reader is None:
                continue
            if fingerprint_file(fp.path).hash != fp.hash:
                notes.append(f"{d.name} changed after the run read it; not checked")
                continue
            out[d.name] = getattr(pd, reader)(fp.path)
    return out


def _candidate(runs: list[Run]) -> tuple[Run, str] | None:
    for r in reversed(runs):  # the pipeline run's own model first, then the latest child's
        models = [a for a in r.artifacts if a.kind == "model"]
        if models:
            return r, models[-1].name
    return None


# The latency gate times warm predictions: the first call pays one-off costs (imports, caches)
# and any call can be stretched by other processes, so the fastest of a few warm calls is what
# the model costs (timeit's rule), and a busy machine does not fail the gate. One warm call is
# always timed; a budget on the timed calls keeps slow models and large validation sets from
# paying for more.
LATENCY_REPEATS = 3
LATENCY_BUDGET_S = 2.0


def _latency_ms_per_row(
    model: Any, validation: tuple[Any, Any] | None, clock: Callable[[], float] = time.perf_counter
) -> float | None:
    # A framework model predicts through its flavor (a torch module has no .predict).
    if (
        model is None
        or validation is None
        or not (hasattr(model, "predict") or flavor_of(model) is not None)
    ):
        return None
    from ..validation.model_checks import FeatureMismatchError, model_predict

    X = validation[0]
    n = len(X)
    if n == 0:
        return None
    timings: list[float] = []
    try:
        while len(timings) < 2 or (
            len(timings) <= LATENCY_REPEATS and sum(timings[1:]) < LATENCY_BUDGET_S
        ):
            start = clock()
            model_predict(model, X, "this run's model")
            timings.append(clock() - start)
    except (FeatureMismatchError, ValueError):  # cannot score these rows: its gates say why
        return None
    return min(timings[1:]) * 1e3 / n


def build_context(
    spec: PipelineSpec, run: Run, store: Any, registry: ModelRegistry, execution: Execution
) -> tuple[BuiltContext, tuple[Run, str] | None]:
    """The gate context for ``run``, and the (run, artifact name) of its candidate model."""
    from ..validation.drift import profile_dataframe

    runs = _family(run, store)
    built = BuiltContext(GateContext())
    ctx = built.gate_context
    for r in runs:
        ctx.metrics.update(r.metrics)
    ctx.datasets.update(_saved_datasets(runs, store))
    missing = _gate_dataset_names(spec) - set(ctx.datasets)
    ctx.datasets.update(_file_datasets(runs, missing, built.notes))
    for r in reversed(runs):
        ctx.validation = load_run_artifact(store, r, "validation", "validation")
        if ctx.validation is not None:
            break
    candidate = _candidate(runs)
    ctx.meta["duration_s"] = execution.seconds
    if run.peak_memory is not None:
        ctx.meta["peak_memory_mb"] = run.peak_memory / 2**20
    if candidate is not None:
        owner, name = candidate
        art = next(a for a in owner.artifacts if a.kind == "model" and a.name == name)
        ctx.meta["model_size_mb"] = art.size / 2**20
        try:
            ctx.candidate_model = load_run_artifact(store, owner, name, "model")
        except Exception as e:  # unpicklable in this process: the model gates say why
            built.notes.append(f"the candidate model could not be loaded here: {e!r}")
        latency = _latency_ms_per_row(ctx.candidate_model, ctx.validation)
        if latency is not None:
            ctx.meta["latency_ms_per_row"] = latency
        _blessed(spec, name, registry, store, ctx, built.notes)
    for name, df in ctx.datasets.items():
        ctx.reference_profiles.setdefault(name, profile_dataframe(df))
    return built, candidate


def _blessed(
    spec: PipelineSpec,
    artifact: str,
    registry: ModelRegistry,
    store: Any,
    ctx: GateContext,
    notes: list[str],
) -> None:
    model_name = spec.name if artifact == "model" else artifact
    try:
        blessed = store.get_model(model_name)
    except ModelNotFoundError:
        notes.append(f"no blessed version of {model_name!r} yet: only value thresholds apply")
        return
    try:
        ctx.blessed_model = registry.load_version(blessed)
    except Exception as e:  # an old model whose code no longer imports: say so, gate on
        notes.append(f"blessed {blessed.ref} could not be loaded: {e!r}")
        return
    ctx.blessed_ref = blessed.ref
    try:
        from ..validation.drift import profile_dataframe

        for name, df in _saved_datasets([store.get_run(blessed.run_id)], store).items():
            ctx.reference_profiles[f"blessed:{name}"] = profile_dataframe(df)
    except MLOpsError as e:
        notes.append(f"the data of blessed {blessed.ref} could not be read: {e}")
