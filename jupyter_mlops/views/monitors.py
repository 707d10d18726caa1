"""Production monitoring: every monitor (``GET monitors``), one monitor's report (``GET
monitors/NAME``, ``jupyter-mlops monitor NAME --json``) and a series to plot (``GET
monitors/NAME/series``). Times are epoch seconds, as the monitoring records keep them. A
report lists each window's drifted columns first, and says what each check does on a breach
in words ("roll back churn to version 2").

:mod:`jupyter_mlops.monitoring.report` computes these; here they become typed values, checked
field by field on the way (msgspec's ``convert``), so a key the report adds or drops fails the
tests instead of reaching the panel untyped."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import msgspec

from .values import View

if TYPE_CHECKING:
    from ..store.base import RunStore

T = TypeVar("T")
Health = Literal["ok", "breach", "pending", "error"]


def _typed(data: Any, cls: type[T]) -> T:
    return msgspec.convert(data, cls)


@dataclass(frozen=True)
class MonitorSummary(View):
    """A monitor: its model, blessed and shadow versions, last batch and breach; ``error``
    for a spec that does not load."""

    name: str
    status: Health
    model: str | None = None
    window: str | None = None
    blessed: str | None = None
    shadows: tuple[str, ...] = ()
    last_batch: dt.datetime | None = None
    batches: int = 0
    last_breach: dt.datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class Monitors(View):
    monitors: tuple[MonitorSummary, ...]


@dataclass(frozen=True)
class ColumnDrift(View):
    """One column's drift verdict (``validation.drift_report.ColumnDrift.to_dict``): the test
    that decided, its effect with the 95 % interval against the practical size ``delta``, the
    null shares (reference, current), or a named breach's words in ``detail``."""

    kind: str
    method: str
    statistic: float
    threshold: float
    drifted: bool
    p_value: float | None = None
    p_adjusted: float | None = None
    n_reference: int = 0
    n_current: int = 0
    slice: str | None = None  # per-slice drift: e.g. "region=north"
    column: str | None = None  # per-slice drift: the column (the key also names the slice)
    effect: float | None = None
    interval: tuple[float, ...] = ()  # (low, high) of the effect's 95 % interval
    delta: float | None = None
    null_shares: tuple[float, ...] | None = None  # (reference, current)
    detail: str | None = None  # a named breach: missing, new, all null, another type


@dataclass(frozen=True)
class BatchInfo(View):
    batch_id: str
    time: dt.datetime
    version: int
    role: str
    rows: int
    latency: float | None
    share_drifted: float | None
    drifted: tuple[str, ...]
    columns: dict[str, ColumnDrift]
    metrics: dict[str, float]


@dataclass(frozen=True)
class MonitorEventInfo(View):
    time: dt.datetime
    kind: str  # evaluation | action
    status: str
    detail: dict[str, Any]  # what was evaluated or done: free-form


@dataclass(frozen=True)
class WindowInfo(View):
    start: dt.datetime
    end: dt.datetime
    version: int
    batches: int
    rows: int
    share_drifted: float | None
    drifted: tuple[str, ...]
    columns: dict[str, ColumnDrift]
    metrics: dict[str, float]


@dataclass(frozen=True)
class CheckPlan(View):
    """What a check does when it breaches, in words: "retrain with pipeline churn", "roll
    back churn to version 2", "notify"."""

    check: str
    kind: str
    action: str
    words: str


@dataclass(frozen=True)
class MonitorInfo(View):
    name: str
    window: str
    cooldown: float
    pipeline: str | None
    checks: tuple[dict[str, Any], ...]  # each check's settings, by kind: free-form
    plans: tuple[CheckPlan, ...] = ()  # the checks' actions in words, in the checks' order


@dataclass(frozen=True)
class Performance(View):
    """Per metric: the monitor's limits and the latest labelled window's value; ``pending``
    while too few labels judge it."""

    metric: str
    min: float | None
    max: float | None
    value: float | None
    labelled: int
    window_start: dt.datetime | None
    breached: bool
    status: Literal["ok", "breach", "pending"]


@dataclass(frozen=True)
class BreachedCheck(View):
    check: str
    kind: str
    value: float | None
    threshold: str | None
    action: str | None


@dataclass(frozen=True)
class Breach(View):
    time: dt.datetime
    version: int | None
    window: Any  # the evaluated window, as the evaluation recorded it
    checks: tuple[BreachedCheck, ...]
    description: str


@dataclass(frozen=True)
class ActionTaken(View):
    """An action a monitor took (retrain, rollback, notify) and how it went."""

    time: dt.datetime
    action: str | None
    status: str
    description: str
    detail: dict[str, Any]  # what the action recorded besides: free-form

    @classmethod
    def of(cls, record: dict[str, Any]) -> ActionTaken:
        """From the report's flat record (the action's detail with time and description)."""
        named = {"time", "action", "status", "description"}
        rest = {k: v for k, v in record.items() if k not in named}
        return _typed({**{k: record.get(k) for k in named}, "detail": rest}, cls)


@dataclass(frozen=True)
class ShadowComparison(View):
    """A shadow version against the blessed one on the labelled batches both scored."""

    ref: str
    version: int
    metric: str | None = None
    batches: int | None = None
    won: int | None = None
    tied: int | None = None  # ties count neither way; batches the shadow served are left out
    lost: int | None = None
    shadow: float | None = None
    blessed: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class MonitorReport(View):
    """The whole monitoring record of a monitor over a period."""

    name: str
    model: str
    monitor: MonitorInfo | None
    blessed: str | None
    status: Health
    batches: tuple[BatchInfo, ...]
    events: tuple[MonitorEventInfo, ...]
    windows: tuple[WindowInfo, ...]
    performance: tuple[Performance, ...]
    breaches: tuple[Breach, ...]
    actions: tuple[ActionTaken, ...]
    shadows: tuple[ShadowComparison, ...]


