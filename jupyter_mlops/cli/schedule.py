"""``jupyter-mlops scheduler | schedule list | pause | resume | next``: cron firings of
pipelines and monitors."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import bounds
from ..exit_codes import ExitCode
from .common import (
    command_project,
    command_tracker,
    integer,
    monitors_dir_option,
    number,
    pipeline_name,
    pipelines_dir_option,
)
from .common import out as _out

EXIT_OK = int(ExitCode.OK)


def cmd_scheduler(args: argparse.Namespace) -> int:

    from ..entities import PipelineOutcome
    from ..schedule.scheduler import Scheduler, scheduler_clock

    scheduler = Scheduler(
        command_project(args),
        command_tracker(args),
        scheduler_clock(args.now),
        lease_ttl=args.lease_ttl,
    )
    if args.status:
        from ..views import schedule_status

        status = schedule_status(
            command_tracker(args),
            command_project(args),
            scheduler_clock(args.now),
            limit=args.limit,
        )
        lines = [f"next  {name:24} {when.isoformat()}" for name, when in status.next.items()]
        lines += [
            f"{e.scheduled_for.isoformat()}"
            f"  {e.pipeline:24} {e.outcome:10} {(e.run_id or '')[:8]}  "
            f"{e.message or ''}"
            for e in status.log
        ]
        _out(
            args,
            status,
            "\n".join(lines) or "no scheduled pipelines (promote with --schedule CRON)",
        )
        return EXIT_OK
    if args.once:
        events = scheduler.tick()
        lines = [
            f"{e['pipeline']}: {e['message']}"  # a missed gap is one sentence
            if e["outcome"] == PipelineOutcome.MISSED
            else f"{e['pipeline']}: {e['outcome']} {e.get('message', '')}"
            for e in events
        ]
        _out(args, events, "\n".join(lines) or "nothing due")
        return EXIT_OK
    names = ", ".join(sorted(scheduler.next_fire())) or "none yet"
    print(
        f"scheduler: watching {scheduler.pipelines_dir}/ (scheduled: {names}); Ctrl-C stops",
        file=sys.stderr,
    )
    # One line per firing as it ends; flushed, since a foreground scheduler's output is often
    # piped to a log file.
    scheduler.on_event = lambda event: print(firing_line(event), flush=True)
    scheduler.serve(poll=args.poll)
    return EXIT_OK


def firing_line(event: dict[str, Any]) -> str:
    """What the foreground scheduler prints for a firing (or a missed gap): when it ended, the
    pipeline or monitor, the time it was scheduled for, the outcome, the run and how long it
    took, and the scheduler's message."""
    from ..display import display_time
    from ..schedule.monitors import PREFIX

    key = str(event["pipeline"])
    what = f"monitor {key.removeprefix(PREFIX)}" if key.startswith(PREFIX) else f"pipeline {key}"
    parts = [display_time(event.get("ended") or event["at"]), what]
    parts += [f"scheduled {display_time(event['at'])}", str(event["outcome"])]
    if event.get("run_id"):
        parts.append(f"run {str(event['run_id'])[:8]}")
    if event.get("duration") is not None:
        parts.append(f"{event['duration']:.1f}s")
    if event.get("message"):
        parts.append(str(event["message"]))
    return "  ".join(parts)


def _when(t: Any) -> str:
    return t.isoformat() if t is not None else "-"


