"""Optuna: a ``Study`` a tracked cell optimized, as params, a metric and a trials table.

Supported: optuna >= 3.0, < 6 (tested on 5.1). Read-only: no hook is installed; the study is
read from the namespace when the cell ends (``Study.trials``, ``best_params``, ``best_value``
and each trial's distributions, public API since 3.0).

Recorded for a study named ``study``:
- params ``study.direction``, ``study.sampler``, ``study.n_trials``, ``study.best_params.<k>``
  and the search space as data, ``study.distributions.<k> = {"dist": "FloatDistribution",
  "low": 0.01, "high": 100.0, "log": true, "step": null}``;
- the metric ``best_value`` (single-objective studies);
- the table ``study.trials.json``: one row per trial (number, state, value, each param).

Optuna's samplers draw from their own generator (seeded from OS entropy unless given a
``seed``), never from NumPy's global state: no random-state warning is given here.
"""

from __future__ import annotations

import json
from typing import Any

from .base import Flavor, ModelFacts

SUPPORTED = "optuna>=3.0,<6"


def _distribution(dist: Any) -> dict[str, Any]:
    """An Optuna distribution as data, by its own JSON form (``distribution_to_json``)."""
    from optuna.distributions import distribution_to_json

    data = json.loads(distribution_to_json(dist))
    return {"dist": data["name"], **data["attributes"]}


def _plain(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if hasattr(v, "item") and getattr(v, "ndim", None) == 0:
        return v.item()
    return str(v)


def _trials_table(trials: list[Any], keys: list[str], multi: bool) -> dict[str, Any]:
    values = ["values"] if multi else ["value"]
    columns = ["number", "state", *values, *(f"params_{k}" for k in keys)]
    rows = []
    for t in trials:
        value = [_plain(v) for v in t.values] if multi and t.values else _plain(t.value)
        rows.append(
            [t.number, t.state.name, value, *(_plain(t.params.get(k)) for k in keys)],
        )
    return {"columns": columns, "rows": rows}


def describe(name: str, obj: Any) -> ModelFacts | None:
    """What an optimized ``optuna.Study`` found; None for anything else or an empty study."""
    from optuna.study import Study
    from optuna.trial import TrialState

    if not isinstance(obj, Study):
        return None
    trials = obj.get_trials(deepcopy=False)
    if not trials:
        return None
    multi = len(obj.directions) > 1
    distributions: dict[str, Any] = {}
    for t in trials:
        for k, d in t.distributions.items():
            distributions.setdefault(k, _distribution(d))
    params: dict[str, Any] = {
        "direction": ",".join(d.name.lower() for d in obj.directions),
        "sampler": type(obj.sampler).__name__,
        "n_trials": len(trials),
    }
    params.update({f"distributions.{k}": v for k, v in distributions.items()})
    metrics: dict[str, float] = {}
    complete = any(t.state == TrialState.COMPLETE for t in trials)
    if complete and not multi:
        params.update({f"best_params.{k}": _plain(v) for k, v in obj.best_params.items()})
        metrics["best_value"] = float(obj.best_value)
    return ModelFacts(
        params=params,
        metrics=metrics,
        tables={"trials": _trials_table(trials, sorted(distributions), multi)},
    )


FLAVOR = Flavor(name="optuna", module="optuna", supported=SUPPORTED, describe=describe)

__all__ = ["FLAVOR", "SUPPORTED", "describe"]
