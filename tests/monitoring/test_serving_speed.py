"""mlops.predict at the model's speed: the record is made behind the call and never lost, the
bins are found once per version (not per call, whatever the history), shadows score on threads
of their own (one that raises or hangs never delays or breaks predict, and that is recorded),
and the model's load is recorded once, apart from its latency. No wall clock: speed itself is
benchmarks/bench_predict.py's to prove; here, what the store reads, and what gets recorded."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.monitoring import flush, predict, recorder
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.store.base import MonitorBatch
from tests.conftest import python_env

from .helpers import T0, Threshold, features, register

GATE = threading.Event()  # a Hanging shadow scores once this is set
STARTED = threading.Event()  # set when a Hanging shadow starts scoring


class Hanging(Threshold):
    """A shadow that blocks until GATE is set (a hung model, without timing)."""

    def predict(self, X: Any) -> np.ndarray:
        STARTED.set()
        GATE.wait()
        return super().predict(X)


class Raising(Threshold):
    def predict(self, X: Any) -> np.ndarray:
        raise RuntimeError("shadow exploded")


def sklearn_model() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = features(500, seed=0).drop(columns="region")
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, (X["x1"] > 0).astype(int))


def test_predict_returns_the_models_output_and_the_record_lands_on_flush(
    tracker: mlops.Tracker,
) -> None:
    model = sklearn_model()
    register(tracker, "lr", model)
    X = features(200, seed=1).drop(columns="region")
    y = predict("lr", X, ids=range(200), now=T0)
    assert np.array_equal(y, model.predict(X))
    X["x1"] = 0.0  # the caller reuses its buffer: the record keeps what was scored
    y[:] = 0
    assert flush() is True
    (batch,) = tracker.store.monitor_batches("lr")
    assert (batch.version, batch.role, batch.n_rows, batch.time) == (1, "blessed", 200, T0)
    assert batch.profile is not None and batch.profile["columns"]["x1"]["max"] > 0
    assert batch.predictions is not None
    assert batch.predictions["columns"]["prediction"]["mean"] > 0


def test_readers_see_the_batches_scored_before_them_without_a_flush(
    tracker: mlops.Tracker,
) -> None:
    register(tracker, "r", Threshold())
    X = features(50, seed=2).drop(columns="region")
    for day in range(3):
        predict("r", X, ids=[f"{day}-{i}" for i in range(50)], now=T0 + day)
    # log_labels joins onto the rows just scored: it would count them unknown otherwise
    assert mlops.log_labels("r", [f"2-{i}" for i in range(50)], [1] * 50, now=T0 + 9).unknown == 0
    assert len(tracker.store.monitor_batches("r")) == 3


def test_records_are_written_at_exit_without_a_flush(tracker: mlops.Tracker) -> None:
    register(tracker, "exit", Threshold())
    code = (
        "import jupyter_mlops as mlops\n"
        "from tests.monitoring.helpers import features\n"
        "X = features(30, seed=3).drop(columns='region')\n"
        "for i in range(5):\n"
        "    mlops.predict('exit', X, ids=[f'{i}-{j}' for j in range(30)], now=1.0e9 + i)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path.cwd(),
        env=python_env(),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    batches = tracker.store.monitor_batches("exit")
    assert [b.time for b in batches] == [1.0e9 + i for i in range(5)]


@contextmanager
def counted(conn: sqlite3.Connection) -> Iterator[dict[str, int]]:
    """Count the statements run and SQLite's virtual-machine steps (in hundreds) on ``conn``:
    a deterministic measure of the rows a call reads."""
    seen = {"statements": 0, "steps": 0}

    def step() -> int:
        seen["steps"] += 1
        return 0

    conn.set_trace_callback(lambda _: seen.__setitem__("statements", seen["statements"] + 1))
    conn.set_progress_handler(step, 100)
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)
        conn.set_progress_handler(None, 0)


def _predict_cost(tracker: mlops.Tracker, name: str, history: int) -> list[dict[str, int]]:
    """What two predict calls read (the first finds the bins) after ``history`` stored
    batches; synchronous, so that the whole record is made on this thread's connection."""
    from jupyter_mlops.monitoring import recording

    store = tracker.store
    X = features(20, seed=4).drop(columns="region")
    predict(name, X, now=T0, sync=True)  # the first batch (and the model's load)
    first = store.monitor_batches(name)[0]
    store.record_batch(
        [
            MonitorBatch(f"old{i}", name, 1, "blessed", T0 + i, 20, 0.001, first.profile)
            for i in range(1, history)
        ],
        [],
    )
    recording._BINS.clear()  # as in a new process: the bins are looked up again
    recording._REFERENCES.clear()
    costs = []
    for call in range(2):
        with counted(store._conn()) as seen:  # type: ignore[attr-defined]
            predict(name, X, now=T0 + history + call, sync=True)
        costs.append(seen)
    return costs


