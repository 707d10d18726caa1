"""``jupyter-mlops serve``: the HTTP model server (:mod:`jupyter_mlops.serving`)."""

from __future__ import annotations

import argparse
from typing import Any

from .. import bounds
from ..exceptions import MissingDependencyError
from ..exit_codes import ExitCode
from .common import command_tracker, integer, text


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from ..serving import ServeOptions, parse_size, parse_timeout, read_token, serve
    except ImportError as e:
        missing = (e.name or "starlette").split(".")[0]
        raise MissingDependencyError(missing, "jupyter-mlops serve", "serve") from None
    options = ServeOptions(
        names=tuple(args.names),
        host=args.host,
        port=args.port,
        workers=args.workers,
        token=read_token(args.token_file),
        max_body=parse_size(args.max_body),
        timeout=parse_timeout(args.timeout),
        record=not args.no_record,
    )
    from ..serving import check_options

    check_options(options)  # before the store is opened: a refused address is the first error
    serve(command_tracker(args).store, options)
    return int(ExitCode.OK)


def add_serve_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    sv = sub.add_parser(
        "serve",
        parents=[common],
        help="Serve registered models over HTTP: predictions, health, Prometheus metrics; "
        "every request recorded for the monitors.",
    )
    sv.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        type=text("NAME", bounds.MAX_KEY_LENGTH),
        help="the models to serve (default: every model with a blessed version)",
    )
    sv.add_argument(
        "--host",
        default="127.0.0.1",
        type=text("--host", 255),
        help="address to bind (default 127.0.0.1; any other needs a token)",
    )
    sv.add_argument(
        "--port", default=8000, type=integer("--port", 0, 65535), help="port (default 8000)"
    )
    sv.add_argument(
        "--workers",
        default=1,
        type=integer("--workers", 1, 256),
        help="server processes (default 1)",
    )
    sv.add_argument(
        "--token-file",
        metavar="FILE",
        help="file whose first line is the bearer token clients must send (or set "
        "$JUPYTER_MLOPS_SERVE_TOKEN); required off loopback",
    )
    sv.add_argument(
        "--max-body",
        default="10MB",
        metavar="SIZE",
        help="largest request body, e.g. 10MB, 512KiB (default 10MB): 413 above",
    )
    sv.add_argument(
        "--timeout",
        default="30s",
        metavar="DURATION",
        help="per-request scoring limit, e.g. 30s, 500ms (default 30s): 504 above",
    )
    sv.add_argument(
        "--no-record",
        action="store_true",
        help="do not record requests for the monitors (for benchmarks)",
    )
    sv.set_defaults(func=cmd_serve)
