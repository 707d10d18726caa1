"""``jupyter-mlops models canary NAME@V | canary-status NAME | canary-abort NAME``: staged
rollouts decided by a sequential test (see :mod:`jupyter_mlops.monitoring.canary`). The
scheduler (``jupyter-mlops scheduler``) takes the looks; these start, show and abort."""

from __future__ import annotations

import argparse
from typing import Any

from ..exit_codes import ExitCode
from .common import clock as _clock
from .common import command_tracker, integer, number
from .common import out as _out


def cmd_canary(args: argparse.Namespace) -> int:
    from ..monitoring.canary_spec import make_plan
    from ..registry import parse_ref
    from ..views.deployments import (
        abort_deployment,
        deployment,
        describe,
        start_deployment,
    )

    store = command_tracker(args).store
    now = _clock()()
    if args.action == "canary":
        plan = make_plan(args.steps, args.guard or (), args.interval, metric=args.metric,
                         effect=args.effect, alpha=args.alpha, beta=args.beta,
                         min_labels=args.min_labels)  # fmt: skip
        name, version = parse_ref(args.ref, store)
        if version is None:
            from ..exceptions import ValidationError

            raise ValidationError(f"say which version to canary: {args.ref}@VERSION")
        d = start_deployment(store, name, version, plan, now)
    elif args.action == "canary-abort":
        d = abort_deployment(store, args.name, now, args.reason)
    else:
        d = deployment(store, args.name, now)
    _out(args, d, describe(d))
    return int(ExitCode.OK)


def add_canary_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``canary``, ``canary-status`` and ``canary-abort`` under ``models``."""
    models = sub.choices["models"]
    (msub,) = (a for a in models._actions if isinstance(a, argparse._SubParsersAction))
    mc = msub.add_parser(
        "canary",
        parents=[common],
        help="shift traffic to NAME@V step by step, decided by a sequential test on labels",
    )
    mc.add_argument("ref", metavar="NAME@VERSION")
    mc.add_argument("--steps", default="2,5,10,25,50,100", help="percents, increasing, to 100")
    mc.add_argument("--metric", default="accuracy", help="accuracy, mae or mse (per-row)")
    mc.add_argument("--min-labels", type=integer("--min-labels", 30, 10**9), default=200,
                    help="labelled rows each arm needs before any decision")  # fmt: skip
    guard_help = "error_rate<1%%, p50<20ms or p99<50ms; a breach rolls back at once"
    mc.add_argument("--guard", action="append", metavar="RULE", help=guard_help)
    mc.add_argument("--interval", default="1h", help="time between looks, e.g. 30m, 1h")
    mc.add_argument("--effect", type=number("--effect", 1e-6, 1e6), default=0.02,
                    help="the minimum improvement to detect, in the metric's units")  # fmt: skip
    mc.add_argument("--alpha", type=number("--alpha", 1e-6, 0.25), default=0.05,
                    help="the chance of promoting a candidate that is not better")  # fmt: skip
    mc.add_argument("--beta", type=number("--beta", 1e-6, 0.5), default=0.2,
                    help="the chance of rolling back one better by --effect")  # fmt: skip
    ms = msub.add_parser("canary-status", parents=[common], help="the canary of NAME")
    ms.add_argument("name")
    ma = msub.add_parser("canary-abort", parents=[common], help="end NAME's canary")
    ma.add_argument("name")
    ma.add_argument("--reason")
    for sp in (mc, ms, ma):
        sp.add_argument("--json", action="store_true")
        sp.set_defaults(func=cmd_canary, read_only=True)


__all__ = ["add_canary_commands", "cmd_canary"]
