"""mlops.predict and mlops.log_labels on a real store: the blessed model's predictions, the
recorded batch, shadow scoring, delayed labels and metrics per batch and per slice."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.codec import to_jsonable
from jupyter_mlops.exceptions import MLOpsError
from jupyter_mlops.monitoring import LabelsLogged, log_labels, predict
from jupyter_mlops.monitoring.metrics import grouped, scores
from jupyter_mlops.monitoring.serving import UNKNOWN_SAMPLE
from jupyter_mlops.registry import ModelRegistry

from .helpers import DAY, T0, Threshold, features, register, truth


def test_predict_returns_blessed_predictions_and_records_the_batch(
    tracker: mlops.Tracker,
) -> None:
    register(tracker, "churn", Threshold())
    X = features(300, seed=1).drop(columns="region")
    y = predict("churn", X, ids=range(300), now=T0)
    assert np.array_equal(y, Threshold().predict(X))
    (batch,) = tracker.store.monitor_batches("churn")
    assert (batch.version, batch.role, batch.n_rows, batch.time) == (1, "blessed", 300, T0)
    assert batch.latency is not None and batch.latency >= 0
    assert batch.rows_uri is None  # no raw rows unless asked
    run = tracker.store.get_run(tracker.store.get_model("churn").run_id)
    (art,) = [a for a in run.artifacts if a.kind == "profile"]
    train = json.loads(tracker.store.artifacts.resolve(art.uri).read_bytes())
    assert batch.profile is not None and batch.profile["rows"] == 300
    # binned like the training profile, so batches merge with each other and compare with it
    assert batch.profile["columns"]["x1"]["edges"] == train["columns"]["x1"]["edges"]
    assert batch.predictions is not None
    counts = batch.predictions["columns"]["prediction"]
    assert counts["count"] == 300 and counts["mean"] == pytest.approx(y.mean())


def test_model_is_loaded_once_per_version(
    tracker: mlops.Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(tracker, "m", Threshold())
    loads = []
    real = ModelRegistry.load_version
    monkeypatch.setattr(
        ModelRegistry, "load_version", lambda self, mv: loads.append(mv.ref) or real(self, mv)
    )
    X = features(20, seed=2)
    for day in range(3):
        predict("m", X, now=T0 + day)
    register(tracker, "m", Threshold(w=0.1))
    predict("m", X, now=T0 + 4)
    assert loads == ["m@1", "m@2"]


def test_without_training_profile_batches_take_the_first_batch_bins(
    tracker: mlops.Tracker,
) -> None:
    register(tracker, "nop", Threshold(), ref=False)
    predict("nop", features(500, seed=3), now=T0)
    predict("nop", features(100, seed=4), now=T0 + DAY)
    first, second = tracker.store.monitor_batches("nop")
    assert first.profile and second.profile
    assert first.profile["columns"]["x1"]["edges"] == second.profile["columns"]["x1"]["edges"]
    assert len(first.profile["columns"]["x1"]["edges"]) > 10


def test_keep_rows_stores_the_rows(tracker: mlops.Tracker) -> None:
    import pickle

    register(tracker, "k", Threshold())
    X = features(10, seed=5)
    predict("k", X, keep_rows=True, now=T0)
    (batch,) = tracker.store.monitor_batches("k")
    assert batch.rows_uri is not None
    kept = pickle.loads(tracker.store.artifacts.resolve(batch.rows_uri).read_bytes())
    assert kept.equals(X)


def test_shadow_scores_the_same_rows_and_is_never_returned(tracker: mlops.Tracker) -> None:
    register(tracker, "s", Threshold())
    v2 = register(tracker, "s", Threshold(flip=True), bless=False)
    ModelRegistry(tracker.store).shadow(f"s@{v2}", reason="try it")
    assert tracker.store.get_model("s", v2).stage.value == "shadow"
    X = features(200, seed=6)
    y = predict("s", X, ids=[f"r{i}" for i in range(200)], slice_by="region", now=T0)
    assert np.array_equal(y, Threshold().predict(X))  # the blessed model's, not the shadow's
    roles = {(b.version, b.role) for b in tracker.store.monitor_batches("s")}
    assert roles == {(1, "blessed"), (v2, "shadow")}
    logged = log_labels("s", [f"r{i}" for i in range(200)], truth(X), now=T0 + DAY)
    assert logged == LabelsLogged(attached=200, unknown=0, unknown_ids=())
    rows = tracker.store.labelled_predictions("s")
    assert len(rows) == 400
    tasks = {1: "classifier", v2: "classifier"}
    overall = grouped(rows, tasks, "all")
    assert overall[(1, None)]["accuracy"] == 1.0 and overall[(v2, None)]["accuracy"] == 0.0
    by_slice = grouped(rows, tasks, "slice")
    assert {k for k in by_slice} == {(v, r) for v in (1, v2) for r in ("north", "south")}
    north = int((X["region"] == "north").sum())
    assert by_slice[(1, "north")]["n"] == north
    events = [e.action for e in tracker.store.model_events("s")]
    assert events[-1] == "shadow"


def test_labels_arrive_later_and_replace_earlier_ones(tracker: mlops.Tracker) -> None:
    register(tracker, "late", Threshold())
    X = features(50, seed=7)
    predict("late", X, ids=range(50), now=T0)
    assert tracker.store.labelled_predictions("late") == []
    y = truth(X)
    log_labels("late", range(25), 1 - y[:25], now=T0 + 3 * DAY)
    (acc,) = [
        m["accuracy"]
        for m in grouped(
            tracker.store.labelled_predictions("late"), {1: "classifier"}, "all"
        ).values()
    ]
    assert acc == 0.0
    log_labels("late", range(50), y, now=T0 + 4 * DAY)
    (m,) = grouped(tracker.store.labelled_predictions("late"), {1: "classifier"}, "all").values()
    assert (m["accuracy"], m["n"]) == (1.0, 50)


def test_labels_for_ids_never_scored_are_reported(
    tracker: mlops.Tracker, caplog: pytest.LogCaptureFixture
) -> None:
    register(tracker, "u", Threshold())
    v2 = register(tracker, "u", Threshold(flip=True), bless=False)
    ModelRegistry(tracker.store).shadow(f"u@{v2}")
    X = features(3, seed=12)
    predict("u", X, ids=["a", "b", "c"], now=T0)
    ids = ["a", "b", *[f"typo{i}" for i in range(UNKNOWN_SAMPLE + 2)]]
    with caplog.at_level(logging.WARNING, logger="jupyter_mlops.monitoring.serving"):
        logged = log_labels("u", ids, [1] * len(ids), now=T0 + 60)
    sample = tuple(f"typo{i}" for i in range(UNKNOWN_SAMPLE))
    assert logged == LabelsLogged(attached=2, unknown=UNKNOWN_SAMPLE + 2, unknown_ids=sample)
    assert to_jsonable(logged)["unknown_ids"] == list(sample)
    (record,) = caplog.records
    assert record.getMessage().startswith(
        f"log_labels('u'): 2 label(s) attached; {UNKNOWN_SAMPLE + 2} id(s) were never scored "
        "('typo0', "
    )
    assert "…): pass the same ids to predict(..., ids=) and log_labels" in record.getMessage()
    # Their labels are kept: a row scored later with such an id joins its label.
    predict("u", X.iloc[:1], ids=["typo0"], now=T0 + 120)
    # a and b, then typo0, each scored by the blessed and the shadow version
    assert len(tracker.store.labelled_predictions("u")) == 3 * 2


def test_scores_regression_and_f1() -> None:
    r = scores([(1.0, 2.0), (3.0, 3.0), (0.0, 2.0)], "regressor")
    assert r["rmse"] == pytest.approx(np.sqrt(5 / 3)) and r["mae"] == pytest.approx(1.0)
    c = scores([(1, 1), (1, 0), (0, 0), (0, 0)], "classifier")
    # class 1: tp 1, fp 1, fn 0 -> 2/3; class 0: tp 2, fp 0, fn 1 -> 0.8
    assert c["accuracy"] == 0.75 and c["f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_errors_are_one_line(tracker: mlops.Tracker) -> None:
    register(tracker, "e", Threshold())
    X = features(5, seed=8)
    with pytest.raises(MLOpsError, match="5 rows but 2 ids"):
        predict("e", X, ids=[1, 2], now=T0)
    with pytest.raises(MLOpsError, match="slice_by='nope' is not a column"):
        predict("e", X, slice_by="nope", now=T0)
    with pytest.raises(MLOpsError, match="No model named 'zzz'"):
        predict("zzz", X, now=T0)
    with pytest.raises(MLOpsError, match="2 ids but 1 labels"):
        log_labels("e", [1, 2], [0], now=T0)
    with pytest.raises(MLOpsError, match="blessed version"):
        ModelRegistry(tracker.store).shadow("e@1")


def test_cli_models_shadow(tracker: mlops.Tracker, capsys: pytest.CaptureFixture[str]) -> None:
    register(tracker, "c", Threshold())
    register(tracker, "c", Threshold(w=0.2), bless=False)
    assert main(["models", "shadow", "c@2", "--reason", "a/b"]) == 0
    assert "c@2 is now in shadow" in capsys.readouterr().out
    assert main(["models", "show", "c"]) == 0
    out = capsys.readouterr().out
    assert "shadow" in out and "a/b" in out


def test_task_from_sklearn_tags_or_labels() -> None:
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from jupyter_mlops.monitoring.metrics import task_of

    # scikit-learn 1.6+ says it in tags, not _estimator_type
    assert task_of(LinearRegression(), [1, 2]) == "regressor"
    assert task_of(LogisticRegression(), [0.5]) == "classifier"
    assert task_of(object(), [1, 0, 1]) == "classifier"
    assert task_of(object(), [1, 0.5]) == "regressor"


def test_regressor_batches_get_rmse(tracker: mlops.Tracker) -> None:
    from sklearn.linear_model import LinearRegression

    X = features(200, seed=11).drop(columns="region")
    y = 2 * X["x1"] + X["x2"]
    register(tracker, "reg", LinearRegression().fit(X, y))
    predict("reg", X, ids=range(200), now=T0)
    log_labels("reg", range(200), y + 1.0, now=T0 + 1)
    from jupyter_mlops.monitoring.history import history

    (row,) = history("reg").batches
    assert row.metrics["rmse"] == pytest.approx(1.0) and row.metrics["mae"] == pytest.approx(1.0)


def test_mlops_log_profile_is_the_training_profile_batches_bin_like(
    tracker: mlops.Tracker,
) -> None:
    from jupyter_mlops.monitoring.serving import training_profile
    from jupyter_mlops.validation import profile

    train = features(500, seed=13).drop(columns="region")
    with tracker.start_run(experiment="p") as run:
        run.log_model(Threshold(), "model")
        mlops.log_profile(profile(train), "train")
    mv = ModelRegistry(tracker.store).register("p", tracker.get_run(run.id), "model")
    assert training_profile(tracker.store, mv) == json.loads(profile(train).to_json())
