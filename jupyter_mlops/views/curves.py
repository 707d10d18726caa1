"""Curves of stepped metrics as charts draw them: every stepped metric of a run grouped by what
it measures (``GET runs/ID/curves``: ``validation_0-logloss`` beside ``validation_1-logloss``,
``loss`` beside ``val_loss``), and one metric of 2 to :data:`MAX_OVERLAY` runs overlaid
(``GET compare/curves``). A curve longer than the points asked for is downsampled here, not in
the browser: the smallest and largest value of each bucket of steps, so no spike is lost, with
the first and the exact last point kept; ``total`` says how many points the run logged."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..exceptions import NotFoundError, ValidationError
from .compare import NEEDS_TWO, run_labels
from .detail import curve_points
from .values import View

if TYPE_CHECKING:
    import pandas as pd

    from ..tracking import Tracker

DEFAULT_POINTS = 600  # per curve: a 250 to 700 px wide chart shows no more
MAX_POINTS = 20_000  # the most a caller may ask for
MAX_OVERLAY = 5  # runs overlaid in one compare chart; more are named, not drawn

Point = tuple[int, float | None, float]  # step, value (None: NaN), time


@dataclass(frozen=True)
class Curve(View):
    """One metric's curve: ``steps`` and ``values`` side by side (a null value is a gap).
    ``total``: the points logged; ``downsampled``: fewer are shown (min and max per bucket,
    the first and last point exact). ``label``: what a legend calls it."""

    key: str
    label: str
    steps: tuple[int, ...]
    values: tuple[float | None, ...]
    total: int
    downsampled: bool
    run_id: str = ""


@dataclass(frozen=True)
class CurveGroup(View):
    """Curves measuring one thing (``logloss`` on each eval set), drawn on one chart."""

    name: str
    curves: tuple[Curve, ...]


@dataclass(frozen=True)
class RunCurves(View):
    """Every stepped metric of a run (a metric logged at a step above 0), grouped; ``points``:
    the most any curve shows."""

    run_id: str
    groups: tuple[CurveGroup, ...]
    points: int
    downsampled: bool


@dataclass(frozen=True)
class CurveOverlay(View):
    """Metric ``key`` of up to :data:`MAX_OVERLAY` runs (``curves``, labelled by run name);
    ``missing``: runs without that curve; ``omitted``: runs past the first five, not drawn."""

    key: str
    curves: tuple[Curve, ...]
    missing: tuple[str, ...]
    omitted: tuple[str, ...]
    points: int


def check_points(points: int) -> int:
    if isinstance(points, bool) or not 2 <= points <= MAX_POINTS:
        raise ValidationError(f"points must be between 2 and {MAX_POINTS}, got {points!r}")
    return points


def downsample(points: Sequence[Point], limit: int) -> list[Point]:
    """At most ``limit`` points (2 or more) of a step-ordered curve: the first and last points,
    and between them the lowest and highest finite value of each of ``(limit - 2) // 2``
    equal buckets (a bucket of gaps keeps one gap), in step order."""
    n = len(points)
    if n <= limit:
        return list(points)
    inner = points[1:-1]
    buckets = max(1, (limit - 2) // 3)
    kept: list[Point] = [points[0]]
    for b in range(buckets):
        chunk = inner[b * len(inner) // buckets : (b + 1) * len(inner) // buckets]
        finite = [p for p in chunk if p[1] is not None]
        gap = next((p for p in chunk if p[1] is None), None)
        chosen = {gap} if gap is not None else set()
        if finite:
            chosen.add(min(finite, key=lambda p: p[1]))  # type: ignore[arg-type,return-value]
            chosen.add(max(finite, key=lambda p: p[1]))  # type: ignore[arg-type,return-value]
        kept.extend(sorted(chosen, key=lambda p: p[0]))
    kept.append(points[-1])
    return kept


def _curve(key: str, label: str, points: Sequence[Point], limit: int, run_id: str) -> Curve:
    shown = downsample(points, limit)
    return Curve(
        key,
        label,
        tuple(p[0] for p in shown),
        tuple(None if p[1] is None or not math.isfinite(p[1]) else p[1] for p in shown),
        len(points),
        len(shown) < len(points),
        run_id,
    )


# An eval set's name before the metric's: XGBoost and LightGBM ``validation_0-logloss``,
# CatBoost ``learn-Logloss``; Keras ``val_loss``; Lightning ``train_loss`` or ``val/acc``.
_SET_PREFIX = re.compile(r"^(?:val|valid|validation|train|training|test|eval)(?:_\d+)?[_/]")


def curve_group(key: str) -> str:
    """The chart a stepped metric is drawn on: its name without the eval set (a model's
    ``name.`` prefix kept, as one cell may train several)."""
    if "-" in key:
        head, _, metric = key.partition("-")
        model = head.rpartition(".")[0]
    else:
        model, _, metric = key.rpartition(".")
        if not metric:  # a name ending in a dot has no model prefix
            model, metric = "", key
        metric = _SET_PREFIX.sub("", metric) or metric
    return f"{model}.{metric}" if model else metric


def _stepped(history: pd.DataFrame) -> dict[str, list[Point]]:
    """Each stepped metric's points in step order (a scalar, logged at step 0 only, left out)."""
    out: dict[str, list[Point]] = {}
    if history.empty:
        return out
    for key, rows in history.groupby("key", sort=True):
        if not (rows["step"] > 0).any():
            continue
        cols = (rows["step"].tolist(), rows["value"].tolist(), rows["time"].tolist())
        out[str(key)] = curve_points(zip(*cols, strict=True))
    return out


def run_curves(tracker: Tracker, run_id: str, points: int = DEFAULT_POINTS) -> RunCurves:
    """Every stepped metric of run ``run_id``, grouped by :func:`curve_group`, each curve at
    most ``points`` long."""
    check_points(points)
    run = tracker.get_run(run_id)
    groups: dict[str, list[Curve]] = {}
    for key, pts in _stepped(tracker.metric_history(run.id)).items():
        groups.setdefault(curve_group(key), []).append(_curve(key, key, pts, points, run.id))
    values = tuple(CurveGroup(name, tuple(cs)) for name, cs in groups.items())
    down = any(c.downsampled for g in values for c in g.curves)
    return RunCurves(run.id, values, points, down)


def compare_curves(
    tracker: Tracker, run_ids: list[str], key: str, points: int = DEFAULT_POINTS
) -> CurveOverlay:
    """Metric ``key`` of the first :data:`MAX_OVERLAY` of ``run_ids`` (at least two), each
    labelled as compare labels it; the runs past them are listed in ``omitted``."""
    check_points(points)
    if len(run_ids) < 2:
        raise ValidationError(NEEDS_TWO)
    if not key:
        raise ValidationError("metric is required: the stepped metric to overlay, e.g. loss")
    runs = [tracker.get_run(r) for r in run_ids]
    labels = run_labels(runs)
    shown, omitted = runs[:MAX_OVERLAY], tuple(r.id for r in runs[MAX_OVERLAY:])
    curves: list[Curve] = []
    missing: list[str] = []
    for run, label in zip(shown, labels, strict=False):
        pts = _stepped(tracker.metric_history(run.id, key)).get(key)
        if pts is None:
            missing.append(run.id)
        else:
            curves.append(_curve(key, label, pts, points, run.id))
    if not curves:
        raise NotFoundError(f"None of these runs logged {key!r} at more than one step")
    return CurveOverlay(key, tuple(curves), tuple(missing), omitted, points)
