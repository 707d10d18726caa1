from __future__ import annotations

import dataclasses
import math
import random
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.entities import RunKind, RunStatus
from jupyter_mlops.exceptions import (
    AmbiguousRunIdError,
    RunNotFoundError,
    ValidationError,
)


def test_start_run_records_params_metrics_tags_and_seed(tracker: mlops.Tracker) -> None:
    with mlops.start_run(experiment="exp", name="first", seed=7, tags={"team": "a"}) as run:
        run.log_params({"C": 0.5, "solver": "lbfgs", "layers": [1, 2]})
        run.log_metric("loss", 1.0, step=0)
        run.log_metric("loss", 0.25, step=1)
        mlops.log_metrics({"accuracy": np.float32(0.875)})
    got = mlops.get_run(run.id)
    assert got.status is RunStatus.FINISHED
    assert got.kind is RunKind.SCRIPT
    assert got.experiment == "exp" and got.name == "first" and got.seed == 7
    assert got.params == {"C": 0.5, "solver": "lbfgs", "layers": [1, 2]}
    assert got.metrics == {"loss": 0.25, "accuracy": 0.875}
    assert got.tags == {"team": "a"}
    assert got.duration is not None and got.duration >= 0
    hist = mlops.metric_history(run.id, "loss")
    assert hist["value"].tolist() == [1.0, 0.25]


def test_seed_makes_random_and_numpy_reproducible(tracker: mlops.Tracker) -> None:
    with mlops.start_run(seed=123):
        a = (random.random(), np.random.rand())
    with mlops.start_run(seed=123):
        b = (random.random(), np.random.rand())
    with mlops.start_run() as drawn:
        pass
    assert a == b
    assert mlops.get_run(drawn.id).seed is not None
    with mlops.start_run(seed=None) as unseeded:
        pass
    assert mlops.get_run(unseeded.id).seed is None


def test_failed_run_is_closed_and_next_run_starts_cleanly(tracker: mlops.Tracker) -> None:
    with pytest.raises(ZeroDivisionError), mlops.start_run(experiment="e") as bad:
        1 / 0  # noqa: B018
    assert mlops.active_run() is None
    got = mlops.get_run(bad.id)
    assert got.status is RunStatus.FAILED
    assert "ZeroDivisionError" in got.error
    with mlops.start_run(experiment="e") as good:
        assert good.parent_id if hasattr(good, "parent_id") else True
    assert mlops.get_run(good.id).parent_id is None


def test_keyboard_interrupt_marks_interrupted(tracker: mlops.Tracker) -> None:
    with pytest.raises(KeyboardInterrupt), mlops.start_run() as run:
        raise KeyboardInterrupt
    assert mlops.get_run(run.id).status is RunStatus.INTERRUPTED


def test_nested_run_gets_parent(tracker: mlops.Tracker) -> None:
    with mlops.start_run() as outer, mlops.start_run() as inner:
        pass
    assert mlops.get_run(inner.id).parent_id == outer.id


def test_fluent_api_without_active_run_says_how_to_fix() -> None:
    with pytest.raises(ValidationError, match="start_run"):
        mlops.log_metric("x", 1.0)


def test_bad_values_are_refused_clearly(tracker: mlops.Tracker) -> None:
    with mlops.start_run() as run:
        with pytest.raises(ValidationError, match="must be a number"):
            run.log_metric("acc", "high")
        with pytest.raises(ValidationError, match="step must be an integer"):
            run.log_metric("acc", 1.0, step=1.5)
    with pytest.raises(ValidationError, match="seed must be an integer"):
        mlops.start_run(seed=-1)


def test_nan_metric_round_trips(tracker: mlops.Tracker) -> None:
    with mlops.start_run() as run:
        run.log_metric("loss", float("nan"))
    assert math.isnan(mlops.get_run(run.id).metrics["loss"])


def test_run_id_prefix_lookup(tracker: mlops.Tracker) -> None:
    ids = []
    for _ in range(40):
        with mlops.start_run(seed=None) as r:
            ids.append(r.id)
    assert mlops.get_run(ids[0][:10]).id == ids[0]
    with pytest.raises(RunNotFoundError, match="not found.*jupyter-mlops runs"):
        mlops.get_run("ffffffffffffff0")
    with pytest.raises(RunNotFoundError):
        mlops.get_run("not-hex!")
    first = {i[0] for i in ids}
    common = next(c for c in first if sum(i[0] == c for i in ids) > 1)
    with pytest.raises(AmbiguousRunIdError, match="matches"):
        mlops.get_run(common)


