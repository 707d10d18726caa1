"""What the framework models a cell trained say about their training (see
:mod:`jupyter_mlops.frameworks`), as the run's params, stepped metrics and artifacts."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..codec import dumps
from ..entities import Artifact, to_jsonable
from ..frameworks import Flavor, ModelFacts, describe_models
from .tracker import ActiveRun

Metric = tuple[str, float, int, float]  # key, value, step, time


@dataclass(frozen=True)
class Trained:
    """A cell's framework models and what they add to its run."""

    models: Mapping[str, Any]
    params: Mapping[str, Any]
    metrics: tuple[Metric, ...]
    artifacts: tuple[Artifact, ...]
    warnings: tuple[str, ...]


def trained_models(
    run: ActiveRun, ns: Mapping[str, Any], names: Iterable[str], *, log_model: bool
) -> Trained:
    """The framework models among ``names``: their params (``name.key``), curves and final
    numbers (named as the framework names them; prefixed ``name.`` when the cell trained
    several models), tables and texts as artifacts and, with ``log_model``, the models in
    their own formats."""
    warnings: list[str] = []
    found = describe_models(ns, names, warnings.append)
    params: dict[str, Any] = {}
    metrics: list[Metric] = []
    artifacts: list[Artifact] = []
    now = time.time()
    several = len(found) > 1
    for name, (flavor, facts) in found.items():
        prefix = f"{name}." if several else ""
        params.update({f"{name}.{k}": to_jsonable(v) for k, v in facts.params.items()})
        for key, values in facts.curves.items():
            metrics.extend((prefix + key, float(v), step, now) for step, v in enumerate(values))
        metrics.extend((prefix + key, float(v), 0, now) for key, v in facts.metrics.items())
        artifacts.extend(_facts_artifacts(run, name, facts))
        warnings.extend(facts.warnings)
        if log_model and facts.model:
            artifacts.extend(_model_artifact(run, name, flavor, ns[name], warnings))
    models = {name: ns[name] for name in found}
    return Trained(models, params, tuple(metrics), tuple(artifacts), tuple(warnings))


def _facts_artifacts(run: ActiveRun, name: str, facts: ModelFacts) -> list[Artifact]:
    out = [
        run.put_bytes(dumps(table).encode(), f"{name}.{key}.json", kind="table")
        for key, table in facts.tables.items()
    ]
    out += [
        run.put_bytes(text.encode(), f"{name}.{key}.txt", kind="text")
        for key, text in facts.texts.items()
    ]
    return out


def _model_artifact(
    run: ActiveRun, name: str, flavor: Flavor, model: Any, warnings: list[str]
) -> list[Artifact]:
    from ..exceptions import MLOpsError
    from ..model_format import dumps as model_dumps

    try:
        return [run.put_bytes(model_dumps(model, name), name, kind="model")]
    except MLOpsError as e:
        warnings.append(f"{flavor.name}: model {name} was not logged: {e}")
        return []


__all__ = ["Trained", "trained_models"]