@dataclass(frozen=True)
class SeriesPoint(View):
    time: dt.datetime
    value: float
    breach: bool
    version: int | None = None
    threshold: float | None = None
    method: str | None = None


@dataclass(frozen=True)
class SeriesLine(View):
    label: str
    version: int | None
    role: str
    points: tuple[SeriesPoint, ...]


@dataclass(frozen=True)
class MonitorSeries(View):
    """Points over time with thresholds and breach markers: what the plots draw."""

    name: str
    kind: Literal["drift", "performance"]
    column: str | None
    metric: str | None
    label: str
    breach_when: Literal["above", "below", "outside"]
    thresholds: tuple[float, ...]
    series: tuple[SeriesLine, ...]


def _drifted_first(columns: dict[str, Any]) -> dict[str, Any]:
    """A window's or batch's columns with the drifted ones first (each group in its order)."""
    return dict(sorted(columns.items(), key=lambda kv: not kv[1].get("drifted")))


def _rollback_target(store: RunStore, model: str) -> int | None:
    """The version a rollback of ``model`` would bless now (the registry's own rule)."""
    from ..exceptions import ModelNotFoundError
    from ..store.sql_registry import blessing_stack

    try:
        current = store.get_model(model).version
    except ModelNotFoundError:
        return None
    earlier = [v for v in blessing_stack(store.model_events(model)) if v != current]
    return earlier[-1] if earlier else None


def _plan_words(action: str, model: str, pipeline: str | None, store: RunStore) -> str:
    if action == "retrain":
        if pipeline is None:
            from ..exceptions import ModelNotFoundError

            try:
                pipeline = store.get_model(model).pipeline
            except ModelNotFoundError:
                pipeline = None
        return f"retrain with pipeline {pipeline}" if pipeline else (
            "retrain (no pipeline: name one with the monitor's pipeline: key)"
        )  # fmt: skip
    if action == "rollback":
        to = _rollback_target(store, model)
        if to is None:
            return f"roll back {model} (no earlier blessed version to roll back to)"
        return f"roll back {model} to version {to}"
    return action  # notify, and any action added later, by its name


def _plans(monitor: dict[str, Any] | None, model: str, store: RunStore) -> list[dict[str, Any]]:
    if monitor is None:
        return []
    words: dict[str, str] = {}  # one look-up per action, whatever the number of checks
    out = []
    for c in monitor["checks"]:
        action = str(c.get("action"))
        if action not in words:
            words[action] = _plan_words(action, model, monitor.get("pipeline"), store)
        plan = {"check": c["name"], "kind": c["kind"], "action": action}
        if action == "promote-shadow":  # weighed at every evaluation, not on a breach
            n = c.get("min_batches", 3)
            words[action] = (
                f"bless a shadow version once it won {n} labelled batches served by another "
                "version and lost none"
            )
        out.append({**plan, "words": words[action]})
    return out


def _report(found: dict[str, Any], store: RunStore) -> MonitorReport:
    actions = [ActionTaken.of(a).to_dict() for a in found["actions"]]
    monitor = found.get("monitor")
    if monitor is not None:
        monitor = {**monitor, "plans": _plans(monitor, found["model"], store)}
    ordered = {
        key: [{**w, "columns": _drifted_first(w["columns"])} for w in found[key]]
        for key in ("windows", "batches")
    }
    return _typed({**found, **ordered, "actions": actions, "monitor": monitor}, MonitorReport)


def monitor_list(*, store: RunStore, monitors_dir: Path, pipelines_dir: Path) -> Monitors:
    from ..monitoring.report import summaries

    found = summaries(store=store, monitors_dir=monitors_dir, pipelines_dir=pipelines_dir)
    return Monitors(tuple(_typed(s, MonitorSummary) for s in found))


def monitor_report(
    name: str,
    since: str | None = None,
    now: str | None = None,
    *,
    store: RunStore,
    monitors_dir: Path,
    pipelines_dir: Path,
    clock: Callable[[], float] = time.time,
) -> MonitorReport:
    """Monitor ``name`` over ``since`` (a duration back from ``now``, epoch seconds)."""
    from ..monitoring.report import detail

    found = detail(
        name, since, now, store=store, monitors_dir=monitors_dir,
        pipelines_dir=pipelines_dir, clock=clock,
    )  # fmt: skip
    return _report(found, store)


def report_of(history: Any, blessed: str | None, store: RunStore) -> MonitorReport:
    """The report of a history already read (``jupyter-mlops monitor`` reads one for its
    table and HTML too)."""
    from ..monitoring.report import shadow_comparisons, to_json

    return _report(to_json(history, blessed, shadow_comparisons(history, store)), store)


def monitor_series(
    name: str,
    kind: str | None,
    column: str | None = None,
    metric: str | None = None,
    since: str | None = None,
    now: str | None = None,
    *,
    store: RunStore,
    monitors_dir: Path,
    pipelines_dir: Path,
) -> MonitorSeries:
    from ..monitoring import report

    found = report.monitor_series(
        name, kind, column, metric, since, now, store=store, monitors_dir=monitors_dir,
        pipelines_dir=pipelines_dir,
    )  # fmt: skip
    return _typed(found, MonitorSeries)
