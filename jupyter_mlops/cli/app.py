"""The ``jupyter-mlops`` command: tables for people, ``--json`` for scripts.

Exit codes (the table is :mod:`jupyter_mlops.exit_codes`): 0 success, 1 execution failed (or the
pipeline is already running), 2 usage error (bad option or parameter, unknown run or experiment,
bad filter or ordering, no store for a read-only command, notebook changed since promote), 3 a
gate failed, 4 a reproduction differs, 5 a reproduction failed to re-execute, 130 interrupted.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

from .. import bounds
from ..codec import dumps
from ..display import display_time
from ..entities import to_jsonable
from ..exceptions import ConfigError, MLOpsError, ValidationError
from ..exit_codes import ExitCode, describe
from .common import command_tracker, integer, text

# Names kept for scripts and tests that import them from here.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_GATE = (
    int(ExitCode.OK),
    int(ExitCode.FAILED),
    int(ExitCode.USAGE),
    int(ExitCode.GATE),
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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


def cmd_runs(args: argparse.Namespace) -> int:
    frame = command_tracker(args).runs(
        args.experiment, args.where, args.order_by, args.limit, include_reproductions=args.all
    )
    if args.json:
        from ..views import runs_records

        print(dumps(runs_records(frame), indent=2))
    elif frame.empty and (args.where or args.experiment):
        print(f"no runs match{f' in experiment {args.experiment}' if args.experiment else ''}")
    else:
        print(runs_table(frame))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from ..tracking.summary import format_run

    run = command_tracker(args).get_run(args.run_id)
    print(dumps(run, indent=2) if args.json else format_run(run))
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from ..tracking.compare import compare_frame, inputs_changed

    tracker = command_tracker(args)
    runs = [tracker.get_run(r) for r in args.run_ids]
    frame = compare_frame(runs)
    if args.json:
        print(
            dumps(
                {
                    "runs": [r.id for r in runs],
                    "inputs_changed": inputs_changed(runs),
                    "rows": {
                        k: {
                            c: to_jsonable(v, non_finite="null", fallback=str)
                            for c, v in row.items()
                        }
                        for k, row in frame.to_dict(orient="index").items()
                    },
                },
                indent=2,
            )
        )
    else:
        print(frame.to_string())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="jupyter-mlops",
        description="Experiment tracking and gated notebook pipelines (tables for people, "
        "--json for scripts).",
        epilog=describe(),
    )
    store_help = "Store directory or URL (default: <project>/.mlops, or $JUPYTER_MLOPS_STORE)"
    p.add_argument("--store", help=store_help)
    # --store is accepted after the command too; SUPPRESS keeps it from overwriting the global.
    common = _Parser(add_help=False)  # a parent of subcommands, so of their parser class
    common.add_argument("--store", default=argparse.SUPPRESS, help=store_help)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("runs", parents=[common], help="List runs, newest first.")
    r.add_argument("-e", "--experiment", type=text("--experiment"))
    r.add_argument(
        "--where",
        type=text("--where", bounds.MAX_WHERE_LENGTH),
        help='Filter, e.g. "metrics.accuracy > 0.9 and params.C < 1"',
    )
    r.add_argument(
        "--order-by",
        type=text("--order-by", bounds.MAX_ORDER_LENGTH),
        help='e.g. "metrics.accuracy DESC" or "-started"',
    )
    r.add_argument("--limit", type=integer("--limit", 1, bounds.MAX_OFFSET), default=None)
    r.add_argument("--json", action="store_true")
    r.add_argument("--all", action="store_true", help="Include the runs reproductions recorded.")
    r.set_defaults(func=cmd_runs, read_only=True)

    s = sub.add_parser("show", parents=[common], help="Show one run (id or unique prefix).")
    s.add_argument("run_id")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show, read_only=True)

    c = sub.add_parser("compare", parents=[common], help="Params and metrics of runs side by side.")
    c.add_argument("run_ids", nargs="+")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_compare, read_only=True)

    from .pipelines import add_pipeline_commands

    add_pipeline_commands(sub, common)
    from .monitor import add_monitor_commands

    add_monitor_commands(sub, common)
    from .store import add_store_commands

    add_store_commands(sub, common)
    from .notify import add_notify_commands

    add_notify_commands(sub, common)
    return p


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (systemd's stop, Airflow's kill, ``kill PID``) ends a command as Ctrl-C does: the
    run in progress is recorded ``interrupted`` and leases and locks are released by their
    ``finally`` blocks, instead of the process vanishing mid-transaction."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with _terminate_as_interrupt():
        return _dispatch(args)


def run() -> NoReturn:
    """The ``jupyter-mlops`` command (console script and ``python -m jupyter_mlops``)."""
    code = main()
    if code == ExitCode.INTERRUPTED:
        # An interrupted kernel run can leave jupyter_client's daemon threads holding ZeroMQ
        # sockets; the interpreter's final teardown then blocks in the ZeroMQ context's
        # termination (seen on a loaded machine: minutes after Ctrl-C). Everything of ours is
        # done by now and the exit handlers still run (stores flushed, kernels stopped); only
        # that teardown is skipped.
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _dispatch(args: argparse.Namespace) -> int:
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        if args.store:
            from ..tracking import set_store

            set_store(args.store, create=not getattr(args, "read_only", False))
        started = time.time()
        code = func(args)
        from .notify import after_command

        after_command(args, started)  # delivers what the command queued, for a short while
        return code
    except (ValidationError, ConfigError, LookupError) as e:
        print(f"jupyter-mlops: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except MLOpsError as e:
        print(f"jupyter-mlops: error: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("jupyter-mlops: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        sys.stderr.close()
        return EXIT_OK
    except (OSError, RuntimeError, TypeError, ValueError, AttributeError, ImportError) as e:
        # A bug or an environment problem: one line, the traceback only on request.
        if os.environ.get("JUPYTER_MLOPS_DEBUG"):
            raise
        print(
            f"jupyter-mlops: internal error: {type(e).__name__}: {e} (set JUPYTER_MLOPS_DEBUG=1"
            " for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    run()
