"""``jupyter-mlops notify list | retry``: the notification outbox, and the short wait for
delivery at the end of a command that queued notifications (run, sweep, scheduler --once,
monitor --evaluate)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from ..exceptions import MLOpsError, ValidationError
from ..exit_codes import ExitCode
from .common import command_tracker

EXIT_OK = int(ExitCode.OK)
# The commands that may queue notifications, with the option that makes them do so (None: any).
NOTIFYING: dict[str, str | None] = {
    "run": None,
    "sweep": None,
    "scheduler": "once",
    "monitor": "evaluate",
}


def _when(t: dt.datetime | None) -> str:
    return "-" if t is None else t.strftime("%Y-%m-%d %H:%M:%S")


def _state(n: Any, now: float) -> str:
    if n.status.value == "pending" and n.claimed_by and n.next_attempt.timestamp() > now:
        return "sending"
    return str(n.status.value)


def notifications_table(items: list[Any], now: float) -> str:
    if not items:
        return "no notifications waiting (jupyter-mlops notify list --all shows delivered ones)"
    head = ("id", "status", "event", "to", "attempts", "created (UTC)", "next try (UTC)", "error")
    rows = [
        (
            n.id[:8],
            _state(n, now),
            n.event,
            f"{n.channel} {n.target}"[:48],
            str(n.attempts),
            _when(n.created),
            _when(n.next_attempt) if n.status.value == "pending" else "-",
            (n.last_error or "-")[:60],
        )
        for n in items
    ]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in (head, *rows)
    )


def cmd_notify(args: argparse.Namespace) -> int:
    import time

    from ..pipeline.outbox import retry
    from ..views import encode, notifications

    tracker = command_tracker(args)
    store = tracker.store
    if args.notify_command == "list":
        found = notifications(tracker, include_delivered=args.all)  # what GET notifications sends
        if args.json:
            print(encode(found, indent=2))
        else:
            print(notifications_table(list(found.notifications), time.time()))
        return EXIT_OK
    if bool(args.ids) == args.all:
        raise ValidationError(
            "notify retry: give notification ids (see jupyter-mlops notify list) or --all"
        )
    count, sent = retry(store, None if args.all else list(args.ids))
    data = {"retried": count, "delivered": sent.delivered, "failed": sent.failed}
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        lines = [f"{count} notification(s) due now; {len(sent.delivered)} delivered"]
        lines += [f"  {i[:8]} failed again: {error}" for i, error in sent.failed.items()]
        print("\n".join(lines))
    return EXIT_OK if not sent.failed else int(ExitCode.FAILED)


def after_command(args: argparse.Namespace, started: float) -> None:
    """At the end of a command that queued notifications: try to deliver them for at most
    ``notify_wait`` seconds, then say on stderr what is still pending. Never fails the command."""
    if args.command not in NOTIFYING:
        return
    option = NOTIFYING[args.command]
    if option is not None and not getattr(args, option, False):
        return
    from ..pipeline.outbox import wait_for

    try:
        tracker = command_tracker(args)
        left = wait_for(tracker.store, started, tracker.settings.notify_wait)
    except MLOpsError as e:  # the command itself succeeded: say it, keep its exit code
        print(f"jupyter-mlops: notifications not checked: {e}", file=sys.stderr)
        return
    message = left.message()
    if message:
        print(f"jupyter-mlops: {message}", file=sys.stderr)


def add_notify_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    no = sub.add_parser(
        "notify", parents=[common], help="The notification outbox: list, retry.",
        description="Notifications are queued in the store and delivered in the background "
        "(scheduler, Jupyter server, or the command that queued them), at least once each.",
    )  # fmt: skip
    nsub = no.add_subparsers(dest="notify_command", required=True, parser_class=type(no))
    ls = nsub.add_parser(
        "list", parents=[common], help="Notifications not delivered yet (pending or failed)."
    )
    ls.add_argument("--all", action="store_true", help="also the newest delivered ones")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_notify, read_only=True)
    rt = nsub.add_parser(
        "retry", parents=[common], help="Make notifications due now and deliver them once."
    )
    rt.add_argument("ids", nargs="*", metavar="ID", help="notification ids (or unique prefixes)")
    rt.add_argument("--all", action="store_true", help="every undelivered notification")
    rt.add_argument("--json", action="store_true")
    rt.set_defaults(func=cmd_notify, read_only=True)
