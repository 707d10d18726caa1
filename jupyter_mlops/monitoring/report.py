"""The monitor report: one table of batches (drift share, metrics) and the evaluations, breaches
and actions, as text for the terminal, JSON, or a self-contained HTML page."""

from __future__ import annotations

import dataclasses
import html
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import bounds
from ..codec import iso_time, parse_moment, utc
from ..exceptions import NotFoundError, ValidationError
from ..store.base import MonitorEvent, RunStore
from .history import History, history
from .spec import list_monitors, load_monitor, monitor_exists, seconds


def _t(t: float) -> str:
    return utc(t).strftime("%Y-%m-%d %H:%M")


def _metric_keys(h: History) -> list[str]:
    keys: dict[str, None] = {}
    for b in h.batches:
        keys.update(dict.fromkeys(k for k in b.metrics if k != "n"))
    return list(keys)


def batch_table(h: History) -> tuple[list[str], list[list[str]]]:
    keys = _metric_keys(h)
    head = ["time (UTC)", "version", "role", "rows", "latency", "drift share", "drifted"]
    head += ["labelled", *keys]
    body = []
    for b in h.batches:
        share = "" if b.share_drifted is None else f"{b.share_drifted:.2f}"
        lat = "" if b.latency is None else f"{b.latency * 1000:.1f}ms"
        row = [_t(b.time), f"@{b.version}", b.role, str(b.n_rows), lat, share, ",".join(b.drifted)]
        row.append(str(int(b.metrics["n"])) if "n" in b.metrics else "")
        row += [f"{b.metrics[k]:.3g}" if k in b.metrics else "" for k in keys]
        body.append(row)
    return head, body


def describe_event(e: MonitorEvent) -> str:
    d = e.detail
    if e.kind == "evaluation":
        checks = d.get("checks", [])
        bad = [c for c in checks if c.get("breached")]
        if not bad:
            # Events recorded before checks had a status have no "pending" ones.
            pending = [c for c in checks if c.get("status") == "pending"]
            why = [f"{c['check']} pending ({c.get('detail', {}).get('skip')})" for c in pending]
            ok = len(checks) - len(pending)
            return f"@{d.get('version')} " + "; ".join(
                [*why, f"{ok} checks ok"] if ok or not why else why
            )
        return "; ".join(
            f"{c['check']} {c['value']:.3g} breaches {c['threshold']} -> {c['action']}"
            for c in bad
            if c.get("value") is not None
        )
    text = f"{d.get('action')}: {d.get('reason', '')}"
    if "run_id" in d:
        text += f" -> run {str(d['run_id'])[:8]} {d.get('status', '')}"
        text += ", model blessed" if d.get("blessed") else ", model kept as a candidate (gates)"
    if "to" in d:
        text += f" -> @{d['from']} archived, @{d['to']} blessed"
    if "error" in d:
        text += f" ({d['error']})"
    return text


def event_table(h: History) -> tuple[list[str], list[list[str]]]:
    head = ["time (UTC)", "kind", "status", "detail"]
    return head, [[_t(e.time), e.kind, e.status, describe_event(e)] for e in h.events]


def _text_table(head: list[str], body: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *body]]
    return "\n".join(line.rstrip() for line in lines)


def header(h: History, blessed: str | None) -> str:
    text = f"model {h.name}: blessed {blessed or '(none)'}"
    if h.spec is not None:
        checks = ", ".join(c.name + f" -> {c.action}" for c in h.spec.checks)
        text += f"; monitor window {h.spec.window}, checks: {checks or 'none'}"
    return text


def render_text(h: History, blessed: str | None) -> str:
    parts = [header(h, blessed)]
    parts.append(_text_table(*batch_table(h)) if h.batches else "no batches in this period")
    breaches = sum(1 for e in h.events if e.kind == "evaluation" and e.status == "breach")
    parts.append(f"\nevaluations: {sum(e.kind == 'evaluation' for e in h.events)}, "
                 f"breaches: {breaches}")  # fmt: skip
    if h.events:
        parts.append(_text_table(*event_table(h)))
    return "\n".join(parts)


