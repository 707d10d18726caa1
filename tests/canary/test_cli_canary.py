"""``jupyter-mlops models canary | canary-status | canary-abort``: a canary started, shown and
aborted from the CLI, and each bad input refused with one line (exit 2)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import EXIT_USAGE, main
from tests.canary.helpers import NAME, T0, Traffic, register


@pytest.fixture
def models(lite_tracker: mlops.Tracker, monkeypatch: pytest.MonkeyPatch) -> int:
    now = dt.datetime.fromtimestamp(T0 + 10, dt.timezone.utc).isoformat()
    monkeypatch.setenv("JUPYTER_MLOPS_NOW", now.replace("+00:00", "Z"))
    register(lite_tracker, "x1", bless=True)
    Traffic(lite_tracker.store).serve(100, T0)
    return register(lite_tracker, "good")


def test_start_status_abort(models: int, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["models", "canary", f"{NAME}@{models}", "--steps", "5,50,100", "--guard", "p99<50ms"]
    assert main([*args, "--interval", "30m", "--min-labels", "100", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["state"], body["candidate"], body["share"]) == ("running", models, 0.05)
    assert body["plan"]["guards"] == ["p99<50ms"] and body["plan"]["interval"] == 1800.0
    assert [a["arm"] for a in body["arms"]] == ["candidate", "blessed"]
    assert main(["models", "canary-status", NAME]) == 0
    assert "canary v2 vs blessed v1, running, candidate share 5%" in capsys.readouterr().out
    assert main(["models", "canary-abort", NAME, "--reason", "testing"]) == 0
    assert "aborted" in capsys.readouterr().out
    assert main(["models", "show", NAME, "--json"]) == 0
    actions = [e["action"] for e in json.loads(capsys.readouterr().out)["events"]]
    assert actions[-2:] == ["canary-start", "canary-abort"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--steps", "5,2,100"], "--steps must increase"),
        (["--steps", "0,50,100"], "outside (0, 100]"),
        (["--steps", "5,50"], "must end at 100"),
        (["--steps", "5,x,100"], "is not a percent"),
        (["--guard", "latency<5"], "is not a guardrail"),
        (["--guard", "p99<5%"], "a latency is in ms or s"),
        (["--guard", "error_rate<200%"], "percent up to 100%"),
        (["--interval", "soon"], "Invalid duration"),
        (["--metric", "f1"], "not a per-row metric"),
        (["--alpha", "0.9"], "--alpha"),
    ],
)
def test_bad_input_is_one_line(
    models: int, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    try:
        code = main(["models", "canary", f"{NAME}@{models}", *extra])
    except SystemExit as e:  # refused by argparse itself (a bounded number)
        code = e.code
    assert code == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_a_model_without_labels_or_blessed_version(
    lite_tracker: mlops.Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    v1 = register(lite_tracker, "x1", name="fresh")
    assert main(["models", "canary", f"fresh@{v1}"]) == EXIT_USAGE
    assert "has no blessed version" in capsys.readouterr().err
    register(lite_tracker, "x1", name="fresh", bless=True)
    assert main(["models", "canary", f"fresh@{v1}"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "has no labels" in err and err.count("\n") == 1
    assert main(["models", "canary-abort", "fresh"]) == EXIT_USAGE
    assert "no canary running" in capsys.readouterr().err
    assert main(["models", "canary-status", "nope"]) == EXIT_USAGE
