"""``jupyter-mlops models alias | tag | describe``, ``NAME@ALIAS`` in ``show`` and ``bless``,
and the bless of a version whose gates failed: refused (exit 3) unless ``--override-gates``
with a ``--reason``. Bad input exits 2 with one line."""

from __future__ import annotations

import json

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import EXIT_USAGE, main
from jupyter_mlops.exit_codes import ExitCode

from .test_store import _pipeline_run


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def wine() -> None:
    tracker = mlops.default_tracker()
    _pipeline_run(tracker, ["pass", "pass"])  # wine@1
    _pipeline_run(tracker, ["pass", "fail"])  # wine@2: gate g1 failed


def test_alias_tag_describe_and_show(wine: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "alias", "wine@1", "champion"]) == 0
    assert capsys.readouterr().out.strip() == "wine@champion -> v1"
    assert main(["models", "tag", "wine@champion", "owner=ana", "data=2026-q4"]) == 0
    assert capsys.readouterr().out.strip() == "wine@1 tags: data=2026-q4, owner=ana"
    assert main(["models", "describe", "wine@1", "Q4 data.\nBest recall so far."]) == 0
    capsys.readouterr()
    assert main(["models", "show", "wine@champion", "--json"]) == 0
    (version,) = _json(capsys)["versions"]
    assert version["aliases"] == ["champion"] and version["tags"]["owner"] == "ana"
    assert version["description"] == "Q4 data.\nBest recall so far."
    assert main(["models", "show", "wine"]) == 0
    out = capsys.readouterr().out
    assert "@champion" in out and "tags: data=2026-q4, owner=ana" in out
    assert "description: Q4 data. …" in out
    assert "gates: wine@2 failed its gates: g1" in out
    for action in ("alias", "tag", "describe"):
        assert f"  {action} " in out  # each edit is in the history
    # Moved, deleted.
    assert main(["models", "alias", "wine@2", "champion", "--json"]) == 0
    assert _json(capsys)["aliases"] == ["champion"]
    assert main(["models", "tag", "wine@1", "--delete", "data"]) == 0
    assert capsys.readouterr().out.strip() == "wine@1 tags: owner=ana"
    assert main(["models", "alias", "wine", "champion", "--delete"]) == 0
    assert capsys.readouterr().out.strip() == "wine@champion removed"
    assert main(["models", "describe", "wine@1", ""]) == 0
    assert capsys.readouterr().out.strip() == "wine@1: description cleared"


def test_blessing_a_gate_failed_version_needs_an_override_and_a_reason(
    wine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "bless", "wine@2"]) == int(ExitCode.GATE)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "wine@2 failed its gates: g1" in err
    assert "--override-gates" in err
    assert main(["models", "bless", "wine@2", "--override-gates"]) == EXIT_USAGE
    assert "--reason" in capsys.readouterr().err
    assert main(["models", "bless", "wine@2", "--override-gates", "--reason", "stale"]) == 0
    capsys.readouterr()
    assert main(["models", "show", "wine", "--json"]) == 0
    last = _json(capsys)["events"][-1]
    assert last["action"] == "bless" and last["reason"].startswith("stale [gates overridden: ")
    assert main(["models", "bless", "wine@1"]) == 0  # passed: no flag needed


def test_pinning_a_gate_failed_version_follows_the_bless_rule(
    wine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Pinning a named version blesses it, so it must not be a way around the gates.
    assert main(["models", "pin", "wine", "--version", "2"]) == int(ExitCode.GATE)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "wine@2 failed its gates: g1" in err
    assert main(["models", "show", "wine", "--json"]) == 0
    assert _json(capsys)["pin"] is None
    assert main(["models", "pin", "wine", "--version", "2", "--override-gates"]) == EXIT_USAGE
    assert "--reason" in capsys.readouterr().err
    argv = ["models", "pin", "wine", "--version", "2", "--override-gates", "--reason", "audit"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["models", "show", "wine", "--json"]) == 0
    shown = _json(capsys)
    assert shown["pin"]["version"] == 2
    assert shown["pin"]["reason"].startswith("audit [gates overridden: ")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["models", "alias", "wine@1", "3"], "starting with a letter"),
        (["models", "alias", "wine@1", "v2"], "reads like a version"),
        (["models", "alias", "wine@1", "a b"], "is not valid"),
        (["models", "alias", "wine@1", "x" * 65], "the limit is 64"),
        (["models", "alias", "wine@9", "champion"], "has no version 9"),
        (["models", "alias", "nope@1", "champion"], "No model named 'nope'"),
        (["models", "show", "wine@champion"], "no alias 'champion'"),
        (["models", "show", "wine@"], "Bad model reference"),
        (["models", "tag", "wine@1", "owner"], "KEY=VALUE"),
        (["models", "tag", "wine@1", "=x"], "A tag key must be text"),
        (["models", "tag", "wine@1", "own er=x"], "is not valid"),
        (["models", "tag", "wine@1"], "Give tags to set"),
        (["models", "tag", "wine@1", "--delete", "team"], "has no tag 'team'"),
        (["models", "describe", "wine@1", "x" * 5001], "the limit is 5000"),
        (["models", "describe", "wine", "text"], "Say which version"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    wine: None, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
