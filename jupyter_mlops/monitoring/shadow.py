"""Closing the shadow loop: a shadow version that beat the blessed one on enough labelled
production batches (the same rows, scored by both) is blessed, with that evidence as the reason.

Evidence is honest: a batch counts only if another version served it while this one shadowed
it (a batch the version itself served, when it was blessed, compares it with itself), and a
tie is a tie, neither a win nor a loss. The rule: at least ``min_batches`` wins and no loss.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from ..entities import ModelStage, ModelVersion
from ..exceptions import ValidationError
from ..pipeline.monitor_spec import MAX_MIN_BATCHES
from ..registry import ModelRegistry, parse_ref
from ..store.base import RunStore
from .metrics import HIGHER_IS_BETTER, grouped, task_of
from .serving import _store, cached_model

if TYPE_CHECKING:
    from ..pipeline.monitor_spec import MonitorSpec

WON, TIED, LOST = "won", "tied", "lost"


def check_min_batches(min_batches: Any) -> int:
    """``min_batches`` as a whole number from 1 (0 would promote on no evidence at all)."""
    if (
        not isinstance(min_batches, int)
        or isinstance(min_batches, bool)
        or not 1 <= min_batches <= MAX_MIN_BATCHES
    ):
        raise ValidationError(
            f"min_batches must be a whole number from 1 to {MAX_MIN_BATCHES:,}, got "
            f"{min_batches!r}; it is how many labelled batches the shadow must win"
        )
    return min_batches


def _outcome(ours: float, theirs: float, higher_is_better: bool) -> str:
    # The same rows scored alike give the same metric up to float rounding: a tie.
    if math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12):
        return TIED
    return WON if (ours > theirs) == higher_is_better else LOST


def _shadow_version(ref: str, st: RunStore) -> ModelVersion:
    name, version = parse_ref(ref, st)
    if version is None:
        raise ValidationError(f"Say which shadow version, e.g. {name}@3")
    shadow = st.get_model(name, version)  # an unknown version: the store's one-line error
    if shadow.stage is not ModelStage.SHADOW:
        raise ValidationError(
            f"{shadow.ref} is {shadow.stage.value}, not in shadow; put it there first with "
            f"`jupyter-mlops models shadow {shadow.ref}`"
        )
    return shadow


def shadow_evidence(
    ref: str, metric: str | None = None, *, store: RunStore | None = None
) -> dict[str, Any]:
    """Per labelled batch the shadow ``NAME@V`` scored while another version served it: the
    ``metric`` of both, and whether the shadow ``won``, ``tied`` or ``lost``; the totals, and
    how many batches it served itself (``own``: not evidence)."""
    st = _store(store)
    shadow = _shadow_version(ref, st)
    name, version = shadow.name, shadow.version
    roles = {(b.batch_id, b.version): b.role for b in st.monitor_batches(name)}
    served_by = {b: v for (b, v), role in roles.items() if role == "blessed"}
    rows = st.labelled_predictions(name)
    versions = {m.version: m for m in st.list_models(name)}
    tasks = {
        v: task_of(cached_model(st, versions[v]), [json.loads(r[4]) for r in rows if r[0] == v])
        for v in {r[0] for r in rows}
    }
    metric = metric or ("accuracy" if tasks.get(version) != "regressor" else "rmse")
    if metric not in HIGHER_IS_BETTER:
        raise ValidationError(
            f"Unknown metric {metric!r}; use one of {', '.join(HIGHER_IS_BETTER)}"
        )
    per_batch = grouped(rows, tasks, "batch")
    batches, own = [], 0
    for (v, batch_id), m in per_batch.items():
        if v != version or metric not in m:
            continue
        server = served_by.get(batch_id)
        if server == version or roles.get((batch_id, version)) != "shadow":
            own += 1  # it served this batch itself: comparing it with itself is no evidence
            continue
        theirs = per_batch.get((server, batch_id), {}) if server is not None else {}
        if metric in theirs:
            result = _outcome(m[metric], theirs[metric], HIGHER_IS_BETTER[metric])
            batches.append(
                {"batch_id": batch_id, "blessed": server, "shadow": m[metric],
                 "served": theirs[metric], "result": result, "won": result == WON}
            )  # fmt: skip
    counts = {k: sum(b["result"] == k for b in batches) for k in (WON, TIED, LOST)}
    return {"ref": shadow.ref, "metric": metric, "batches": batches, **counts, "own": own}


def describe_evidence(ev: dict[str, Any]) -> str:
    """``m@2 beat the blessed model on 3 of 4 labelled batches by accuracy (1 tie)``."""
    n = len(ev["batches"])
    extra = [f"{ev[TIED]} tie{'s' * (ev[TIED] != 1)}" if ev[TIED] else ""]
    extra.append(f"{ev[LOST]} loss{'es' * (ev[LOST] != 1)}" if ev[LOST] else "")
    extra.append(f"{ev['own']} it served itself not counted" if ev.get("own") else "")
    shown = ", ".join(e for e in extra if e)
    return (
        f"{ev['ref']} beat the blessed model on {ev[WON]} of {n} labelled "
        f"batch{'es' * (n != 1)} by {ev['metric']}" + (f" ({shown})" if shown else "")
    )


def evidence_holds(ev: dict[str, Any], min_batches: int) -> bool:
    """The promotion rule: at least ``min_batches`` wins and no loss; ties count neither way."""
    return bool(ev[WON] >= min_batches and ev[LOST] == 0)


def evidence_reason(ev: dict[str, Any]) -> str:
    """The blessing's recorded reason: the counts and both means over the compared batches."""
    n = len(ev["batches"])
    mean = sum(b["shadow"] for b in ev["batches"]) / n
    served = sum(b["served"] for b in ev["batches"]) / n
    m = ev["metric"]
    return f"shadow evidence: {describe_evidence(ev)}; mean {m} {mean:.3g} vs {served:.3g}"


