"""The rollout tables on every backend (SQLite and PostgreSQL): a start with its event, the
compare-and-set that refuses a stale revision, looks in order, and a promotion that blesses
in the same transaction (refused whole when the model is pinned)."""

from __future__ import annotations

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import ConflictError, ModelPinnedError
from jupyter_mlops.store.base import RunStore
from jupyter_mlops.store.sql_rollouts import Rollout, RolloutChange, rollout_tables
from tests.canary.helpers import NAME, T0, register


def _rollout(candidate: int) -> Rollout:
    spec = {"steps": [10.0, 100.0], "interval": 60.0}
    return Rollout(NAME, candidate, 1, "running", spec, 0, 0.1, T0, T0, 0)


def test_start_step_look_and_promote(store: RunStore, tracker: mlops.Tracker) -> None:
    register(tracker, "x1", bless=True)
    v2 = register(tracker, "good")
    tables = rollout_tables(store)
    r = tables.start_rollout(_rollout(v2), "ana", "10% of traffic")
    assert tables.active_rollout(NAME) == r and tables.active_rollouts() == [r]
    with pytest.raises(ConflictError):
        tables.start_rollout(_rollout(v2))
    step = RolloutChange("running", 1, 1.0, ("advance", {"diff": 0.1}), [(v2, "canary-step", "x")])
    after = tables.update_rollout(r, step, 0, T0 + 60)
    assert after is not None and (after.step, after.share, after.revision) == (1, 1.0, 1)
    assert tables.update_rollout(r, step, 0, T0 + 61) is None  # stale: refused, not applied
    assert [x.seq for x in tables.rollout_looks(NAME, v2)] == [1]
    store.pin_model(NAME, 1, reason="hold it", now=T0)
    promote = RolloutChange("promoted", 1, 1.0, ("advance", {}), [(v2, "canary-promote", "y")],
                            bless_reason="canary promoted")  # fmt: skip
    with pytest.raises(ModelPinnedError):
        tables.update_rollout(after, promote, 1, T0 + 120)
    assert tables.active_rollout(NAME).revision == 1  # nothing of it was written
    store.unpin_model(NAME)
    done = tables.update_rollout(after, promote, 1, T0 + 120)
    assert done is not None and done.state == "promoted"
    assert store.get_model(NAME).version == v2
    assert tables.active_rollout(NAME) is None and tables.latest_rollout(NAME) == done
    actions = [e.action for e in store.model_events(NAME)]
    assert "canary-start" in actions and actions[-3:] == ["canary-promote", "archive", "bless"]
    assert [x.decision for x in tables.rollout_looks(NAME, v2)] == ["advance", "advance"]
