"""``%mlops`` and ``jupyter-mlops`` share one argument grammar: every command the magic offers
takes the CLI's options with the same defaults, types (jupyter_mlops.bounds) and checks."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from IPython.core.error import UsageError

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import EXIT_USAGE, build_parser, main
from jupyter_mlops.cli.common import integer
from jupyter_mlops.cli.runs import runs_arguments, show_arguments
from jupyter_mlops.notebook.mlops_magic import COMMANDS, magic_parser

# How each front-end renders, not what it asks: not part of the shared grammar.
CLI_ONLY = {"json", "store", "help"}
MAGIC_ONLY = {("compare", "plot")}
MAGIC_ONLY_COMMANDS = {"config"}  # the kernel's settings: no terminal command


def cli_command(name: str) -> argparse.ArgumentParser | None:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices.get(name)


def grammar(parser: argparse.ArgumentParser) -> dict[str, tuple[Any, ...]]:
    """Each option's spelling, action, arity, default, type, choices and whether required."""
    return {
        a.dest: (
            tuple(a.option_strings),
            type(a),
            a.nargs,
            a.default,
            a.type,
            a.choices,
            a.required,
            a.const,
        )
        for a in parser._actions
    }


def differences(command: str, cli: argparse.ArgumentParser, magic: argparse.ArgumentParser) -> list:
    ours = {k: v for k, v in grammar(magic).items() if (command, k) not in MAGIC_ONLY}
    theirs = {k: v for k, v in grammar(cli).items() if k not in CLI_ONLY}
    return sorted(
        (dest, theirs.get(dest), ours.get(dest))
        for dest in set(ours) | set(theirs)
        if theirs.get(dest) != ours.get(dest)
    )


def test_every_magic_command_has_the_cli_grammar() -> None:
    shared = [c for c in COMMANDS if cli_command(c) is not None]
    assert set(COMMANDS) - set(shared) == MAGIC_ONLY_COMMANDS
    for command in shared:
        cli = cli_command(command)
        assert cli is not None
        assert not differences(command, cli, magic_parser(command)), command
        assert grammar(magic_parser(command)), command  # the comparison compared something


def test_a_planted_difference_is_caught() -> None:
    cli = cli_command("runs")
    assert cli is not None
    other_default = magic_parser("runs")
    other_default.set_defaults(limit=20)  # the magic's old default
    assert [d[0] for d in differences("runs", cli, other_default)] == ["limit"]

    other_type = magic_parser("runs")
    limit = next(a for a in other_type._actions if a.dest == "limit")
    limit.type = integer("--limit", 1, 100)  # another bound
    assert [d[0] for d in differences("runs", cli, other_type)] == ["limit"]

    fewer = argparse.ArgumentParser(add_help=False)
    runs_arguments(fewer)
    fewer._actions = [a for a in fewer._actions if a.dest != "all"]
    assert [d[0] for d in differences("runs", cli, fewer)] == ["all"]

    other_command = argparse.ArgumentParser(add_help=False)
    show_arguments(other_command)
    assert "run_id" in {d[0] for d in differences("runs", cli, other_command)}


def _two_runs() -> list[str]:
    for acc in (0.5, 0.75):
        with mlops.start_run(experiment="g", seed=None) as run:
            run.log_metric("acc", acc)
    return list(mlops.runs(experiment="g")["id"])


def test_both_front_ends_refuse_one_run_to_compare(shell, capsys) -> None:
    ids = _two_runs()
    with pytest.raises(UsageError, match=r"^%mlops compare: .*at least two run ids"):
        shell.run(f"%mlops compare {ids[0][:8]}")
    with pytest.raises(SystemExit) as e:  # argparse's exit, as for any bad option
        main(["compare", ids[0][:8]])
    assert e.value.code == EXIT_USAGE
    assert "at least two run ids" in capsys.readouterr().err


def test_both_front_ends_bound_the_limit_alike(shell, capsys) -> None:
    _two_runs()
    with pytest.raises(UsageError, match=r"^%mlops runs: .*--limit must be from 1"):
        shell.run("%mlops runs --limit 0")
    with pytest.raises(SystemExit) as e:
        main(["runs", "--limit", "0"])
    assert e.value.code == EXIT_USAGE
    assert "--limit must be from 1" in capsys.readouterr().err
    # The same default: every run, in the notebook as in the terminal.
    assert len(shell.run("%mlops runs")) == len(mlops.runs()) == 2
    assert len(shell.run("%mlops runs --limit 1 --all")) == 1
