"""`models promote-shadow`: a shadow that beat the blessed model on labelled production batches
is blessed with the evidence recorded; otherwise one line says why not."""

from __future__ import annotations

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.monitoring.shadow import shadow_evidence
from jupyter_mlops.registry import ModelRegistry

from . import shadow_serving
from .helpers import Threshold, register


def days(n: int, start: int = 0) -> None:
    for day in range(start, start + n):
        shadow_serving.serve("m", day, seed=50)


def test_promote_shadow_with_evidence(
    tracker: mlops.Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    register(tracker, "m", Threshold(w=-0.5))  # served: wrong about x2
    register(tracker, "m", Threshold(w=0.5), bless=False)
    ModelRegistry(tracker.store).shadow("m@2")
    days(2)
    assert main(["models", "promote-shadow", "m@2"]) == 2
    assert (
        "beat the blessed model on 2 of 2 labelled batches by accuracy" in capsys.readouterr().err
    )
    days(1, start=2)
    ev = shadow_evidence("m@2")
    assert ev["won"] == 3 and all(b["shadow"] == 1.0 > b["served"] for b in ev["batches"])
    assert main(["models", "promote-shadow", "m@2", "--min-batches", "3"]) == 0
    assert (
        "m@2 is now blessed: m@2 beat the blessed model on 3 of 3 labelled batches by accuracy"
        in capsys.readouterr().out
    )
    assert tracker.store.get_model("m").version == 2
    last = tracker.store.model_events("m")[-1]
    assert last.action == "bless" and last.reason is not None
    assert last.reason == (
        "shadow evidence: m@2 beat the blessed model on 3 of 3 labelled batches by accuracy; "
        f"mean accuracy 1 vs {sum(b['served'] for b in ev['batches']) / 3:.3g}"
    )


def test_promote_shadow_refuses_a_loser_and_a_non_shadow(
    tracker: mlops.Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    register(tracker, "m", Threshold())
    register(tracker, "m", Threshold(flip=True), bless=False)
    assert main(["models", "promote-shadow", "m@2"]) == 2
    assert "m@2 is candidate, not in shadow" in capsys.readouterr().err
    ModelRegistry(tracker.store).shadow("m@2")
    days(3)
    assert main(["models", "promote-shadow", "m@2", "--metric", "f1"]) == 2
    assert "on 0 of 3 labelled batches by f1" in capsys.readouterr().err
    assert tracker.store.get_model("m").version == 1