def promote_shadow(
    ref: str, min_batches: int = 3, metric: str | None = None, *, store: RunStore | None = None
) -> tuple[ModelVersion, dict[str, Any]]:
    """Bless the shadow ``NAME@V`` when it won on at least ``min_batches`` labelled batches
    served by another version and lost on none; the evidence is the blessing's reason."""
    check_min_batches(min_batches)
    st = _store(store)
    ev = shadow_evidence(ref, metric, store=st)
    if not evidence_holds(ev, min_batches):
        raise ValidationError(
            f"{describe_evidence(ev)}; promoting needs at least {min_batches} won and no loss "
            "(log more labels, or bless it by hand with `models bless`)"
        )
    return ModelRegistry(st).bless(ev["ref"], reason=evidence_reason(ev)), ev


def shadow_standing(
    name: str, min_batches: int, metric: str | None, *, store: RunStore
) -> list[dict[str, Any]]:
    """Each shadow version of ``name``: its counts, whether the rule holds (``ready``), the
    counts in words (``text``) and its mean edge over the served version (``edge``)."""
    out = []
    for mv in store.list_models(name):
        if mv.stage is ModelStage.SHADOW:
            ev = shadow_evidence(mv.ref, metric, store=store)
            out.append({k: ev[k] for k in ("ref", "metric", WON, TIED, LOST, "own")} | {
                "ready": evidence_holds(ev, min_batches), "text": describe_evidence(ev),
                "edge": _mean_edge(ev)})  # fmt: skip
    return out


def promote_best_shadow(
    name: str, min_batches: int, metric: str | None, *, store: RunStore, reason: str = ""
) -> tuple[str, dict[str, Any]]:
    """The monitor action: bless the shadow of ``name`` whose evidence holds (the most wins,
    then the best mean edge): ``("done", detail)``; else ``("held", detail)`` with every
    shadow's counts. The detail keeps the evidence, for the action's event."""
    found = shadow_standing(name, min_batches, metric, store=store)
    ready = [e for e in found if e["ready"]]
    if not ready:
        why = "; ".join(e["text"] for e in found) or f"no version of {name} is in shadow"
        return "held", {"why": f"{why}; promoting needs at least {min_batches} won and no loss",
                        "evidence": found}  # fmt: skip
    best = max(ready, key=lambda e: (e[WON], e["edge"]))
    ev = shadow_evidence(best["ref"], metric, store=store)
    old = store.get_model(name)
    text = evidence_reason(ev) + (f" ({reason})" if reason else "")
    new = ModelRegistry(store).bless(best["ref"], reason=text)
    return "done", {"from": old.version, "to": new.version, "why": text, "evidence": found}


def weigh_shadows(
    name: str, min_batches: int, metric: str | None, *, store: RunStore
) -> tuple[float | None, str, dict[str, Any]]:
    """A monitor's shadow check: (the best shadow's wins, the rule, the detail with each
    shadow's standing); no value, with a ``skip``, until a shadow was compared on a labelled
    batch (the check is then pending)."""
    rule = f"won >= {min_batches} and no loss" + (f" by {metric}" if metric else "")
    found = shadow_standing(name, min_batches, metric, store=store)
    compared = [e for e in found if e[WON] + e[TIED] + e[LOST]]
    if not compared:
        skip = "no labelled batch scored by a shadow" if found else "no shadow version"
        return None, rule, {"shadows": found, "skip": skip}
    return float(max(e[WON] for e in compared)), rule, {"shadows": found}


def promote_for_monitor(spec: MonitorSpec, store: RunStore) -> tuple[str, dict[str, Any]]:
    """The ``promote-shadow`` action of monitor ``spec`` (its shadow check's rule): the
    action's status (done or held) and the detail its event records."""
    check = next(c for c in spec.checks if c.kind == "shadow")
    status, detail = promote_best_shadow(
        spec.model, check.min_batches, check.metric, store=store, reason=f"monitor {spec.name}"
    )
    return status, {**detail, "reason": detail["why"]}


def _mean_edge(ev: dict[str, Any]) -> float:
    """How much better the shadow scored than the served version, on average (a tie-break)."""
    sign = 1.0 if HIGHER_IS_BETTER[ev["metric"]] else -1.0
    diffs = [sign * (b["shadow"] - b["served"]) for b in ev["batches"]]
    return sum(diffs) / len(diffs) if diffs else 0.0
