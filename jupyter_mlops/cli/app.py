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

from ..exceptions import ConfigError, MLOpsError, ValidationError
from ..exit_codes import ExitCode, describe
from .canary import add_canary_commands
from .common import command_tracker
from .models import add_model_commands
from .monitor import add_monitor_commands
from .notify import add_notify_commands, after_command
from .pipelines import add_pipeline_commands
from .runs import add_run_commands
from .schedule import add_schedule_commands
from .serve import add_serve_commands
from .store import add_store_commands

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
    for add_commands in (
        add_run_commands,
        add_pipeline_commands,
        add_model_commands,
        add_schedule_commands,
        add_monitor_commands,
        add_store_commands,
        add_notify_commands,
        add_serve_commands,
    ):
        add_commands(sub, common)
    add_canary_commands(sub, common)  # under `models`
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
        if args.store:  # opened now: a store that is not there is the first error
            command_tracker(args)
        started = time.time()
        code = func(args)
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
