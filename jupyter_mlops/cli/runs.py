"""``jupyter-mlops runs | show | compare | reproduce``, and their grammar.

The ``*_arguments`` functions add a command's options to a parser; the CLI and the ``%mlops``
magic both build their parsers with them, so a shared command takes the same options, defaults,
types and checks in a terminal and in a notebook. Each front-end adds only how it renders
(``--json`` here, ``--plot`` in the magic).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .. import bounds
from ..display import display_time
from ..exit_codes import ExitCode
from .common import command_tracker, integer, number, text
from .common import out as _out
from .common import print_json as _print_json

if TYPE_CHECKING:
    from ..views import RunsQuery

EXIT_OK = int(ExitCode.OK)


def runs_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-e", "--experiment", type=text("--experiment"), help="Only the runs of this experiment."
    )
    p.add_argument(
        "--where",
        type=text("--where", bounds.MAX_WHERE_LENGTH),
        help='A filter, e.g. "metrics.accuracy > 0.9 and params.C < 1".',
    )
    p.add_argument(
        "--order-by",
        type=text("--order-by", bounds.MAX_ORDER_LENGTH),
        help='Columns to sort by, comma-separated, e.g. "metrics.accuracy DESC" or "-started".',
    )
    p.add_argument(
        "--limit",
        type=integer("--limit", 1, bounds.MAX_OFFSET),
        default=None,
        help="At most this many runs (default: all).",
    )
    p.add_argument("--all", action="store_true", help="Include the runs reproductions recorded.")
    # Checked by the runs view, which gives every front-end the same message (exit 2).
    p.add_argument(
        "--status",
        type=text("--status"),
        help="Only the runs with this status (running, finished, failed, interrupted).",
    )
    p.add_argument(
        "--gate",
        type=text("--gate"),
        help="Only the runs whose gates passed, failed or warned, or that no gate judged (none).",
    )


def show_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", help="A run id or a unique prefix of one.")


class _AtLeastTwo(argparse.Action):
    """``nargs="+"`` that needs two values: one run compares with nothing."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        if len(values) < 2:
            from ..views.compare import NEEDS_TWO  # the message every front-end gives

            raise argparse.ArgumentError(self, NEEDS_TWO)
        setattr(namespace, self.dest, values)


def compare_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run_ids",
        nargs="+",
        action=_AtLeastTwo,
        metavar="RUN_ID",
        help="Two or more run ids (or unique prefixes).",
    )


def reproduce_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", help="A run id or a unique prefix of one.")
    p.add_argument(
        "--tolerance",
        type=number("--tolerance", 0.0),
        default=0.0,
        help="Relative/absolute tolerance for metrics (default: exact).",
    )


def runs_table(frame: Any, width: int = 240) -> str:
    if frame.empty:
        return "no runs recorded yet; track a cell with %%track or use mlops.start_run()"
    show = frame.copy()
    show["id"] = show["id"].str[:8]
    show["started"] = show["started"].map(display_time)
    show["duration"] = show["duration"].round(3)
    show = show.drop(columns=["kind", "parent_id"])
    show["name"] = show["name"].fillna("")
    if show["gates"].isna().all() and show["model"].isna().all():
        show = show.drop(columns=["gates", "model", "model_stage"])  # no pipeline runs listed
    else:
        show["gates"] = show["gates"].fillna("-")
        show["model"] = (show["model"] + " " + show["model_stage"]).fillna("-")
        show = show.drop(columns=["model_stage"])
    show.columns = [c.removeprefix("metrics.").removeprefix("params.") for c in show.columns]
    # Wide enough for "name@version stage"; a terminal wraps long lines itself.
    return show.to_string(index=False, max_colwidth=36, line_width=width)


def runs_query(args: argparse.Namespace) -> RunsQuery:
    """The query ``runs_arguments`` parsed: the CLI and ``%mlops runs`` read it the same way."""
    from ..views import RunsQuery

    query = RunsQuery(args.experiment, status=args.status, where=args.where, order_by=args.order_by)
    return replace(query, reproductions=args.all, gate=args.gate)


def cmd_runs(args: argparse.Namespace) -> int:
    from ..views import all_runs

    query = runs_query(args)
    page = all_runs(command_tracker(args), query, args.limit)
    if args.json:
        _print_json(page)
    elif not page.runs and (args.where or args.experiment):
        print(f"no runs match{f' in experiment {args.experiment}' if args.experiment else ''}")
    else:
        print(runs_table(page.frame()))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from ..tracking.summary import format_run
    from ..views import run_detail

    detail = run_detail(command_tracker(args), args.run_id)
    if args.json:
        _print_json(detail)
    elif detail.gate_results:
        from ..validation.report import format_gate_table

        gates = format_gate_table(detail.gate_results).replace("\n", "\n    ")
        print(f"{format_run(detail)}\n  gates        {detail.gate_outcome}\n    {gates}")
    else:
        print(format_run(detail))
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from ..views import compare_runs

    comparison = compare_runs(command_tracker(args), args.run_ids)
    if args.json:
        _print_json(comparison)
    else:
        print(comparison.frame().to_string())
    return EXIT_OK


def cmd_reproduce(args: argparse.Namespace) -> int:
    from ..reproduce import reproduce

    rep = reproduce(args.run_id, tolerance=args.tolerance, tracker=command_tracker(args))
    _out(args, rep.to_dict(), rep.summary())
    if rep.verdict == "failed":
        return int(ExitCode.NOT_REPLAYED)
    return int(ExitCode.OK if rep.verdict == "reproduced" else ExitCode.DIFFERS)


def add_run_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    r = sub.add_parser("runs", parents=[common], help="List runs, newest first.")
    runs_arguments(r)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_runs, read_only=True)

    s = sub.add_parser("show", parents=[common], help="Show one run (id or unique prefix).")
    show_arguments(s)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show, read_only=True)

    c = sub.add_parser("compare", parents=[common], help="Params and metrics of runs side by side.")
    compare_arguments(c)
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_compare, read_only=True)

    rp = sub.add_parser(
        "reproduce", parents=[common], help="Re-execute a run and compare inputs and metrics."
    )
    reproduce_arguments(rp)
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(func=cmd_reproduce)


__all__ = [
    "add_run_commands",
    "cmd_compare",
    "cmd_reproduce",
    "cmd_runs",
    "cmd_show",
    "compare_arguments",
    "reproduce_arguments",
    "runs_arguments",
    "runs_table",
    "show_arguments",
]
