"""IPython front-end: ``%%track`` and ``%mlops``. Parses, makes one core call, displays."""

from __future__ import annotations

import ast
import os
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import (
    MagicArgumentParser,
    argument,
    magic_arguments,
    parse_argstring,
)
from IPython.display import display

from .cell import CellTracker, TrackOptions
from .compare import compare_frame, diff_runs
from .exceptions import MLOpsError
from .summary import RunSummary, format_run
from .tracking import default_tracker, warn_not_recorded


def _parse_tags(text: str) -> dict[str, str]:
    tags = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--tags expects key=value pairs separated by commas, got {item!r}")
        tags[key.strip()] = value.strip()
    return tags


@magics_class
class MLOpsMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.cells = CellTracker(default_tracker)

    @property
    def _shell(self) -> InteractiveShell:
        # IPython calls a magic through the shell it is registered with, so it is set.
        assert self.shell is not None
        return self.shell

    @magic_arguments()
    @argument("-e", "--experiment", help="Experiment name (default: the notebook's name).")
    @argument("-n", "--name", help="A name for this run.")
    @argument(
        "--seed", type=int, help="Seed for random, NumPy, torch, tensorflow (default: drawn)."
    )
    @argument("--no-seed", action="store_true", help="Do not seed; record no seed.")
    @argument("--params", default="", help="Comma-separated names to record as params.")
    @argument("--tags", default="", help="Comma-separated key=value tags.")
    @argument("--log-model", action="store_true", help="Save fitted estimators as artifacts.")
    @cell_magic
    def track(self, line: str, cell: str) -> Any:
        """Record this cell's execution as a run: params, metrics, seed, data fingerprints,
        code, environment and git state; shows a summary and what changed since the last run."""
        args = parse_argstring(self.track, line)
        if args.seed is not None and args.no_seed:
            raise UsageError("--seed and --no-seed cannot be used together; choose one")
        options = TrackOptions(
            experiment=args.experiment,
            name=args.name,
            seed=None if args.no_seed else (args.seed if args.seed is not None else "auto"),
            params=tuple(p.strip() for p in args.params.split(",") if p.strip()),
            tags=_parse_tags(args.tags),
            log_model=args.log_model,
        )
        shell = self._shell
        # Only the shell's atexit clean-up drops its history manager; no cell runs after that.
        assert shell.history_manager is not None
        try:
            result = self.cells.track(
                cell,
                shell.user_ns,
                lambda: self._execute(cell),
                options=options,
                history=list(shell.history_manager.input_hist_raw[1:]),
                notebook=self._notebook(),
                execution_count=shell.execution_count,
            )
        except MLOpsError as e:
            raise UsageError(str(e)) from None
        if result.not_recorded:
            warn_not_recorded(result.not_recorded)
        elif result.run is not None:
            display(RunSummary(result.run, diff_runs(result.previous, result.run)))
        if result.error is not None:
            raise result.error
        return result.value

    def _notebook(self) -> str | None:
        ns = self._shell.user_ns
        return (
            ns.get("__session__")
            or os.environ.get("JPY_SESSION_NAME")
            or os.environ.get("JUPYTER_MLOPS_NOTEBOOK")
            or None
        )

    def _execute(self, cell: str) -> Any:
        """Run ``cell`` like IPython would (magics, ``!cmd``, AST transformers) in the user
        namespace; the value of a trailing expression is returned so it displays as Out[n]."""
        shell = self._shell
        source = shell.transform_cell(cell)
        tree = shell.transform_ast(ast.parse(source))
        filename = shell.compile.cache(source, shell.execution_count)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, filename, "exec"), shell.user_global_ns, shell.user_ns)
        if last is not None:
            return eval(compile(last, filename, "eval"), shell.user_global_ns, shell.user_ns)
        return None

    @line_magic
    def mlops(self, line: str) -> Any:
        """%mlops runs [-e E] [--limit N] [--where EXPR] [--order-by F] | show ID |
        compare ID ID... [--plot METRIC] | reproduce ID [--tolerance T] | config"""
        try:
            words = shlex.split(line)
        except ValueError as e:
            raise UsageError(f"Cannot parse %mlops arguments: {e}") from None
        if not words or words[0] not in _COMMANDS:
            raise UsageError(
                f"Unknown %mlops command {words[0]!r}; use one of: {', '.join(_COMMANDS)}"
                if words
                else f"%mlops needs a command: {', '.join(_COMMANDS)}"
            )
        parser = _COMMANDS[words[0]]()
        args = parser.parse_args(words[1:])
        try:
            return getattr(self, "_cmd_" + words[0])(args)
        except MLOpsError as e:
            raise UsageError(str(e)) from None

    def _cmd_runs(self, args: Any) -> Any:
        from .widgets import RunsFrame  # a DataFrame that displays as a sortable run table

        frame = default_tracker().runs(args.experiment, args.where, args.order_by, args.limit)
        return RunsFrame(frame)

    def _cmd_show(self, args: Any) -> Any:
        print(format_run(default_tracker().get_run(args.run_id)))

    def _cmd_compare(self, args: Any) -> Any:
        if len(args.run_ids) < 2:
            raise UsageError("compare needs at least two run ids, e.g. %mlops compare 3f2a 9c1e")
        tracker = default_tracker()
        runs = [tracker.get_run(r) for r in args.run_ids]
        if args.plot:
            from .plots import plot_metric_comparison

            plot_metric_comparison(runs, tracker, args.plot)
        from .widgets import CompareFrame  # displays with differences highlighted and a chart

        return CompareFrame(compare_frame(runs), run_ids=[r.id for r in runs])

    def _cmd_reproduce(self, args: Any) -> Any:
        from .reproduce import reproduce

        rep = reproduce(args.run_id, tolerance=args.tolerance)
        new = rep.new.short_id if rep.new else "-"
        print(f"{rep.verdict}: run {rep.original.short_id} re-executed as {new}; {rep.message}")
        return rep

    def _cmd_config(self, args: Any) -> Any:
        s = default_tracker().settings
        print(
            f"project root  {s.root}\nstore         {s.store}\n"
            f"metric names  {', '.join(s.metric_names)}"
        )


def _parser(prog: str) -> MagicArgumentParser:
    return MagicArgumentParser(prog=f"%mlops {prog}", add_help=False)


def _runs_parser() -> MagicArgumentParser:
    p = _parser("runs")
    p.add_argument("-e", "--experiment")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--where")
    p.add_argument("--order-by")
    return p


def _show_parser() -> MagicArgumentParser:
    p = _parser("show")
    p.add_argument("run_id")
    return p


def _compare_parser() -> MagicArgumentParser:
    p = _parser("compare")
    p.add_argument("run_ids", nargs="+")
    p.add_argument("--plot", metavar="METRIC", help="Also plot this metric's curves.")
    return p


def _reproduce_parser() -> MagicArgumentParser:
    p = _parser("reproduce")
    p.add_argument("run_id")
    p.add_argument("--tolerance", type=float, default=0.0)
    return p


_COMMANDS = {
    "runs": _runs_parser,
    "show": _show_parser,
    "compare": _compare_parser,
    "reproduce": _reproduce_parser,
    "config": lambda: _parser("config"),
}


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(MLOpsMagics)


def unload_ipython_extension(ipython: Any) -> None:
    magics = ipython.magics_manager.magics
    magics["cell"].pop("track", None)
    magics["line"].pop("mlops", None)


__all__ = ["MLOpsMagics", "load_ipython_extension", "unload_ipython_extension"]