def _schedule_line(info: Any, zone: Any) -> str:
    where = info.timezone
    nxt = (
        "paused"
        if info.paused
        else ", ".join(t.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") for t in info.next)
    )
    last = f"{info.last_status} {(info.last_run or '')[:8]}" if info.last_status else "never ran"
    gates = f" gates {info.gates}" if info.gates else ""
    return (
        f"{info.pipeline:20} {info.kind:8} {info.cron:16} {where:16} next {nxt}  last {last}{gates}"
    )


def cmd_schedule(args: argparse.Namespace) -> int:
    from ..cron import load_zone
    from ..schedule.scheduler import Scheduler, scheduler_clock

    scheduler = Scheduler(command_project(args), command_tracker(args), scheduler_clock(args.now))
    kind = getattr(args, "kind", None)
    if args.action == "list":
        infos = scheduler.schedules(count=3)
        text = "\n".join(_schedule_line(i, load_zone(i.timezone)) for i in infos)
        _out(
            args,
            infos,
            text or "no scheduled pipelines or monitors (promote with --schedule CRON)",
        )
    elif args.action == "next":
        spec_zone = load_zone(scheduler.schedules_zone(args.name, kind))
        times = scheduler.next_firings(args.name, args.n, kind)
        text = "\n".join(f"{t.astimezone(spec_zone).isoformat()}  ({t.isoformat()})" for t in times)
        _out(args, [t.isoformat() for t in times], text)
    elif args.action == "pause":
        kind = scheduler.pause(args.name, kind)
        what = f"monitor {args.name}" if kind == "monitor" else args.name
        _out(args, {"pipeline": args.name, "kind": kind, "paused": True}, f"{what}: paused")
    else:
        kind = scheduler.resume(args.name, kind)
        what = f"monitor {args.name}" if kind == "monitor" else args.name
        _out(
            args,
            {"pipeline": args.name, "kind": kind, "paused": False},
            f"{what}: resumed; firings missed while paused are not run",
        )
    return EXIT_OK


def add_schedule_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    pl, md = pipelines_dir_option(), monitors_dir_option()
    sc = sub.add_parser(
        "scheduler",
        parents=[common, pl, md],
        help="Run scheduled pipelines, and evaluate scheduled monitors, when their cron fires.",
    )
    sc.add_argument("--once", action="store_true", help="run what is due now, then exit")
    sc.add_argument("--status", action="store_true", help="next firings and the recent log")
    sc.add_argument(
        "--poll", type=number("--poll", 0.01, 86400.0), default=30.0,
        help="longest sleep, seconds",
    )  # fmt: skip
    sc.add_argument(
        "--limit", type=integer("--limit", 1, bounds.MAX_OFFSET), default=20,
        help="log entries shown by --status",
    )  # fmt: skip
    sc.add_argument(
        "--lease-ttl",
        type=number("--lease-ttl", 1.0, 86400.0),
        default=30.0,
        help="seconds a killed scheduler's lease blocks its pipelines (default 30)",
    )
    # Pins the clock (ISO 8601), like $JUPYTER_MLOPS_NOW: for tests, hence hidden.
    sc.add_argument("--now", help=argparse.SUPPRESS)
    sc.add_argument("--json", action="store_true")
    sc.set_defaults(func=cmd_scheduler)

    sd = sub.add_parser("schedule", parents=[common], help="List, pause, resume schedules.")
    ssub = sd.add_subparsers(dest="action", required=True, parser_class=type(sd))
    s_list = ssub.add_parser("list", parents=[common, pl, md], help="schedules, next firings")
    s_pause = ssub.add_parser("pause", parents=[common, pl, md], help="stop firing NAME")
    s_resume = ssub.add_parser("resume", parents=[common, pl, md], help="fire NAME again from now")
    s_next = ssub.add_parser("next", parents=[common, pl, md], help="the next firings of NAME")
    for sp in (s_pause, s_resume, s_next):
        sp.add_argument("name", type=pipeline_name("name"), help="a scheduled pipeline or monitor")
        sp.add_argument(
            "--kind",
            choices=["pipeline", "monitor"],
            help="which NAME means when a pipeline and its monitor both have a schedule",
        )
    s_next.add_argument(
        "-n", type=integer("-n", 1, 10000), default=5, help="how many firings (default 5)"
    )
    for sp in (s_list, s_pause, s_resume, s_next):
        sp.add_argument("--now", help=argparse.SUPPRESS)
        sp.add_argument("--json", action="store_true")
    sd.set_defaults(func=cmd_schedule)


__all__ = ["add_schedule_commands", "cmd_schedule", "cmd_scheduler", "firing_line"]