@pytest.mark.parametrize("training_profile", [True, False])
def test_predict_reads_the_same_whatever_the_history(
    tracker: mlops.Tracker, training_profile: bool
) -> None:
    if tracker.store.location.startswith("postgresql"):
        pytest.skip("counts SQLite's steps")
    register(tracker, "fresh", Threshold(), ref=training_profile)
    register(tracker, "old", Threshold(), ref=training_profile)
    fresh = _predict_cost(tracker, "fresh", 1)
    old = _predict_cost(tracker, "old", 1000)
    for new, aged in zip(fresh, old, strict=True):
        assert aged["statements"] == new["statements"]
        # reading the 1,000 batches' profiles would be thousands of hundreds of steps
        assert aged["steps"] <= 1.5 * new["steps"] + 10, (fresh, old)


def test_a_shadow_that_raises_never_breaks_predict_and_is_recorded(
    tracker: mlops.Tracker,
) -> None:
    register(tracker, "sr", Threshold())
    v2 = register(tracker, "sr", Raising(), bless=False)
    ModelRegistry(tracker.store).shadow(f"sr@{v2}")
    X = features(40, seed=5).drop(columns="region")
    assert np.array_equal(predict("sr", X, now=T0), Threshold().predict(X))
    assert flush() is True
    assert [(b.version, b.role) for b in tracker.store.monitor_batches("sr")] == [(1, "blessed")]
    (failed,) = [e for e in tracker.store.monitor_events("sr") if e.kind == "shadow"]
    assert failed.status == "failed" and failed.detail["version"] == v2
    assert "shadow exploded" in failed.detail["error"]


def test_a_hung_shadow_never_delays_predict_and_its_backlog_is_recorded(
    tracker: mlops.Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder, "SHADOW_QUEUED_ROWS", 100)  # room for two 40-row batches
    monkeypatch.setattr(recorder, "SHADOW_WAIT", 0.05)
    GATE.clear()
    STARTED.clear()
    register(tracker, "sh", Threshold())
    v2 = register(tracker, "sh", Hanging(), bless=False)
    ModelRegistry(tracker.store).shadow(f"sh@{v2}")
    X = features(40, seed=6).drop(columns="region")
    try:
        assert np.array_equal(predict("sh", X, now=T0), Threshold().predict(X))
        assert STARTED.wait(60)  # (synchronisation, not a time limit): the shadow is blocked
        for i in range(1, 5):
            assert np.array_equal(predict("sh", X, now=T0 + i), Threshold().predict(X))
        assert not GATE.is_set()  # every predict returned while the shadow is still blocked
        assert flush() is False  # the shadow is passed over, not waited for
        blessed = tracker.store.monitor_batches("sh")
        assert [(b.role, b.time) for b in blessed] == [("blessed", T0 + i) for i in range(5)]
    finally:
        GATE.set()
    monkeypatch.setattr(recorder, "SHADOW_WAIT", 600.0)  # now wait for it to finish
    assert flush() is True
    events = [e for e in tracker.store.monitor_events("sh") if e.kind == "shadow"]
    assert {e.status for e in events} == {"stalled", "overflow"}
    (overflow,) = [e for e in events if e.status == "overflow"]
    # one batch being scored, two queued: the other two were counted, not scored
    assert (overflow.detail["version"], overflow.detail["batches"]) == (v2, 2)
    assert overflow.detail["rows"] == 80
    shadow = [b for b in tracker.store.monitor_batches("sh") if b.role == "shadow"]
    assert len(shadow) == 3


def test_the_load_is_recorded_once_apart_from_the_latency(tracker: mlops.Tracker) -> None:
    register(tracker, "ld", Threshold())
    X = features(10, seed=7).drop(columns="region")
    for i in range(3):
        predict("ld", X, now=T0 + i)
    (load,) = [e for e in tracker.store.monitor_events("ld") if e.kind == "load"]
    assert (load.status, load.detail["version"], load.time) == ("ok", 1, T0)
    assert load.detail["seconds"] >= 0
    assert all(b.latency is not None for b in tracker.store.monitor_batches("ld"))


def test_bad_ids_are_refused_on_the_callers_thread(tracker: mlops.Tracker) -> None:
    register(tracker, "ids", Threshold())
    X = features(10, seed=8).drop(columns="region")
    with pytest.raises(ValidationError, match="10 rows but 3 ids"):
        predict("ids", X, ids=[1, 2, 3])


def test_a_full_record_queue_never_blocks_for_long_and_its_overflow_is_recorded(
    tracker: mlops.Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a record queue of 50 rows that never waits for room, its worker held busy by a job
    monkeypatch.setattr(recorder, "_RECORDER", recorder.Worker("test-recorder", 50, 0.0))
    held = threading.Event()
    recorder.recorder().submit(held.wait, 1, None, lambda b, r: None)
    register(tracker, "full", Threshold())
    X = features(30, seed=9).drop(columns="region")
    try:
        for i in range(3):  # the first fits; the next two find it full
            assert np.array_equal(predict("full", X, now=T0 + i), Threshold().predict(X))
    finally:
        held.set()
    assert flush() is True
    assert [b.time for b in tracker.store.monitor_batches("full")] == [T0]
    (overflow,) = [e for e in tracker.store.monitor_events("full") if e.kind == "overflow"]
    assert (overflow.status, overflow.detail["batches"], overflow.detail["rows"]) == (
        "dropped", 2, 60
    )  # fmt: skip
