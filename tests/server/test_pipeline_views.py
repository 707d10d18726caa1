"""The pipeline and monitor views behind the panel, on both store backends: a pipeline's last
*real* run (never a reproduction) and its run history, its parameters as form fields, the
schedule in words with the next firings (clock injected), a listing before any store exists,
and a monitor's drifted columns first with its actions in words."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops import bounds
from jupyter_mlops.entities import GateResult, GateStatus, RunKind, RunStatus
from jupyter_mlops.exceptions import ParameterError
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.spec import load_pipeline
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.store import open_store
from jupyter_mlops.tracking.active import REPRODUCES_TAG
from jupyter_mlops.views import monitor_report, pipeline_detail, pipeline_list, stored
from jupyter_mlops.views.pipeline_form import check_bounds
from tests.monitoring.helpers import DAY, T0, build_monitored

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
UTC = dt.timezone.utc
# A Friday evening in Berlin (17:50 CET): a weekday 09:00-17:59 schedule next fires on Monday.
FRIDAY = dt.datetime(2026, 1, 9, 16, 50, tzinfo=UTC)


def _promoted(root: Path, schedule: str | None = "0 3 * * *", tz: str | None = None) -> Path:
    shutil.copy(NOTEBOOKS / "params_annotated.ipynb", root / "train.ipynb")
    folder = root / "pipelines"
    promote(root / "train.ipynb", name="train", schedule=schedule, timezone=tz,
            pipelines_dir=folder)  # fmt: skip
    return folder


def test_listed_before_any_store_exists(tmp_path: Path) -> None:
    folder = _promoted(tmp_path)
    tracker = stored(lambda: open_store(tmp_path / "no-store", create=False))
    assert tracker is None
    (p,) = pipeline_list(tracker, folder, FRIDAY).pipelines
    assert (p.name, p.last_runs, p.error) == ("train", (), None)
    detail = pipeline_detail(None, folder, "train", FRIDAY)
    assert detail.last_runs == () and detail.schedule_log == ()
    assert not (tmp_path / "no-store").exists()  # looking created nothing


def test_the_schedule_in_words_with_its_next_firings(tmp_path: Path) -> None:
    folder = _promoted(tmp_path, "*/15 9-17 * * 1-5", "Europe/Berlin")
    (p,) = pipeline_list(None, folder, FRIDAY).pipelines
    assert p.schedule_text == (
        "Every 15 minutes, between 09:00 and 17:59, Monday through Friday (Europe/Berlin)"
    )
    assert p.timezone == "Europe/Berlin"
    # Monday 09:00 in Berlin is 08:00 UTC in winter.
    monday = dt.datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
    assert p.next_fires == tuple(monday + dt.timedelta(minutes=15 * i) for i in range(3))
    assert p.next_fire == p.next_fires[0].isoformat()
    (tmp_path / "daily").mkdir()
    daily = _promoted(tmp_path / "daily", "@daily")
    (d,) = pipeline_list(None, daily, FRIDAY).pipelines
    assert d.schedule_text == "At 00:00, every day (UTC)"
    assert [t.day for t in d.next_fires] == [10, 11, 12]


def test_a_manual_pipeline_has_no_schedule_words(tmp_path: Path) -> None:
    (p,) = pipeline_list(None, _promoted(tmp_path, None), FRIDAY).pipelines
    assert (p.schedule, p.schedule_text, p.next_fire, p.next_fires) == (None, None, None, ())


def test_parameters_are_form_fields(tmp_path: Path) -> None:
    (p,) = pipeline_list(None, _promoted(tmp_path), FRIDAY).pipelines
    fields = {f.name: f for f in p.parameters}
    lr, trees, model = fields["learning_rate"], fields["n_estimators"], fields["model"]
    assert (lr.input, lr.default, lr.minimum, lr.nullable) == ("float", 0.1, None, False)
    assert (trees.input, trees.default) == ("int", 100)
    assert (trees.minimum, trees.maximum) == (bounds.INT64_MIN, bounds.INT64_MAX)
    assert (model.input, model.choices, model.default) == ("choice", ("rf", "gbm"), "rf")
    depth = fields["max_depth"]
    assert (depth.input, depth.nullable, depth.default) == ("int", True, None)
    assert (fields["verbose"].input, fields["run_label"].input) == ("bool", "str")
    # What a widget cannot ask for is a Python literal, as with `run -p`.
    assert {fields[n].input for n in ("features", "class_weights", "shape", "extra")} == {"literal"}
    assert fields["features"].to_dict()["type"] == "list[str]"


def test_an_integer_outside_64_bits_is_refused_before_a_run(tmp_path: Path) -> None:
    spec = load_pipeline("train", _promoted(tmp_path))
    check_bounds(spec.parameters, {"n_estimators": bounds.INT64_MAX, "verbose": True})
    with pytest.raises(ParameterError, match=f"'n_estimators' must be from .* got {2**64}"):
        check_bounds(spec.parameters, {"n_estimators": 2**64})


def _pipeline_run(
    tracker: mlops.Tracker, status: RunStatus, gate: GateStatus | None, tags: dict | None = None
) -> str:
    run = tracker.start_run(experiment="train", kind=RunKind.PIPELINE, seed=None, tags=tags)
    if gate is not None:
        result = GateResult("accuracy", "metric", gate, observed=0.5, threshold=">= 0.9")
        tracker.store.save_gate_results(run.id, [result])
    run.end(status)
    return run.id


def test_the_last_status_is_the_last_real_run(tracker: mlops.Tracker, tmp_path: Path) -> None:
    folder = _promoted(tmp_path)
    good = _pipeline_run(tracker, RunStatus.FINISHED, GateStatus.PASS)
    bad = _pipeline_run(tracker, RunStatus.FINISHED, GateStatus.FAIL)
    # A reproduction of the good run, after the failing one: not the pipeline's last status.
    again = _pipeline_run(tracker, RunStatus.FINISHED, None, {REPRODUCES_TAG: good})
    (p,) = pipeline_list(tracker, folder, FRIDAY).pipelines
    assert [r.id for r in p.last_runs] == [bad, good]
    assert [r.gates for r in p.last_runs] == ["failed", "passed"]
    assert all(r.gate_results is None for r in p.last_runs)  # the list leaves them out
    history = pipeline_detail(tracker, folder, "train", FRIDAY).last_runs
    assert again not in {r.id for r in history}
    assert [[g.status for g in r.gate_results or ()] for r in history] == [
        [GateStatus.FAIL], [GateStatus.PASS],
    ]  # fmt: skip
    assert all(r.duration is not None and r.started for r in history)


def test_the_history_holds_twenty_runs_newest_first(tracker: mlops.Tracker, tmp_path: Path) -> None:
    folder = _promoted(tmp_path)
    ids = [_pipeline_run(tracker, RunStatus.FINISHED, None) for _ in range(22)]
    history = pipeline_detail(tracker, folder, "train", FRIDAY).last_runs
    assert [r.id for r in history] == ids[::-1][:20]
    (p,) = pipeline_list(tracker, folder, FRIDAY).pipelines
    assert [r.id for r in p.last_runs] == ids[::-1][:5]


ACTIONS_MONITOR = """\
pipeline: churn-train
checks:
  - {kind: drift, max_share: 0.0, action: rollback}
  - {kind: performance, metric: accuracy, min: 0.8, action: retrain}
  - {kind: drift, column: x2, max_share: 0.0, action: notify}