def _make_runs(n: int) -> list[str]:
    ids = []
    for i in range(n):
        with mlops.start_run(experiment="e" if i % 2 else "f", seed=None) as r:
            r.log_params({"C": i / 10, "solver": "saga" if i % 3 else "lbfgs"})
            r.log_metrics({"acc": i / n})
        ids.append(r.id)
    return ids


def test_runs_frame_columns_and_filters(tracker: mlops.Tracker) -> None:
    ids = _make_runs(12)
    frame = mlops.runs()
    assert list(frame.columns[:9]) == [
        "id",
        "experiment",
        "name",
        "status",
        "kind",
        "parent_id",
        "started",
        "duration",
        "seed",
    ]
    assert {"params.C", "params.solver", "metrics.acc"} <= set(frame.columns)
    assert len(frame) == 12
    assert frame["started"].is_monotonic_decreasing
    top = mlops.runs(where="metrics.acc > 0.5", order_by="metrics.acc DESC", limit=3)
    assert top["id"].tolist() == [ids[11], ids[10], ids[9]]
    assert top["metrics.acc"].is_monotonic_decreasing
    assert set(mlops.runs(experiment="e")["experiment"]) == {"e"}
    lb = mlops.runs(where='params.solver == "lbfgs" and params.C >= 0.3')
    assert sorted(lb["params.C"]) == [0.3, 0.6, 0.9]
    assert len(mlops.runs(where="params.solver in ['saga', 'x']")) == 8
    assert len(mlops.runs(where="not (metrics.acc < 0.5)")) == 6
    assert len(mlops.runs(where="status == 'finished'", limit=5)) == 5


@pytest.mark.parametrize(
    "bad, message",
    [
        ("metrics.acc >", "Cannot parse filter"),
        ("foo.bar > 1", "Unknown field"),
        ("metrics.acc > bar", "literal value"),
        ("len(params) > 1", "Unknown field"),
        ("metrics.acc", "Cannot filter"),
    ],
)
def test_bad_filters_get_one_clear_error(tracker: mlops.Tracker, bad: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        mlops.runs(where=bad)


def test_runs_on_empty_store(tracker: mlops.Tracker) -> None:
    frame = mlops.runs()
    assert isinstance(frame, pd.DataFrame) and frame.empty
    assert "id" in frame.columns


def _git_recorded(run_id: str) -> mlops.Run:
    """The run once its git state is in: recorded late when the probe outlives the run."""
    deadline = time.monotonic() + 120  # a background git process: slow on a loaded machine
    while mlops.get_run(run_id).git.commit is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return mlops.get_run(run_id)


def test_git_state_is_recorded_from_the_working_directory(
    tmp_path: Path, tracker: mlops.Tracker
) -> None:
    def git(*a: str) -> None:
        subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x")
    (tmp_path / "f.txt").write_text("a")
    git("add", "f.txt")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "f")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    ).stdout.strip()
    with mlops.start_run() as run:
        pass
    got = _git_recorded(run.id)
    assert got.git.commit == head and got.git.dirty is False
    (tmp_path / "f.txt").write_text("b")
    time.sleep(1.1)  # past the probe's sharing window
    with mlops.start_run() as run2:
        pass
    got2 = _git_recorded(run2.id)
    assert got2.git.dirty is True and got2.git.diff_hash


def test_artifacts_and_models_are_content_addressed(
    tmp_path: Path, artifact_backend: str, tracker: mlops.Tracker
) -> None:
    f = tmp_path / "report.txt"
    f.write_text("hello")
    with mlops.start_run() as run:
        a1 = run.log_artifact(f)
        a2 = run.log_artifact(f, name="copy.txt")
        m = run.log_model({"weights": [1, 2, 3]}, name="model")
    assert a1.sha256 == a2.sha256 and a1.uri == f"artifacts/{a1.sha256[:2]}/{a1.sha256}"
    assert tracker.store.artifacts.is_local == (artifact_backend == "local")
    assert tracker.store.artifacts.read_bytes(a1.uri, a1.sha256) == b"hello"
    got = mlops.get_run(run.id)
    assert {a.name for a in got.artifacts} == {"report.txt", "copy.txt", "model"}
    assert m.kind == "model"


