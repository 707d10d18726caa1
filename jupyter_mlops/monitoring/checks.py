"""A monitor's checks, each judged on its window: drift (whole, or per slice), performance and
per-slice metrics on the labelled rows, and where each shadow version stands. Each returns a
:class:`CheckResult`; :mod:`.evaluation` runs them and takes the actions their breaches call for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..store.base import MonitorBatch, RunStore
from .metrics import HIGHER_IS_BETTER
from .spec import Check

OK, BREACH, PENDING = "ok", "breach", "pending"  # a check's and an evaluation's status


@dataclass
class CheckResult:
    check: str
    kind: str
    breached: bool
    value: float | None
    threshold: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``breach``, ``ok``, or ``pending`` when there was not yet enough to judge (e.g. fewer
        labelled rows than ``min_labels``): not a pass, so it must not read as ``ok``."""
        if self.breached:
            return BREACH
        return PENDING if self.value is None and "skip" in self.detail else OK

    # Not its fields (codec.py): adds the derived `status` the panel shows.
    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "kind": self.kind,
            "status": self.status,
            "breached": self.breached,
            "value": self.value,
            "threshold": self.threshold,
            "action": self.action,
            "detail": self.detail,
        }


def drift_check(
    check: Check,
    ref: dict[str, Any] | None,
    window: list[MonitorBatch],
    batches: Sequence[MonitorBatch] = (),
) -> CheckResult:
    """``batches``: the model's blessed batches, where a per-slice reference may be found."""
    from ..validation.drift import check_drift
    from ..validation.profiles import Profile
    from .slices import sliced_drift

    threshold = f"share drifted <= {check.max_share:g}"
    by, pair, why = sliced_drift(check.by, ref, window, batches)
    if ref is None or not window or why:
        why = "no reference profile" if ref is None else why or "no batch in the window"
        return CheckResult(check.name, "drift", False, None, threshold, check.action, {"skip": why})
    merged = Profile.from_dict(window[0].profile or {})
    for b in window[1:]:
        merged = merged.merge(Profile.from_dict(b.profile or {}))
    reference, current = pair or (ref, merged)
    report = check_drift(reference, current, method=check.method, delta=check.delta, by=by)
    share = report.share_drifted
    return CheckResult(
        check.name,
        "drift",
        share > check.max_share,
        share,
        threshold,
        check.action,
        {
            "rows": merged.rows,
            **({"by": by} if by else {}),
            "drifted": [c for c, d in report.columns.items() if d.drifted],
            "columns": {c: d.describe() for c, d in report.columns.items()},
        },
    )


def _bad(check: Check, value: float) -> bool:
    return (check.min is not None and value < check.min) or (
        check.max is not None and value > check.max
    )


def _limit(check: Check) -> str:
    parts = [f">= {check.min:g}" if check.min is not None else ""]
    parts.append(f"<= {check.max:g}" if check.max is not None else "")
    return f"{check.metric} " + " and ".join(p for p in parts if p)


def performance_check(
    check: Check, metrics: dict[Any, dict[str, float]], why: str | None = None
) -> CheckResult:
    assert check.metric is not None
    results = {k: m for k, m in metrics.items() if check.metric in m}
    if check.kind == "performance":
        results = {k: m for k, m in results.items() if k is None}
    enough = {k: m for k, m in results.items() if m["n"] >= check.min_labels}
    bad = {str(k): m[check.metric] for k, m in enough.items() if _bad(check, m[check.metric])}
    if not enough:
        return CheckResult(
            check.name,
            check.kind,
            False,
            None,
            _limit(check),
            check.action,
            {"skip": why or f"fewer than {check.min_labels} labelled rows in the window"},
        )
    values = [m[check.metric] for m in enough.values()]
    worst = min(values) if HIGHER_IS_BETTER.get(check.metric, True) else max(values)
    return CheckResult(
        check.name,
        check.kind,
        bool(bad),
        worst,
        _limit(check),
        check.action,
        {"breaching": bad, "labelled": sum(int(m["n"]) for m in enough.values())},
    )


def shadow_check(check: Check, st: RunStore, name: str) -> CheckResult:
    """Where each shadow stands: never a breach (a shadow doing well is no fault)."""
    from .shadow import weigh_shadows

    value, rule, detail = weigh_shadows(name, check.min_batches, check.metric, store=st)
    return CheckResult(check.name, "shadow", False, value, rule, check.action, detail)
