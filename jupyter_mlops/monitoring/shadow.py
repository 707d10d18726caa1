"""Closing the shadow loop: a shadow version that beat the blessed one on enough labelled
production batches (the same rows, scored by both) is blessed, with that evidence as the reason."""

from __future__ import annotations

from typing import Any

from ..entities import ModelStage, ModelVersion
from ..exceptions import ValidationError
from ..registry import ModelRegistry, parse_ref
from ..store.base import RunStore
from .metrics import HIGHER_IS_BETTER, grouped, task_of
from .serving import _store, cached_model


def shadow_evidence(
    ref: str, metric: str | None = None, *, store: RunStore | None = None
) -> dict[str, Any]:
    """Per labelled batch scored by both, ``metric`` of the shadow ``NAME@V`` and of the
    version blessed when the batch was scored; how many batches the shadow won."""
    import json

    st = _store(store)
    name, version = parse_ref(ref, st)
    if version is None:
        raise ValidationError(f"Say which shadow version, e.g. {name}@3")
    shadow = st.get_model(name, version)
    if shadow.stage is not ModelStage.SHADOW:
        raise ValidationError(
            f"{shadow.ref} is {shadow.stage.value}, not in shadow; put it there first with "
            f"`jupyter-mlops models shadow {shadow.ref}`"
        )
    roles = {(b.batch_id, b.version): b.role for b in st.monitor_batches(name)}
    rows = st.labelled_predictions(name)
    versions = {m.version: m for m in st.list_models(name)}
    tasks = {
        v: task_of(cached_model(st, versions[v]), [json.loads(r[4]) for r in rows if r[0] == v])
        for v in {r[0] for r in rows}
    }
    per_batch = grouped(rows, tasks, "batch")
    metric = metric or ("accuracy" if tasks.get(version) != "regressor" else "rmse")
    if metric not in HIGHER_IS_BETTER:
        raise ValidationError(
            f"Unknown metric {metric!r}; use one of {', '.join(HIGHER_IS_BETTER)}"
        )
    better = HIGHER_IS_BETTER[metric]
    batches = []
    for (v, batch_id), m in per_batch.items():
        if v != version or metric not in m:
            continue
        served = [bv for (b, bv), role in roles.items() if b == batch_id and role == "blessed"]
        theirs = per_batch.get((served[0], batch_id), {}) if served else {}
        if metric in theirs:
            ours = m[metric]
            won = ours > theirs[metric] if better else ours < theirs[metric]
            batches.append(
                {"batch_id": batch_id, "blessed": served[0], "shadow": ours,
                 "served": theirs[metric], "won": won}
            )  # fmt: skip
    return {
        "ref": shadow.ref,
        "metric": metric,
        "batches": batches,
        "won": sum(b["won"] for b in batches),
    }


def promote_shadow(
    ref: str, min_batches: int = 3, metric: str | None = None, *, store: RunStore | None = None
) -> tuple[ModelVersion, dict[str, Any]]:
    """Bless the shadow ``NAME@V`` when it won on at least ``min_batches`` labelled batches
    and lost on none; the evidence is the blessing's reason."""
    st = _store(store)
    ev = shadow_evidence(ref, metric, store=st)
    n, won = len(ev["batches"]), ev["won"]
    if n < min_batches or won < n:
        raise ValidationError(
            f"{ev['ref']} beat the blessed model on {won} of {n} labelled batches by "
            f"{ev['metric']}; promoting needs at least {min_batches} and no loss "
            "(log more labels, or bless it by hand with `models bless`)"
        )
    mean = sum(b["shadow"] for b in ev["batches"]) / n
    served = sum(b["served"] for b in ev["batches"]) / n
    reason = (
        f"shadow evidence: beat the blessed model on {won}/{n} labelled batches "
        f"({ev['metric']} {mean:.3g} vs {served:.3g})"
    )
    return ModelRegistry(st).bless(ev["ref"], reason=reason), ev
