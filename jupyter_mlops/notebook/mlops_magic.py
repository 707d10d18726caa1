"""``%mlops COMMAND``: the CLI's read commands in a notebook, rendered as notebook values.

Each command's parser is built by the CLI's own argument functions (:mod:`..cli.runs`), so a
command takes the same options, defaults, types and checks as ``jupyter-mlops COMMAND``;
only what is notebook-specific is added here (``compare --plot``), and what is terminal-specific
(``--json``, ``--store``) is left out.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import MagicArgumentParser

from ..cli.runs import (
    compare_arguments,
    reproduce_arguments,
    runs_arguments,
    runs_query,
    show_arguments,
)
from ..exceptions import MLOpsError
from ..tracking import default_tracker
from ..tracking.summary import format_run


def _compare_arguments(p: argparse.ArgumentParser) -> None:
    compare_arguments(p)
    p.add_argument("--plot", metavar="METRIC", help="Also plot this metric's curves.")


def _no_arguments(p: argparse.ArgumentParser) -> None:
    pass


# command: (description, the function adding its arguments)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "runs": ("The recorded runs as a sortable table, newest first.", runs_arguments),
    "show": ("Everything recorded about one run.", show_arguments),
    "compare": ("Runs side by side, differences highlighted.", _compare_arguments),
    "reproduce": ("Re-execute a run's code and compare its metrics.", reproduce_arguments),
    "config": ("The project root, store, folders and metric names in use.", _no_arguments),
}


def magic_parser(command: str) -> MagicArgumentParser:
    """The parser of ``%mlops COMMAND``."""
    description, add_arguments = COMMANDS[command]
    # add_help=False: ``--help`` is answered by ``mlops`` itself, since argparse's own help
    # action would exit the interpreter.
    p = MagicArgumentParser(prog=f"mlops {command}", description=description, add_help=False)
    add_arguments(p)
    return p


@magics_class
class MLOpsCommands(Magics):
    @line_magic
    def mlops(self, line: str) -> Any:
        """%mlops COMMAND [options]: look at recorded runs. ``%mlops COMMAND --help`` shows
        one command's options; the commands are listed below."""
        try:
            words = shlex.split(line)
        except ValueError as e:
            raise UsageError(f"Cannot parse %mlops arguments: {e}") from None
        if not words or words[0] not in COMMANDS:
            raise UsageError(
                f"Unknown %mlops command {words[0]!r}; use one of: {', '.join(COMMANDS)}"
                if words
                else f"%mlops needs a command: {', '.join(COMMANDS)}"
            )
        parser = magic_parser(words[0])
        if "-h" in words[1:] or "--help" in words[1:]:
            print(parser.format_help())
            return None
        try:
            args = parser.parse_args(words[1:])
        except UsageError as e:
            raise UsageError(f"%mlops {words[0]}: {e} (see %mlops {words[0]} --help)") from None
        try:
            return getattr(self, "_cmd_" + words[0])(args)
        except MLOpsError as e:
            raise UsageError(str(e)) from None

    def _cmd_runs(self, args: Any) -> Any:
        from ..views import all_runs
        from .widgets import RunsFrame

        query = runs_query(args)
        page = all_runs(default_tracker(), query, args.limit)
        # The frame is the value; the widget pages through the same query in the store.
        return RunsFrame(page.frame(), query=query, limit=args.limit)

    def _cmd_show(self, args: Any) -> Any:
        print(format_run(default_tracker().get_run(args.run_id)))

    def _cmd_compare(self, args: Any) -> Any:
        from ..views import compare_runs

        tracker = default_tracker()
        comparison = compare_runs(tracker, args.run_ids)  # at least two: grammar and view
        if args.plot:
            from IPython.display import display

            from .plots import plot_metric_comparison

            runs = [tracker.get_run(r) for r in comparison.runs]
            display(plot_metric_comparison(runs, tracker, args.plot))
        from .widgets import CompareFrame

        return CompareFrame.of(comparison)

    def _cmd_reproduce(self, args: Any) -> Any:
        from ..reproduce import reproduce

        # Its repr is the verdict line and its HTML the verdict with a table of what differed.
        return reproduce(args.run_id, tolerance=args.tolerance)

    def _cmd_config(self, args: Any) -> Any:
        project = default_tracker().project
        s = project.settings
        print(
            f"project root  {s.root}\nstore         {s.store}\n"
            f"pipelines     {project.pipelines_dir}\nmonitors      {project.monitors_dir}\n"
            f"outputs       {project.outputs_dir}\n"
            f"metric names  {', '.join(s.metric_names)}"
        )


def _commands_help() -> str:
    """Every command's usage and options, for ``%mlops?``."""
    return "\n".join(magic_parser(command).format_help() for command in COMMANDS)


# ``%mlops?`` shows the docstring: append each subcommand's help, as magic_arguments does for
# a magic with one parser.
MLOpsCommands.mlops.__doc__ = f"{MLOpsCommands.mlops.__doc__}\n\n{_commands_help()}"

__all__ = ["COMMANDS", "MLOpsCommands", "magic_parser"]
