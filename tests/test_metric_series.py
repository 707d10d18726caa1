"""A metric's series: a final value logged without a step ends its curve instead of adding a
point at step 0 (the spike every chart drew), and a value logged once without a step is a
scalar, not a curve. On both backends (``tracker``), through the view the REST API serves."""

from __future__ import annotations

import jupyter_mlops as mlops
from jupyter_mlops.views import metric_series
from jupyter_mlops.views.detail import curve_points


def _points(tracker: mlops.Tracker, run_id: str, key: str) -> list[tuple[int, float | None]]:
    return [(p.step, p.value) for p in metric_series(tracker, run_id, key).steps]


def test_a_final_value_ends_the_curve_not_step_0(tracker: mlops.Tracker) -> None:
    with mlops.start_run(experiment="e", seed=None) as run:
        for step in range(1, 4):
            run.log_metric("acc", 0.1 * step, step=step)
        run.log_metric("acc", 0.9)  # the test score, after the loop: no step
        run.log_metric("f1", 0.4)
        run.log_metric("f1", 0.5)  # logged again without a step: still a scalar
    series = metric_series(tracker, run.id, "acc")
    assert series.stepped
    assert _points(tracker, run.id, "acc") == [(1, 0.1), (2, 0.2), (3, 0.9)]
    assert mlops.get_run(run.id).metrics["acc"] == 0.9  # the final value is the latest
    scalar = metric_series(tracker, run.id, "f1")
    assert not scalar.stepped and _points(tracker, run.id, "f1") == [(0, 0.5)]


def test_a_tracked_cell_s_final_metric_is_no_step_0_point(shell, tracker: mlops.Tracker) -> None:
    shell.run(
        "%%track -e loop\n"
        "import jupyter_mlops as mlops\n"
        "for epoch in range(1, 4):\n"
        "    mlops.log_metric('loss', 1 / epoch, step=epoch)\n"
        "loss = 0.01\n"
        "accuracy = 0.75\n"
    )
    run_id = mlops.runs(limit=1)["id"].iloc[0]
    assert _points(tracker, run_id, "loss") == [(1, 1.0), (2, 0.5), (3, 0.01)]
    accuracy = metric_series(tracker, run_id, "accuracy")
    assert not accuracy.stepped and [p.value for p in accuracy.steps] == [0.75]


def test_an_old_store_s_step_0_final_value_is_dropped_from_the_curve(
    tracker: mlops.Tracker,
) -> None:
    # What runs tracked before the fix hold: the final value written at step 0 after the curve.
    with mlops.start_run(experiment="e", seed=None) as run:
        run.log_metric("loss", 0.8, step=0)
        run.log_metric("loss", 0.5, step=1)
        run.log_metric("loss", 0.2, step=0)
    assert _points(tracker, run.id, "loss") == [(0, 0.8), (1, 0.5)]


def test_curve_points_keep_the_newest_value_per_step() -> None:
    history = [(2, 0.3, 3.0), (1, 0.5, 1.0), (2, 0.4, 4.0), (0, 0.1, 5.0), (3, float("nan"), 6.0)]
    assert curve_points(history) == [(1, 0.5, 1.0), (2, 0.4, 4.0), (3, None, 6.0)]
    assert curve_points([(0, 0.7, 1.0), (0, 0.6, 2.0)]) == [(0, 0.6, 2.0)]


def test_compare_names_the_runs_and_its_stepped_metrics(tracker: mlops.Tracker) -> None:
    from jupyter_mlops.views import compare_runs

    ids = []
    for name in ("sweep", "sweep", "solo", None):
        with mlops.start_run(experiment="e", name=name, seed=None) as run:
            run.log_metric("acc", 0.5)
            if name == "solo":
                run.log_metric("loss", 0.4, step=1)
                run.log_metric("loss", 0.3)  # final value: at step 1 too
        ids.append(run)
    cmp = compare_runs(tracker, [r.id for r in ids])
    short = [r.id[:8] for r in ids]
    # Shared names get the short id, a run without a name is its short id.
    assert cmp.names == (f"sweep {short[0]}", f"sweep {short[1]}", "solo", short[3])
    assert cmp.stepped == ("loss",)