def _html_table(head: list[str], body: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    trs = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _svg(fig: Any) -> str:
    import io

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    return buf.getvalue()


def render_html(h: History, blessed: str | None, figures: list[Any] | None = None) -> str:
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px}"
    )
    body = [
        f"<h1>Monitoring: {html.escape(h.name)}</h1>",
        f"<p>{html.escape(header(h, blessed))}</p>",
    ]
    body += ["<h2>Batches</h2>", _html_table(*batch_table(h))]
    body += ["<h2>Evaluations and actions</h2>", _html_table(*event_table(h))]
    body += [_svg(f) for f in figures or []]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(h.name)}"
        f" monitoring</title><style>{style}</style></head><body>{''.join(body)}</body></html>"
    )


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
        ev["won"] = sum(b["won"] for b in ev["batches"])
        n = len(ev["batches"])
        out.append(
            {
                "ref": mv.ref,
                "version": mv.version,
                "metric": ev["metric"],
                "batches": n,
                "won": ev["won"],
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
    monitors_dir: str | Path = "monitors",
    pipelines_dir: str | Path = "pipelines",
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The whole monitoring record of monitor ``name``: ``jupyter-mlops monitor NAME --json``."""
    from ..exceptions import ModelNotFoundError

    h = _recent(name, since, now, store, Path(monitors_dir), Path(pipelines_dir), clock)
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
    monitors_dir: str | Path = "monitors",
    pipelines_dir: str | Path = "pipelines",
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """:func:`series` of monitor ``name`` over ``since``."""
    h = _recent(name, since, now, store, Path(monitors_dir), Path(pipelines_dir), clock)
    return series(h, kind or "drift", column=column or None, metric=metric or None)


def summaries(
    *,
    store: RunStore,
    monitors_dir: str | Path = "monitors",
    pipelines_dir: str | Path = "pipelines",
) -> list[dict[str, Any]]:
    """One row per monitor: its model, blessed and shadow versions, last batch and breach."""
    from ..entities import ModelStage
    from ..exceptions import ModelNotFoundError

    out: list[dict[str, Any]] = []
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


def series(
    h: History, kind: str, column: str | None = None, metric: str | None = None
) -> dict[str, Any]:
    """Points over time with thresholds and breach markers: what ``plot_drift`` and
    ``plot_performance`` draw and ``GET monitors/NAME/series`` returns.

    ``kind='drift'``: the share of drifted columns per blessed batch (threshold: the drift
    check's ``max_share``), or ``column``'s statistic (or adjusted p for a test, which drifts
    *below* its threshold). ``kind='performance'``: ``metric`` per labelled batch, one line per
    version, with the performance check's min and max."""
    if kind == "drift":
        if metric is not None:
            raise ValidationError("metric= goes with kind=performance; drift takes column=")
        return _drift_series(h, column)
    if kind == "performance":
        if column is not None:
            raise ValidationError("column= goes with kind=drift; performance takes metric=")
        return _performance_series(h, metric)
    raise ValidationError(f"kind {kind!r} must be drift or performance")


def _drift_series(h: History, column: str | None) -> dict[str, Any]:
    rows = [b for b in h.batches if b.share_drifted is not None]
    points: list[dict[str, Any]]
    if column is None:
        limit = next(
            (c.max_share for c in (h.spec.checks if h.spec else ()) if c.kind == "drift"), 0.0
        )
        points = [
            {"time": iso_time(b.time), "value": float(b.share_drifted or 0.0), "version": b.version,
             "breach": float(b.share_drifted or 0.0) > limit}
            for b in rows
        ]  # fmt: skip
        return {
            "name": h.name, "kind": "drift", "column": None, "metric": None,
            "label": "share of columns drifted", "breach_when": "above",
            "thresholds": [limit],
            "series": [{"label": "drift", "version": None, "role": "blessed", "points": points}],
        }  # fmt: skip
    rows = [b for b in rows if column in b.column_stats]
    if not rows:
        raise ValidationError(f"No drift measured for column {column!r} of model {h.name!r}")
    test = rows[-1].columns.get(column, {}).get("p_value") is not None
    points = [
        {"time": iso_time(b.time), "value": b.column_stats[column][0], "version": b.version,
         "threshold": b.column_stats[column][1], "breach": b.column_stats[column][2],
         "method": b.columns.get(column, {}).get("method")}
        for b in rows
    ]  # fmt: skip
    return {
        "name": h.name, "kind": "drift", "column": column, "metric": None,
        "label": f"{column}: " + ("adjusted p" if test else "statistic"),
        "breach_when": "below" if test else "above",
        "thresholds": [rows[-1].column_stats[column][1]],
        "series": [{"label": column, "version": None, "role": "blessed", "points": points}],
    }  # fmt: skip


def _performance_series(h: History, metric: str | None) -> dict[str, Any]:
    from .metrics import HIGHER_IS_BETTER

    if metric is None:
        seen = [k for b in h.batches for k in b.metrics if k != "n"]
        if not seen:
            raise ValidationError(f"No labelled batch of model {h.name!r} yet; log labels first")
        metric = seen[0]
    if metric not in HIGHER_IS_BETTER:
        raise ValidationError(
            f"Unknown metric {metric!r}; use one of {', '.join(HIGHER_IS_BETTER)}"
        )
    check = next(
        (c for c in (h.spec.checks if h.spec else ()) if c.kind == "performance"
         and c.metric == metric),
        None,
    )  # fmt: skip
    lo, hi = (check.min, check.max) if check else (None, None)
    lines = []
    for version in sorted({b.version for b in h.batches}):
        rows = [b for b in h.batches if b.version == version and metric in b.metrics]
        if not rows:
            continue
        points = [
            {"time": iso_time(b.time), "value": b.metrics[metric], "version": version,
             "breach": (lo is not None and b.metrics[metric] < lo)
             or (hi is not None and b.metrics[metric] > hi)}
            for b in rows
        ]  # fmt: skip
        role = rows[-1].role
        lines.append(
            {"label": f"{h.name}@{version} ({role})", "version": version, "role": role,
             "points": points}
        )  # fmt: skip
    return {
        "name": h.name, "kind": "performance", "column": None, "metric": metric,
        "label": metric, "breach_when": "outside",
        "thresholds": [t for t in (lo, hi) if t is not None],
        "series": lines,
    }  # fmt: skip
