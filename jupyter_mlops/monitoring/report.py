"""The monitor report: one table of batches (drift share, metrics) and the evaluations, breaches
and actions, as text for the terminal, JSON, or a self-contained HTML page.

This module builds the values (what ``jupyter-mlops monitor NAME --json`` prints and the REST API
returns); :mod:`.rendering` formats them for people and :mod:`.trends` gives the series over
time.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import bounds
from ..codec import iso_time, parse_moment
from ..exceptions import NotFoundError, ValidationError
from ..store.base import MonitorEvent, RunStore
from .history import History, history
from .rendering import describe_event
from .rendering import render_html as render_html  # re-exported: the CLI imports them from here
from .rendering import render_text as render_text
from .spec import folders, list_monitors, load_monitor, monitor_exists, seconds
from .trends import series

# -- what the sidebar's Monitoring tab and the REST API show ------------------------------------


def _evaluations(h: History) -> list[MonitorEvent]:
    """The evaluations of this monitor (two monitors may watch one model)."""
    name = h.spec.name if h.spec else None
    return [
        e
        for e in h.events
        if e.kind == "evaluation" and (name is None or e.detail.get("monitor", name) == name)
    ]


def status_of(h: History) -> str:
    """``breach``, ``pending`` (a check could not judge yet, e.g. too few labels) or ``ok`` as
    the monitor's latest evaluation found; ``pending`` before any."""
    found = _evaluations(h)
    return "pending" if not found else found[-1].status


def _breaches(h: History) -> list[dict[str, Any]]:
    return [
        {
            "time": iso_time(e.time),
            "version": e.detail.get("version"),
            "window": e.detail.get("window"),
            "checks": [
                {k: c.get(k) for k in ("check", "kind", "value", "threshold", "action")}
                for c in e.detail.get("checks", [])
                if c.get("breached")
            ],
            "description": describe_event(e),
        }
        for e in h.events
        if e.kind == "evaluation" and e.status == "breach"
    ]


def _actions(h: History) -> list[dict[str, Any]]:
    return [
        {**e.detail, "time": iso_time(e.time), "status": e.status, "description": describe_event(e)}
        for e in h.events
        if e.kind == "action"
    ]


def _performance(h: History) -> list[dict[str, Any]]:
    """Per metric: the monitor's limits and the latest labelled window's value."""
    checks = [c for c in (h.spec.checks if h.spec else ()) if c.kind == "performance"]
    seen = {k for w in h.windows for k in w.metrics if k != "n"}
    metrics = list(dict.fromkeys([*(c.metric for c in checks if c.metric), *sorted(seen)]))
    out = []
    for metric in metrics:
        check = next((c for c in checks if c.metric == metric), None)
        last = next((w for w in reversed(h.windows) if metric in w.metrics), None)
        value = last.metrics[metric] if last else None
        lo, hi = (check.min, check.max) if check else (None, None)
        labelled = int(last.metrics["n"]) if last else 0
        breached = value is not None and (
            (lo is not None and value < lo) or (hi is not None and value > hi)
        )
        # Too few labels to judge is pending, as in the evaluation (not ok, not a breach).
        pending = value is None or (check is not None and labelled < check.min_labels)
        out.append(
            {
                "metric": metric,
                "min": lo,
                "max": hi,
                "value": value,
                "labelled": labelled,
                "window_start": iso_time(last.start) if last else None,
                "breached": breached and not pending,
                "status": "pending" if pending else "breach" if breached else "ok",
            }
        )
    return out