"""


def test_a_monitor_report_sorts_drifted_columns_first_and_says_its_actions(
    tracker: mlops.Tracker, tmp_path: Path
) -> None:
    build_monitored(tracker, tmp_path, steady_in_pipeline=False)
    folders = {"monitors_dir": tmp_path / "monitors", "pipelines_dir": tmp_path / "pipelines"}
    now = str(T0 + 3 * DAY + 200)
    report = monitor_report("churn", "36h", now, store=tracker.store, **folders)
    last = report.windows[-1]
    assert last.drifted == ("x1",) and next(iter(last.columns)) == "x1"
    for w in (*report.windows, *report.batches):
        flags = [c.drifted for c in w.columns.values()]
        assert flags == sorted(flags, reverse=True)  # drifted ones first
    # The actions in words: no earlier blessed version yet, then one.
    (tmp_path / "monitors" / "churn.yaml").write_text(ACTIONS_MONITOR)
    plans = monitor_report("churn", "36h", now, store=tracker.store, **folders).monitor.plans
    assert [(p.check, p.words) for p in plans] == [
        ("drift:drift", "roll back churn (no earlier blessed version to roll back to)"),
        ("performance:accuracy", "retrain with pipeline churn-train"),
        ("drift:drift[x2]", "notify"),
    ]
    ModelRegistry(tracker.store).bless("churn@2")
    report = monitor_report("churn", "36h", now, store=tracker.store, **folders)
    assert report.monitor is not None
    assert report.monitor.plans[0].words == "roll back churn to version 1"