def test_seed_reaches_torch_and_tensorflow_when_imported(monkeypatch, tracker) -> None:
    import sys
    import types

    seen: dict[str, int] = {}
    torch = types.ModuleType("torch")
    torch.manual_seed = lambda s: seen.__setitem__("torch", s)  # type: ignore[attr-defined]
    tf = types.ModuleType("tensorflow")
    tf.random = types.SimpleNamespace(set_seed=lambda s: seen.__setitem__("tf", s))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "tensorflow", tf)
    with mlops.start_run(seed=99):
        pass
    assert seen == {"torch": 99, "tf": 99}
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.delitem(sys.modules, "tensorflow")
    seen.clear()
    with mlops.start_run(seed=5):
        pass
    assert seen == {}  # never imported just to be seeded


def test_reads_never_create_a_store(isolated_store: Path) -> None:
    from jupyter_mlops.exceptions import StoreNotFoundError

    for read in (
        mlops.runs,
        lambda: mlops.runs(experiment="x", where="metrics.acc > 1"),
        lambda: mlops.get_run("abc123"),
        lambda: mlops.metric_history("abc123"),
    ):
        with pytest.raises(StoreNotFoundError) as info:
            read()
        assert f"no jupyter-mlops store at {isolated_store} (looked from " in str(info.value)
        assert "JUPYTER_MLOPS_STORE" in str(info.value)
        assert not isolated_store.exists()
    with mlops.start_run() as run:  # a write creates it, and the reads then find it
        pass
    assert mlops.get_run(run.id).id == run.id
    assert mlops.runs()["id"].tolist() == [run.id]


def test_runs_of_an_unknown_experiment_is_an_error(tracker: mlops.Tracker) -> None:
    from jupyter_mlops.exceptions import ExperimentNotFoundError

    with mlops.start_run(experiment="wine"):
        pass
    with pytest.raises(ExperimentNotFoundError, match="unknown experiment 'nosuch'.*: wine"):
        mlops.runs(experiment="nosuch")
    assert len(mlops.runs(experiment="wine")) == 1


def test_tracking_re_exports_the_tracker_and_the_fluent_api() -> None:
    from jupyter_mlops import tracking
    from jupyter_mlops.tracking import fluent, tracker

    for name in tracking.__all__:
        own = getattr(fluent, name, None) or getattr(tracker, name)
        assert getattr(tracking, name) is own, name
    assert tracking.Tracker.__module__ == "jupyter_mlops.tracking.tracker"
    assert tracking.start_run.__module__ == "jupyter_mlops.tracking.fluent"


def test_collect_cell_returns_what_a_cell_produced(tracker: mlops.Tracker) -> None:
    from jupyter_mlops.tracking.cell import CellTracker, TrackOptions
    from jupyter_mlops.tracking.collect import collect_cell

    code = "lr = 0.1\nacc = 0.75\nsize = 3"
    ns: dict[str, object] = {}
    pending = CellTracker(lambda: tracker).begin(
        code, ns, options=TrackOptions(experiment="c", params=("size", "missing"))
    )
    try:
        exec(code, ns)
        made = collect_cell(pending, [], [])
    finally:  # what finish() would stop: the stdout tail and the file watcher stay on otherwise
        for watcher in (pending.tail, pending.files):
            if watcher is not None:
                watcher.stop()
    assert made.params["lr"] == 0.1 and made.params["size"] == 3
    assert "acc" not in made.params  # a metric name: recorded as a metric only
    assert [(k, v) for k, v, _, _ in made.metrics] == [("acc", 0.75)]
    assert any("'missing'" in w for w in made.warnings)
    with pytest.raises(dataclasses.FrozenInstanceError):  # a value, not an accumulator
        made.warnings = ()  # type: ignore[misc]
    assert pending.run is not None
    pending.run.end(*mlops.tracking.status_for_exception(None))
