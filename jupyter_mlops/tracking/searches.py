"""What a fitted hyperparameter search records: scikit-learn's ``GridSearchCV``,
``RandomizedSearchCV`` and the halving searches (Optuna studies are a flavor:
:mod:`jupyter_mlops.frameworks.optuna_flavor`).

A search is recorded for what it found, not for its base estimator's defaults: the search
space as data (``param_distributions.C = {"dist": "loguniform", "args": [0.01, 100]}``), the
best params (``best_params.C``), the best score as a metric (``best_score``), the base
estimator's params only as the user set them, and every candidate's result as a table
(``cv_results``) that compare and the panel can plot.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..codec import dumps
from ..entities import Artifact
from ..frameworks import ModelFacts
from .fitted import param_value, set_params
from .tracker import ActiveRun
from .trained import Metric, Trained

_SPACES = ("param_distributions", "param_grid")
# The per-candidate columns worth a table: the rest (fit times, per-split scores) is noise
# that changes from one run to the next.
_RESULT_PREFIXES = ("mean_test_", "std_test_", "rank_test_", "mean_train_", "std_train_")
_HALVING_COLUMNS = ("iter", "n_resources")


def is_search(obj: Any) -> bool:
    """A fitted scikit-learn search (duck-typed: ``BaseSearchCV`` is private)."""
    return hasattr(obj, "cv_results_") and hasattr(obj, "get_params") and hasattr(obj, "cv")


def _space_keys(space: Any) -> set[str]:
    grids = space if isinstance(space, list) else [space]
    return {str(k) for g in grids if isinstance(g, dict) for k in g}


def search_params(search: Any) -> dict[str, Any]:
    """The search's own settings, its space, its best params and what the user set on the
    base estimator (a searched key is left to ``best_params``), keyed without the name."""
    params = search.get_params(deep=False)
    space_key = next((k for k in _SPACES if k in params), None)
    space = params.get(space_key) if space_key else None
    out: dict[str, Any] = {}
    for k, v in params.items():
        if k != "estimator" and k != space_key:
            out[k] = param_value(v)
    base = params.get("estimator")
    if base is not None:
        out["estimator"] = type(base).__name__
        searched = _space_keys(space)
        if hasattr(base, "get_params"):
            for k, v in set_params(base).items():
                if k not in searched:
                    out[f"estimator.{k}"] = param_value(v)
    if isinstance(space, dict):
        out.update({f"{space_key}.{k}": param_value(v) for k, v in space.items()})
    elif space is not None:
        out[str(space_key)] = param_value(space)
    for k, v in (getattr(search, "best_params_", None) or {}).items():
        out[f"best_params.{k}"] = param_value(v)
    return out


def cv_results_table(results: Any) -> dict[str, Any]:
    """``cv_results_`` as ``{"columns": [...], "rows": [[...]]}``: one row per candidate,
    its params (``param_C``), and its mean/std/rank scores."""
    columns = [c for c in _HALVING_COLUMNS if c in results]
    columns += sorted(c for c in results if c.startswith("param_"))
    columns += [c for c in results if c.startswith(_RESULT_PREFIXES)]
    n = len(results["params"]) if "params" in results else 0
    rows = []
    for i in range(n):
        row = []
        for c in columns:
            col = results[c]
            mask = getattr(col, "mask", None)
            masked = mask is not None and getattr(mask, "ndim", 0) > 0 and bool(mask[i])
            value = col.data[i] if hasattr(col, "data") and mask is not None else col[i]
            row.append(None if masked else param_value(value))
        rows.append(row)
    return {"columns": columns, "rows": rows}


def describe_search(search: Any) -> ModelFacts:
    """The params, ``best_score`` metric and ``cv_results`` table of a fitted search."""
    metrics = {}
    score = getattr(search, "best_score_", None)
    if score is not None:
        metrics["best_score"] = float(score)
    return ModelFacts(
        params=search_params(search),
        metrics=metrics,
        tables={"cv_results": cv_results_table(search.cv_results_)},
    )


def record_searches(run: ActiveRun, estimators: Mapping[str, Any]) -> Trained:
    """The fitted searches among ``estimators``: params ``name.best_params.C`` and the rest of
    :func:`search_params`, the metric ``name.best_score`` and the table
    ``name.cv_results.json``."""
    params: dict[str, Any] = {}
    metrics: list[Metric] = []
    artifacts: list[Artifact] = []
    now = time.time()
    for name, est in estimators.items():
        if not is_search(est):
            continue
        facts = describe_search(est)
        params.update({f"{name}.{k}": v for k, v in facts.params.items()})
        metrics.extend((f"{name}.{k}", float(v), 0, now) for k, v in facts.metrics.items())
        artifacts.extend(
            run.put_bytes(dumps(table).encode(), f"{name}.{key}.json", kind="table")
            for key, table in facts.tables.items()
        )
    return Trained({}, params, tuple(metrics), tuple(artifacts), ())


__all__ = [
    "cv_results_table",
    "describe_search",
    "is_search",
    "record_searches",
    "search_params",
]
