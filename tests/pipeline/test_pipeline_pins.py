"""A rollback pins the model, through the real runner and scheduler: a scheduled firing after
it registers a candidate and does not bless, until the pin expires by the scheduler's clock."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from jupyter_mlops.entities import ModelStage
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.runner import run_pipeline
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.schedule.scheduler import Scheduler
from jupyter_mlops.store import RunStore

pytestmark = pytest.mark.slow
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 23, 10, 2, tzinfo=UTC)  # injected: no test reads the real date


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_scheduled_firing_after_a_rollback_registers_a_candidate_and_does_not_bless(
    tmp_path: Path, store: RunStore
) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    name = promote(tmp_path / "train_ok.ipynb", name="nightly", schedule="*/5 * * * *").spec.name
    first = run_pipeline(name, progress=False, seed=1)
    second = run_pipeline(name, {"C": "0.5"}, progress=False, seed=1)
    assert first.blessed and second.blessed
    clock = Clock(T0)
    registry = ModelRegistry(store, clock=lambda: clock().timestamp())
    until = (T0 + dt.timedelta(minutes=7)).timestamp()
    registry.rollback(name, reason="v2 is bad in prod", until=until)
    assert store.get_model(name).version == first.model.version  # type: ignore[union-attr]

    scheduler = Scheduler(clock=clock)
    assert scheduler.tick() == []  # first sight: starts counting now
    clock.now = T0 + dt.timedelta(minutes=4)  # fires 10:05, inside the pin
    (event,) = scheduler.tick()
    assert event["outcome"] == "passed"
    held = f"pinned by rollback at v{first.model.version}; not blessed"  # type: ignore[union-attr]
    assert held in event["message"]
    (logged,) = store.schedule_log(name, limit=1)
    assert held in (logged.message or "")
    fired = [m for m in store.list_models(name) if m.run_id == event["run_id"]]
    assert [m.stage for m in fired] == [ModelStage.CANDIDATE]
    assert store.get_model(name).version == first.model.version  # type: ignore[union-attr]
    last = store.model_events(name)[-1]
    assert (last.version, last.action, last.reason) == (fired[0].version, "held", held)

    clock.now = T0 + dt.timedelta(minutes=9)  # fires 10:10: the pin expired at 10:09
    (event,) = scheduler.tick()
    assert event["outcome"] == "passed" and "pinned" not in event["message"]
    assert store.get_model(name).run_id == event["run_id"]  # blessed again
    assert registry.pin_of(name) is None
