"""Honest shadow evidence: a batch counts only if another version served it while the shadow
scored it, a tie is a tie (neither a win nor a loss), and the rule is "at least min_batches
won, none lost". So a former blessed version put back in shadow can be promoted."""

from __future__ import annotations

from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.exceptions import MLOpsError, ValidationError
from jupyter_mlops.monitoring.metrics import HIGHER_IS_BETTER
from jupyter_mlops.monitoring.report import detail
from jupyter_mlops.monitoring.shadow import promote_shadow, shadow_evidence
from jupyter_mlops.pipeline.monitor_spec import SHADOW_METRICS
from jupyter_mlops.registry import ModelRegistry

from . import shadow_serving
from .helpers import DAY, T0, Threshold, register


def serve(day: int, n: int = 200, *, tie: bool = False) -> None:
    shadow_serving.serve("m", day, seed=70, n=n, tie=tie)


def test_a_former_blessed_version_put_back_in_shadow_is_promoted_on_honest_evidence(
    tracker: mlops.Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = ModelRegistry(tracker.store)
    register(tracker, "m", Threshold())  # v1: right, blessed, serves days 0-1
    for day in (0, 1):
        serve(day)
    register(tracker, "m", Threshold(w=-0.5))  # v2: wrong about x2, blessed later
    registry.shadow("m@1", reason="v2 looks worse in production")
    for day in (2, 3, 4):  # served by v2, with v1 shadowing
        serve(day)
    ev = shadow_evidence("m@1")
    assert ev["own"] == 2  # days 0-1: v1 served them itself, no evidence either way
    assert [b["blessed"] for b in ev["batches"]] == [2, 2, 2]
    assert (ev["won"], ev["tied"], ev["lost"]) == (3, 0, 0)
    assert main(["models", "promote-shadow", "m@1", "--min-batches", "3"]) == 0
    assert (
        "m@1 is now blessed: m@1 beat the blessed model on 3 of 3 labelled batches by accuracy "
        "(2 it served itself not counted)" in capsys.readouterr().out
    )
    assert tracker.store.get_model("m").version == 1


def test_ties_are_ties_and_do_not_block_a_promotion(
    tracker: mlops.Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    register(tracker, "m", Threshold(w=-0.5))
    register(tracker, "m", Threshold(), bless=False)
    ModelRegistry(tracker.store).shadow("m@2")
    serve(0, tie=True)  # both predict the same rows alike: a tie
    serve(1)
    assert main(["models", "promote-shadow", "m@2", "--min-batches", "2"]) == 2
    assert capsys.readouterr().err.strip() == (
        "jupyter-mlops: error: m@2 beat the blessed model on 1 of 2 labelled batches by "
        "accuracy (1 tie); promoting needs at least 2 won and no loss (log more labels, or "
        "bless it by hand with `models bless`)"
    )
    tie = next(b for b in shadow_evidence("m@2")["batches"] if b["result"] == "tied")
    assert tie["shadow"] == tie["served"] and tie["won"] is False
    Path("monitors").mkdir()
    Path("monitors/m.yaml").write_text("checks:\n  - {kind: shadow}\n")
    (shown,) = detail("m", store=tracker.store, clock=lambda: T0 + 2 * DAY)["shadows"]
    assert (shown["ref"], shown["batches"], shown["won"], shown["tied"], shown["lost"]) == (
        "m@2", 2, 1, 1, 0,
    )  # fmt: skip
    for day in (2, 3):
        serve(day)
    mv, ev = promote_shadow("m@2", min_batches=3)
    assert mv.version == 2 and (ev["won"], ev["tied"], ev["lost"]) == (3, 1, 0)
    reason = tracker.store.model_events("m")[-1].reason or ""
    assert reason.startswith(
        "shadow evidence: m@2 beat the blessed model on 3 of 4 labelled batches by accuracy "
        "(1 tie); mean accuracy "
    )


def test_a_loss_blocks_a_promotion_whatever_the_wins(tracker: mlops.Tracker) -> None:
    register(tracker, "m", Threshold())
    register(tracker, "m", Threshold(w=0.6), bless=False)  # a little wrong about x2
    ModelRegistry(tracker.store).shadow("m@2")
    serve(0)
    ev = shadow_evidence("m@2")
    assert (ev["won"], ev["lost"]) == (0, 1)
    with pytest.raises(ValidationError, match=r"on 0 of 1 labelled batch by accuracy \(1 loss\)"):
        promote_shadow("m@2", min_batches=1)


@pytest.mark.parametrize(
    ("ref", "min_batches", "needle"),
    [
        ("m@9", 1, "Model 'm' has no version 9; see"),
        ("m@1", 1, "m@1 is blessed, not in shadow; put it there first"),
        ("m", 1, "Say which shadow version, e.g. m@3"),
        ("m@2", 0, "min_batches must be a whole number from 1 to 10,000, got 0"),
        ("m@2", 10_001, "min_batches must be a whole number from 1 to 10,000, got 10001"),
        ("m@2", True, "min_batches must be a whole number from 1 to 10,000, got True"),
    ],
)
def test_one_line_errors(tracker: mlops.Tracker, ref: str, min_batches: int, needle: str) -> None:
    register(tracker, "m", Threshold())
    register(tracker, "m", Threshold(), bless=False)
    ModelRegistry(tracker.store).shadow("m@2")
    with pytest.raises(MLOpsError) as e:
        promote_shadow(ref, min_batches=min_batches)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_cli_refuses_min_batches_out_of_bounds(
    tracker: mlops.Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    register(tracker, "m", Threshold())
    for bad in ("0", "-1", "10001", "three"):
        with pytest.raises(SystemExit) as e:
            main(["models", "promote-shadow", "m@1", "--min-batches", bad])
        assert e.value.code == 2
        err = capsys.readouterr().err.strip()
        assert "--min-batches" in err and "Traceback" not in err and "\n" not in err


def test_the_shadow_metrics_of_a_monitor_spec_are_the_metrics_compared() -> None:
    assert set(SHADOW_METRICS) == set(HIGHER_IS_BETTER)


def test_an_unknown_metric_is_one_line(tracker: mlops.Tracker) -> None:
    register(tracker, "m", Threshold())
    register(tracker, "m", Threshold(), bless=False)
    ModelRegistry(tracker.store).shadow("m@2")
    with pytest.raises(ValidationError, match="Unknown metric 'auc'; use one of accuracy"):
        shadow_evidence("m@2", "auc")