def to_json(
    h: History, blessed: str | None, shadows: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What ``jupyter-mlops monitor NAME --json`` prints and ``GET monitors/NAME`` returns."""
    spec = h.spec
    return {
        **h.to_dict(),
        "model": h.name,
        "monitor": None
        if spec is None
        else {
            "name": spec.name,
            "window": spec.window,
            "cooldown": spec.cooldown,
            "pipeline": spec.pipeline,
            "checks": [{"name": c.name, **dataclasses.asdict(c)} for c in spec.checks],
        },
        "blessed": blessed,
        "status": status_of(h),
        "windows": [w.to_dict() for w in h.windows],
        "performance": _performance(h),
        "breaches": _breaches(h),
        "actions": _actions(h),
        "shadows": shadows or [],
    }


def shadow_comparisons(h: History, store: RunStore) -> list[dict[str, Any]]:
    """Each shadow version of the history's model against the blessed one on the labelled
    batches both scored in the history's period (``models promote-shadow``'s evidence)."""
    name, within = h.name, {b.batch_id for b in h.batches}
    from ..entities import ModelStage
    from ..exceptions import MLOpsError
    from .shadow import shadow_evidence

    out = []
    try:
        versions = store.list_models(name)
    except LookupError:  # a monitor set up before its model was registered
        versions = []
    for mv in versions:
        if mv.stage is not ModelStage.SHADOW:
            continue
        try:
            ev = shadow_evidence(mv.ref, store=store)
        except MLOpsError as e:  # e.g. no labels yet: the shadow is listed, without evidence
            out.append({"ref": mv.ref, "version": mv.version, "error": str(e)})
            continue
        ev["batches"] = [b for b in ev["batches"] if b["batch_id"] in within]
        n = len(ev["batches"])
        out.append(
            {
                "ref": mv.ref,
                "version": mv.version,
                "metric": ev["metric"],
                "batches": n,
                "won": sum(b["result"] == "won" for b in ev["batches"]),
                "tied": sum(b["result"] == "tied" for b in ev["batches"]),
                "lost": sum(b["result"] == "lost" for b in ev["batches"]),
                "shadow": sum(b["shadow"] for b in ev["batches"]) / n if n else None,
                "blessed": sum(b["served"] for b in ev["batches"]) / n if n else None,
            }
        )
    return out


def _period(since: str | None, now: str | None, clock: Callable[[], float]) -> float | None:
    """``since`` ('7d', '12h', seconds; 0 or more) back from ``now`` (ISO-8601, or epoch seconds
    as before; default the clock)."""
    at = clock()
    if now not in (None, ""):
        at = parse_moment(str(now), "now")
    if since in (None, ""):
        return None
    if len(str(since)) > 40:
        raise ValidationError(f"since is {len(str(since))} characters long; the limit is 40")
    return at - bounds.check_float(seconds(since), "since (seconds)", lo=0)


def _monitor(name: str, monitors_dir: str | Path, pipelines_dir: str | Path) -> None:
    if not monitor_exists(name, monitors_dir, pipelines_dir):
        known = list_monitors(monitors_dir, pipelines_dir)
        raise NotFoundError(
            f"No monitor {name!r} (monitors: {', '.join(known) or 'none yet'}); write "
            f"{Path(monitors_dir) / name}.yaml or a 'monitor:' key in its pipeline spec"
        )


def _recent(
    name: str,
    since: str | None,
    now: str | None,
    store: RunStore,
    monitors_dir: Path,
    pipelines_dir: Path,
    clock: Callable[[], float],
) -> History:
    """The history of monitor ``name`` (which must exist) over the period ``since``."""
    # The parameters first: a bad one is the same 400 whether or not the monitor exists.
    bounds.check_name(name, "monitor name", "monitor")
    start = _period(since, now, clock)
    _monitor(name, monitors_dir, pipelines_dir)
    return history(name, start, store=store, monitors_dir=monitors_dir, pipelines_dir=pipelines_dir)


def detail(
    name: str,
    since: str | None = None,
    now: str | None = None,
    *,
    store: RunStore,
    monitors_dir: str | Path | None = None,
    pipelines_dir: str | Path | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The whole monitoring record of monitor ``name``: ``jupyter-mlops monitor NAME --json``."""
    from ..exceptions import ModelNotFoundError

    h = _recent(name, since, now, store, *folders(monitors_dir, pipelines_dir), clock)
    try:
        blessed: str | None = store.get_model(h.name).ref
    except ModelNotFoundError:
        blessed = None
    return to_json(h, blessed, shadow_comparisons(h, store))


def monitor_series(
    name: str,
    kind: str | None,
    column: str | None = None,
    metric: str | None = None,
    since: str | None = None,
    now: str | None = None,
    *,
    store: RunStore,
    monitors_dir: str | Path | None = None,
    pipelines_dir: str | Path | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """:func:`series` of monitor ``name`` over ``since``."""
    h = _recent(name, since, now, store, *folders(monitors_dir, pipelines_dir), clock)
    return series(h, kind or "drift", column=column or None, metric=metric or None)


def summaries(
    *,
    store: RunStore,
    monitors_dir: str | Path | None = None,
    pipelines_dir: str | Path | None = None,
) -> list[dict[str, Any]]:
    """One row per monitor: its model, blessed and shadow versions, last batch and breach."""
    from ..entities import ModelStage
    from ..exceptions import ModelNotFoundError

    out: list[dict[str, Any]] = []
    monitors_dir, pipelines_dir = folders(monitors_dir, pipelines_dir)
    for name in list_monitors(monitors_dir, pipelines_dir):
        try:
            spec = load_monitor(name, monitors_dir, pipelines_dir)
        except ValidationError as e:  # one broken spec must not hide the other monitors
            out.append({"name": name, "status": "error", "error": str(e)})
            continue
        try:
            versions = store.list_models(spec.model)
        except ModelNotFoundError:
            versions = []
        events = store.monitor_events(spec.model)
        batches = store.monitor_batches(spec.model)
        h = History(spec.model, spec, [], events)
        breaches = [e.time for e in _evaluations(h) if e.status == "breach"]
        out.append(
            {
                "name": name,
                "model": spec.model,
                "window": spec.window,
                "blessed": next(
                    (mv.ref for mv in versions if mv.stage is ModelStage.BLESSED), None
                ),
                "shadows": [mv.ref for mv in versions if mv.stage is ModelStage.SHADOW],
                "last_batch": iso_time(batches[-1].time) if batches else None,
                "batches": len(batches),
                "last_breach": iso_time(breaches[-1]) if breaches else None,
                "status": status_of(h),
            }
        )
    return out
