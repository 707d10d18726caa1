"""``jupyter-mlops promote | run | sweep | gates | models | reproduce | scheduler | schedule |
gc``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import bounds
from ..codec import dumps
from ..entities import iso_time as iso
from ..exit_codes import ExitCode, exit_code
from ..tracking.seeding import MAX_SEED
from .common import command_tracker, integer, number, pipeline_name, spec_ref
from .common import text as bounded_text

EXIT_OK = int(ExitCode.OK)


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    print(dumps(data, indent=2) if getattr(args, "json", False) else text)


def cmd_promote(args: argparse.Namespace) -> int:
    from ..pipeline import promote
    from ..pipeline.params import describe_param

    result = promote(
        args.notebook,
        name=args.name,
        schedule=args.schedule,
        gates=args.gates,
        timeout=args.timeout,
        retries=args.retries,
        kernel=args.kernel,
        pipelines_dir=args.pipelines_dir,
        timezone=args.timezone,
    )
    spec = result.spec
    verb = "wrote" if result.created else "updated"
    lines = [
        f"{verb} {result.path}: pipeline '{spec.name}' with {len(spec.parameters)} "
        f"parameter(s), {len(spec.gates)} gate(s), schedule {spec.cron or 'none'}, "
        f"timeout {spec.timeout}"
    ]
    lines += [
        f"  {describe_param(p)}" + (f"  # {p.help}" if p.help else "") for p in spec.parameters
    ]
    lines += [f"  changed: {c}" for c in result.changes]
    lines += [f"note: {m}" for m in result.messages]
    lines.append(f"run it with: jupyter-mlops run {spec.name}")
    _out(args, {"path": str(result.path), **spec.to_dict()}, "\n".join(lines))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from ..pipeline import format_gate_table, parse_kv
    from ..pipeline.runner import PipelineRunner, find_spec, model_outcome

    spec = find_spec(args.pipeline, args.pipelines_dir)
    tracker = command_tracker(args)
    runner = PipelineRunner(
        tracker, progress=not args.no_progress and sys.stderr.isatty(), clock=_clock()
    )

    def started(run: Any) -> None:
        print(
            f"pipeline {spec.name}: run {run.id[:8]} executing {spec.notebook_path()} "
            f"(seed {run.seed})",
            file=sys.stderr,
        )

    result = runner.run(
        spec,
        parse_kv(args.param or []),
        args.params_file,
        allow_changed=args.allow_changed,
        seed=args.seed,
        on_start=started,
        run_id=args.run_id,
    )
    run = result.run
    if args.json:
        _out(
            args,
            {
                "exit_code": exit_code(result.outcome),
                "outcome": result.outcome.value,
                "run": run,
                "gates": result.gates,
                "model": result.model,
                "blessed": result.blessed,
                "held": result.held,
                "report": str(result.report or ""),
                "output_notebook": str(result.output_notebook),
                "notes": result.notes,
            },
            "",
        )
        return exit_code(result.outcome)
    lines = [f"run {run.short_id} {run.status.value} in {run.duration or 0:.1f}s (seed {run.seed})"]
    if run.error:
        lines.append(f"error: {run.error.strip().splitlines()[0]}")
    if result.gates:
        lines.append(format_gate_table(result.gates))
    lines += [f"note: {n}" for n in result.notes]
    if result.model is not None:
        lines.append(f"model {result.model.ref} {model_outcome(result)}")
    if result.report:
        lines.append(f"gate report: {result.report}")
    lines.append(f"output notebook: {result.output_notebook}")
    print("\n".join(lines))
    return exit_code(result.outcome)


def cmd_gates(args: argparse.Namespace) -> int:
    from ..validation.report import format_gate_table

    tracker = command_tracker(args)
    run = tracker.get_run(args.run_id)
    results = tracker.store.gate_results(run.id)
    text = (
        format_gate_table(results)
        if results
        else f"run {run.short_id} has no gate results: its pipeline declares no gates, or it is "
        "not a pipeline run"
    )
    _out(args, results, text)
    return EXIT_OK


def _model_line(m: Any) -> str:
    metrics = "  ".join(f"{k}={v:.4g}" for k, v in list(m.metrics.items())[:4])
    return f"{m.ref:24} {m.stage.value:10} run {m.run_id[:8]}  {m.size:>9,} B  {metrics}"


def _clock() -> Any:
    """Epoch seconds now, or at ``$JUPYTER_MLOPS_NOW`` (tests): when pins start and expire."""
    from ..schedule.scheduler import scheduler_clock

    clock = scheduler_clock()
    return lambda: clock().timestamp()


def _pin_line(pin: Any) -> str:
    by = f" by {pin.by}" if pin.by else ""
    until = f" until {iso(pin.until)}" if pin.until is not None else ""
    why = f": {pin.reason}" if pin.reason else ""
    return f"{pin.describe()}{by} since {iso(pin.since)}{until}{why}"


def cmd_models(args: argparse.Namespace) -> int:
    from ..registry import ModelRegistry, parse_until

    registry = ModelRegistry(command_tracker(args).store, clock=_clock())
    action = args.action
    until = getattr(args, "until", None)
    until_ts = parse_until(until, registry.clock()) if until else None
    if action == "list":
        models = registry.versions(args.name)
        _out(
            args,
            models,
            "\n".join(_model_line(m) for m in models) or "no models registered yet",
        )
    elif action == "show":
        _show_model(args, registry)
    elif action == "bless":
        m = registry.bless(args.ref, args.reason, force=args.force)
        _out(args, m, f"{m.ref} is now blessed")
    elif action == "shadow":
        m = registry.shadow(args.ref, args.reason)
        _out(args, m, f"{m.ref} is now in shadow: scored by mlops.predict, not served")
    elif action == "promote-shadow":
        from ..monitoring.shadow import promote_shadow

        m, ev = promote_shadow(args.ref, args.min_batches, args.metric, store=registry.store)
        _out(args, {"model": m, "evidence": ev}, f"{m.ref} is now blessed ({ev['won']}"
             f" labelled batches won by {ev['metric']})")  # fmt: skip
    elif action == "pin":
        pin = registry.pin(args.name, args.version, args.reason, until_ts)
        _out(args, pin, f"{args.name}: {_pin_line(pin)}; runs register candidates only")
    elif action == "unpin":
        gone = registry.unpin(args.name, args.reason)
        text = f"{args.name} was not pinned" if gone is None else f"{args.name}: unpinned"
        _out(args, {"unpinned": gone}, text)
    else:
        old, new = registry.rollback(args.name, args.to, args.reason, until_ts)
        _out(
            args,
            {"archived": old, "blessed": new},
            f"rolled back {args.name}: {old.ref} archived, {new.ref} blessed again and pinned"
            f" (runs register candidates until `jupyter-mlops models unpin {args.name}`)",
        )
    return EXIT_OK


def _show_model(args: argparse.Namespace, registry: Any) -> None:
    models = registry.lookup(args.ref)
    name = models[0].name
    events = registry.events(name)
    pin = registry.pin_of(name)
    text = (
        "\n".join(_model_line(m) for m in models)
        + (f"\npinned: {_pin_line(pin)}" if pin is not None else "")
        + "\nhistory:\n"
        + "\n".join(
            f"  {e.action:9} {e.name}@{e.version}  by {e.actor}  {e.reason or ''}" for e in events
        )
    )
    from ..monitoring.report import describe_event

    # The monitor's actions (retrain, rollback, notify) belong to the model's history too.
    acts = [e for e in registry.store.monitor_events(name) if e.kind == "action"]
    if acts:
        text += "\nmonitor actions:\n" + "\n".join(
            f"  {e.status:9} {describe_event(e)}" for e in acts
        )
    _out(
        args,
        {
            "versions": models,
            "pin": pin,
            "events": events,
            "monitor_actions": [{"time": e.time, "status": e.status, **e.detail} for e in acts],
        },
        text,
    )


def cmd_reproduce(args: argparse.Namespace) -> int:
    from ..reproduce import reproduce

    rep = reproduce(args.run_id, tolerance=args.tolerance, tracker=command_tracker(args))
    _out(args, rep.to_dict(), rep.summary())
    if rep.verdict == "failed":
        return int(ExitCode.NOT_REPLAYED)
    return int(ExitCode.OK if rep.verdict == "reproduced" else ExitCode.DIFFERS)


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..pipeline.runner import find_spec
    from ..pipeline.sweep import combinations, parse_grid, run_sweep

    spec = find_spec(args.pipeline, args.pipelines_dir)
    combos = combinations(parse_grid(args.grid or []), args.random, args.seed)
    result = run_sweep(
        spec,
        combos,
        tracker=command_tracker(args),
        parallel=args.parallel,
        metric=args.metric,
        maximize=args.maximize,
        progress=not args.no_progress and sys.stderr.isatty(),
        warm=not args.cold,
        on=args.on,
        bless_best=args.bless_best,
    )
    payload = {
        "sweep": result.sweep_id,
        "exit_code": result.exit_code,
        "interrupted": result.interrupted,
        "counts": result.counts(),
        "blessed": result.blessed,
        "held": result.held,
        "runs": [vars(r) for r in result.ranked()],
    }
    head = f"sweep {result.sweep_id} of {spec.name}"
    _out(
        args,
        payload,
        head
        + ("  (interrupted)" if result.interrupted else "")
        + "\n"
        + result.table()
        # The last line says what happened, whatever the table's length.
        + f"\nsweep {result.sweep_id}: {result.summary()}",
    )
    return result.exit_code


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..pipeline.airflow_export import write_airflow_dag
    from ..pipeline.runner import find_spec

    spec = find_spec(args.pipeline, args.pipelines_dir)
    # The project is where `jupyter-mlops run` works: the directory holding pipelines/.
    project = Path(args.pipelines_dir).resolve().parent
    # The store too: the DAG records where this command would (--store, $JUPYTER_MLOPS_STORE).
    store = command_tracker(args).store.workdir
    path = write_airflow_dag(spec, Path(args.output), project, store)
    _out(args, {"dag": str(path)}, f"wrote {path} (Airflow DAG of pipeline {spec.name})")
    return EXIT_OK


def cmd_scheduler(args: argparse.Namespace) -> int:

    from ..entities import PipelineOutcome
    from ..schedule.scheduler import Scheduler, scheduler_clock

    scheduler = Scheduler(
        args.pipelines_dir,
        command_tracker(args),
        scheduler_clock(args.now),
        lease_ttl=args.lease_ttl,
        monitors_dir=args.monitors_dir,
    )
    if args.status:
        status = scheduler.status(limit=args.limit)
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
        f"scheduler: watching {args.pipelines_dir}/ (scheduled: {names}); Ctrl-C stops",
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

    scheduler = Scheduler(
        args.pipelines_dir,
        command_tracker(args),
        scheduler_clock(args.now),
        monitors_dir=args.monitors_dir,
    )
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


def cmd_gc(args: argparse.Namespace) -> int:
    from ..pipeline.retention import collect_garbage

    if args.keep < 0:
        from ..exceptions import ValidationError

        raise ValidationError(f"--keep must be 0 or more, got {args.keep}; e.g. --keep 10")
    report = collect_garbage(
        command_tracker(args).store, args.keep, pipeline=args.pipeline, dry_run=args.dry_run
    )
    _out(args, report, report.describe())
    return EXIT_OK


def add_pipeline_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    pl = argparse.ArgumentParser(add_help=False)
    pl.add_argument(
        "--pipelines-dir",
        default="pipelines",
        help="Where pipeline specs live (default: ./pipelines)",
    )

    p = sub.add_parser("promote", parents=[common, pl], help="Turn a notebook into a pipeline.")
    p.add_argument("notebook")
    # Only the length here: promote itself suggests a valid name for one that breaks the rule.
    p.add_argument("--name", type=bounded_text("--name", bounds.MAX_NAME_LENGTH))
    p.add_argument("--schedule", help="cron expression, e.g. '0 3 * * *' or @daily")
    p.add_argument("--timezone", help="IANA time zone the schedule is read in (default UTC)")
    p.add_argument("--gates", help="YAML file with a list of gates")
    p.add_argument("--timeout", help="whole-run timeout, e.g. 30m (default 1h)")
    p.add_argument(
        "--retries",
        type=integer("--retries", 0, 100),
        help="retries after a kernel death, timeout or retry_on error (default 0)",
    )
    p.add_argument("--kernel")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_promote)

    r = sub.add_parser("run", parents=[common, pl], help="Run a pipeline once, behind its gates.")
    r.add_argument(
        "pipeline", type=spec_ref("pipeline"), help="pipeline name or path of its YAML spec"
    )
    r.add_argument("-p", "--param", action="append", metavar="KEY=VALUE")
    r.add_argument("--params-file", help="YAML or JSON mapping of parameter values")
    r.add_argument(
        "--allow-changed",
        action="store_true",
        help="run even if the notebook's code changed since promote",
    )
    r.add_argument("--seed", type=integer("--seed", 0, MAX_SEED))
    # The Jupyter server's run-now answers with the id before this process records the run.
    r.add_argument("--run-id", help="use this id (32 hex digits) for the run")
    r.add_argument("--no-progress", action="store_true")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_run)

    sw = sub.add_parser(
        "sweep", parents=[common, pl], help="Run a pipeline once per parameter combination."
    )
    sw.add_argument(
        "pipeline", type=spec_ref("pipeline"), help="pipeline name or path of its YAML spec"
    )
    sw.add_argument("--grid", action="append", metavar="NAME=V1,V2", required=True)
    sw.add_argument(
        "--random", type=integer("--random", 1, 10**6), metavar="N",
        help="run N random combinations",
    )  # fmt: skip
    sw.add_argument("--seed", type=integer("--seed", 0, MAX_SEED), help="seed of the --random draw")
    sw.add_argument(
        "--parallel", type=integer("--parallel", 1, 1024), metavar="N",
        help="runs at once (default 1; with --on, the cluster's worker threads)",
    )  # fmt: skip
    sw.add_argument("--metric", help="rank the runs by this metric")
    sw.add_argument("--maximize", action="store_true", help="higher --metric is better")
    sw.add_argument(
        "--bless-best", action="store_true",
        help="bless the best run that passed its gates, by --metric (never over a pin); "
        "without it a sweep only registers candidates",
    )  # fmt: skip
    sw.add_argument("--cold", action="store_true", help="no warm kernel pool")
    sw.add_argument(
        "--on", metavar="ADDRESS",
        help="run on this Dask cluster (dask://HOST:PORT, tcp://...; needs jupyter-mlops[dask])",
    )  # fmt: skip
    sw.add_argument("--no-progress", action="store_true")
    sw.add_argument("--json", action="store_true")
    sw.set_defaults(func=cmd_sweep)

    ex = sub.add_parser("export", help="Export a pipeline to another engine.")
    exs = ex.add_subparsers(dest="engine", required=True)
    ea = exs.add_parser(
        "airflow", parents=[common, pl], help="Write an Airflow DAG calling the same runner."
    )
    ea.add_argument(
        "pipeline", type=spec_ref("pipeline"), help="pipeline name or path of its YAML spec"
    )
    ea.add_argument("-o", "--output", default="dags", help="directory of the DAG file")
    ea.add_argument("--json", action="store_true")
    ea.set_defaults(func=cmd_export)

    g = sub.add_parser("gates", parents=[common], help="Show the gate results of a run.")
    g.add_argument("run_id")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=cmd_gates, read_only=True)

    m = sub.add_parser("models", parents=[common], help="The model registry.")
    msub = m.add_subparsers(dest="action", required=True, parser_class=type(m))
    ml = msub.add_parser("list", parents=[common])
    ml.add_argument("name", nargs="?")
    ms = msub.add_parser("show", parents=[common])
    ms.add_argument("ref", metavar="NAME[@VERSION]")
    mb = msub.add_parser("bless", parents=[common])
    mb.add_argument("ref", metavar="NAME@VERSION")
    mb.add_argument("--reason")
    mb.add_argument(
        "--force", action="store_true", help="bless a pinned model; the pin moves to this version"
    )
    msh = msub.add_parser("shadow", parents=[common])
    msh.add_argument("ref", metavar="NAME@VERSION")
    msh.add_argument("--reason")
    mps = msub.add_parser("promote-shadow", parents=[common])
    mps.add_argument("ref", metavar="NAME@VERSION")
    mps.add_argument("--min-batches", type=integer("--min-batches", 0, 10**9), default=3)
    mps.add_argument("--metric")
    until_help = "the pin expires then: a duration (3d, 12h) or an ISO 8601 time"
    mr = msub.add_parser(
        "rollback",
        parents=[common],
        help="re-bless the previous version and pin it: runs register candidates until unpin",
    )
    mr.add_argument("name")
    mr.add_argument("--to", type=integer("--to", 1, bounds.MAX_VERSION), metavar="VERSION")
    mr.add_argument("--reason")
    mr.add_argument("--until", metavar="DURATION|TIME", help=until_help)
    mpin = msub.add_parser(
        "pin", parents=[common], help="hold NAME: runs register candidates but do not bless"
    )
    mpin.add_argument("name")
    mpin.add_argument(
        "--version",
        type=integer("--version", 1, bounds.MAX_VERSION),
        help="the version held (default: the blessed one)",
    )
    mpin.add_argument("--until", metavar="DURATION|TIME", help=until_help)
    mpin.add_argument("--reason")
    mun = msub.add_parser("unpin", parents=[common], help="let runs bless NAME again")
    mun.add_argument("name")
    mun.add_argument("--reason")
    for sp in (ml, ms, mb, msh, mps, mr, mpin, mun):
        sp.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_models, read_only=True)  # bless/rollback need an existing store too

    # Where monitor specs live, for the commands that schedule monitors too.
    md = argparse.ArgumentParser(add_help=False)
    md.add_argument(
        "--monitors-dir", default=None, help="where monitor specs live (default: beside pipelines/)"
    )
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

    gc = sub.add_parser(
        "gc",
        parents=[common],
        help="Delete old pipeline outputs; keeps what model versions need.",
    )
    gc.add_argument(
        "--keep", type=integer("--keep", 0, bounds.MAX_OFFSET), default=10,
        help="newest runs kept per pipeline (10)",
    )  # fmt: skip
    gc.add_argument("--pipeline", type=pipeline_name("--pipeline"), help="only this pipeline")
    gc.add_argument("--dry-run", action="store_true", help="report what would be freed")
    gc.add_argument("--json", action="store_true")
    gc.set_defaults(func=cmd_gc, read_only=True)

    rp = sub.add_parser(
        "reproduce", parents=[common], help="Re-execute a run and compare inputs and metrics."
    )
    rp.add_argument("run_id")
    rp.add_argument(
        "--tolerance",
        type=number("--tolerance", 0.0),
        default=0.0,
        help="relative/absolute tolerance for metrics (default: exact)",
    )
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(func=cmd_reproduce)
