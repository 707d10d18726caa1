"""A monitor's measures over time, with their thresholds and breaches: what the plots draw and
``GET monitors/NAME/series`` returns."""

from __future__ import annotations

from typing import Any

from ..codec import iso_time
from ..exceptions import ValidationError
from .history import History


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
