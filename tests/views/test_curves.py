"""Curves as the panel draws them (issue 21, item 5): every stepped metric of a run grouped by
what it measures, long curves downsampled server-side with their spikes and exact last point
kept, and one metric of 2 to 5 runs overlaid, over a real store."""

from __future__ import annotations

import math

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import NotFoundError, ValidationError
from jupyter_mlops.views import compare_curves, run_curves
from jupyter_mlops.views.curves import MAX_OVERLAY, curve_group, downsample


def _boosted(rounds: int = 1000, spike: int = 437) -> str:
    """A run as an XGBoost cell records it: two eval sets, two metrics each, a scalar."""
    with mlops.start_run(experiment="gbm", name="xgb") as run:
        for step in range(rounds):
            loss = 0.7 * math.exp(-step / 200) + 0.05
            run.log_metrics(
                {
                    "validation_0-logloss": loss,
                    "validation_1-logloss": loss + (1.5 if step == spike else 0.02),
                    "validation_0-auc": 1 - loss / 2,
                    "validation_1-auc": 1 - loss / 2 - 0.01,
                },
                step=step,
            )
        run.log_metric("best_score", 0.123)
    return run.id


def test_every_stepped_metric_grouped_by_eval_set_and_downsampled(tracker) -> None:
    run_id = _boosted()
    curves = run_curves(tracker, run_id, points=200)
    groups = {g.name: [c.key for c in g.curves] for g in curves.groups}
    # Each metric on one chart, one line per eval set; the scalar is no curve.
    assert groups == {
        "auc": ["validation_0-auc", "validation_1-auc"],
        "logloss": ["validation_0-logloss", "validation_1-logloss"],
    }
    assert curves.downsampled and curves.points == 200
    hist = tracker.metric_history(run_id, "validation_1-logloss").sort_values("step")
    curve = next(c for g in curves.groups for c in g.curves if c.key == "validation_1-logloss")
    assert curve.total == 1000 and curve.downsampled
    assert len(curve.steps) <= 200 and len(curve.steps) == len(curve.values)
    assert list(curve.steps) == sorted(set(curve.steps))
    # The exact first and last points, and the one-round spike survives min/max bucketing.
    assert (curve.steps[0], curve.values[0]) == (0, hist["value"].iloc[0])
    assert (curve.steps[-1], curve.values[-1]) == (999, hist["value"].iloc[-1])
    assert 437 in curve.steps and max(v for v in curve.values if v is not None) == pytest.approx(
        hist["value"].max()
    )
    # Asked for more points than logged: every point, not downsampled.
    full = run_curves(tracker, run_id, points=5000)
    assert not full.downsampled
    assert all(len(c.steps) == 1000 for g in full.groups for c in g.curves)


def test_downsample_keeps_gaps_and_bounds() -> None:
    pts = [(s, None if 300 <= s < 320 else float(s % 7), 0.0) for s in range(1000)]
    out = downsample(pts, 100)
    assert len(out) <= 100 and out[0] == pts[0] and out[-1] == pts[-1]
    assert any(p[1] is None for p in out)  # a bucket of gaps stays a gap
    assert downsample(pts[:50], 100) == pts[:50]
    with pytest.raises(ValidationError, match="points must be between 2 and"):
        run_curves(mlops.default_tracker(), "x", points=1)


@pytest.mark.parametrize(
    ("key", "group"),
    [
        ("validation_0-logloss", "logloss"),
        ("learn-Logloss", "Logloss"),
        ("clf.validation_1-auc", "clf.auc"),
        ("val_loss", "loss"),
        ("loss", "loss"),
        ("train_loss", "loss"),
        ("val/acc", "acc"),
        ("reg.valid_0-l2", "reg.l2"),
        ("accuracy", "accuracy"),
    ],
)
def test_curve_group(key: str, group: str) -> None:
    assert curve_group(key) == group


def test_compare_overlays_up_to_five_runs(tracker) -> None:
    ids = []
    for i in range(7):
        with mlops.start_run(experiment="sweep", name=f"lr-{i}") as run:
            if i != 1:  # run 1 logged no curve
                for step in range(40):
                    run.log_metric("train_loss", 1.0 / (step + 1 + i), step=step)
            run.log_metric("acc", 0.5)
        ids.append(run.id)
    overlay = compare_curves(tracker, ids, "train_loss", points=10)
    assert [c.label for c in overlay.curves] == ["lr-0", "lr-2", "lr-3", "lr-4"]
    assert [c.run_id for c in overlay.curves] == [ids[0], *ids[2:MAX_OVERLAY]]
    assert overlay.missing == (ids[1],) and overlay.omitted == tuple(ids[MAX_OVERLAY:])
    assert all(c.total == 40 and len(c.steps) <= 10 and c.steps[-1] == 39 for c in overlay.curves)
    assert overlay.curves[1].values[-1] == pytest.approx(1.0 / (39 + 1 + 2))
    with pytest.raises(ValidationError, match="at least two"):
        compare_curves(tracker, ids[:1], "train_loss")
    with pytest.raises(NotFoundError, match="'acc' at more than one step"):
        compare_curves(tracker, ids[:3], "acc")
