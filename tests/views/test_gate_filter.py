"""The gate filter of a runs listing (``gate=passed|failed|warned|none``) over a real store,
both backends, and from the CLI (``runs --gate``, exit 2 for a bad value)."""

from __future__ import annotations

import json

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import EXIT_USAGE, main
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.views import RunsQuery, runs_page
from jupyter_mlops.views.runs import GATE_FILTERS
from tests.test_store import _pipeline_run


@pytest.fixture
def judged(tracker: mlops.Tracker) -> dict[str, set[str]]:
    """Runs of each gate outcome, and one that no gate judged."""
    runs = {
        "warned": {_pipeline_run(tracker, ["pass", "warn", "skip"])},
        "passed": {_pipeline_run(tracker, ["pass", "pass"]), _pipeline_run(tracker, ["skip"])},
        "failed": {_pipeline_run(tracker, ["pass", "fail", "warn"])},
    }
    with tracker.start_run(experiment="wine") as plain:
        pass
    runs["none"] = {plain.id}
    return runs


def test_each_gate_outcome_selects_its_runs(tracker: mlops.Tracker, judged) -> None:
    for gate in GATE_FILTERS:
        page = runs_page(tracker, RunsQuery(gate=gate))
        assert {r.id for r in page.runs} == judged[gate], gate
        assert {r.gates for r in page.runs} == {None if gate == "none" else gate}
    both = runs_page(tracker, RunsQuery(gate="passed", status="finished", order_by="-gates"))
    assert {r.id for r in both.runs} == judged["passed"]


def test_the_gate_filter_pages_by_cursor_within_its_own_result_set(
    tracker: mlops.Tracker, judged
) -> None:
    first = runs_page(tracker, RunsQuery(gate="passed", limit=1))
    assert first.has_more and first.next_cursor
    second = runs_page(tracker, RunsQuery(gate="passed", limit=1, cursor=first.next_cursor))
    assert {first.runs[0].id, second.runs[0].id} == judged["passed"]
    with pytest.raises(ValidationError, match="another query"):
        runs_page(tracker, RunsQuery(gate="failed", limit=1, cursor=first.next_cursor))


def test_the_filter_language_knows_gates(tracker: mlops.Tracker, judged) -> None:
    page = runs_page(tracker, RunsQuery(where="gates in ['failed', 'warned']"))
    assert {r.id for r in page.runs} == judged["failed"] | judged["warned"]


@pytest.mark.parametrize("bad", ["bogus", "PASSED", "None", "fail"])
def test_a_bad_gate_is_a_validation_error_naming_the_choices(tracker, bad: str) -> None:
    with pytest.raises(ValidationError, match="Unknown gate") as info:
        runs_page(tracker, RunsQuery(gate=bad))
    assert "passed, failed, warned, none" in str(info.value)


def test_cli_runs_filters_by_gate_and_status(judged, capsys) -> None:
    assert main(["runs", "--json", "--gate", "failed"]) == 0
    assert {r["id"] for r in json.loads(capsys.readouterr().out)["runs"]} == judged["failed"]
    assert main(["runs", "--json", "--gate", "none", "--status", "finished"]) == 0
    assert {r["id"] for r in json.loads(capsys.readouterr().out)["runs"]} == judged["none"]
    assert main(["runs", "--gate", "warned"]) == 0
    assert next(iter(judged["warned"]))[:8] in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--gate", "bogus"], "Unknown gate 'bogus'"),
        (["--status", "done"], "Unknown status 'done'"),
        (["--gate", ""], "Unknown gate ''"),
    ],
)
def test_cli_bad_gate_or_status_exits_2_with_one_line(judged, capsys, argv, words) -> None:
    assert main(["runs", *argv]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
