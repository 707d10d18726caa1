"""``jupyter-mlops promote | run | sweep | export airflow | gates | gc``: pipelines."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from .. import bounds
from ..entities import iso_time as iso
from ..exit_codes import ExitCode, exit_code
from ..tracking.seeding import MAX_SEED
from .common import clock as _clock
from .common import (
    command_project,
    command_tracker,
    integer,
    pipeline_name,
    pipelines_dir_option,
    spec_ref,
)
from .common import out as _out
from .common import text as bounded_text

EXIT_OK = int(ExitCode.OK)


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
        pipelines_dir=command_project(args).pipelines_dir,
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

    spec = find_spec(args.pipeline, command_project(args).pipelines_dir)
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

    if args.candidate:  # this run only; the spec file is unchanged
        spec = dataclasses.replace(spec, register="candidate")
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


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..pipeline.runner import find_spec
    from ..pipeline.sweep import combinations, parse_grid, run_sweep

    spec = find_spec(args.pipeline, command_project(args).pipelines_dir)
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

    project = command_project(args)
    spec = find_spec(args.pipeline, project.pipelines_dir)
    # The store too: the DAG records where this command would (--store, $JUPYTER_MLOPS_STORE).
    store = command_tracker(args).store.workdir
    path = write_airflow_dag(spec, Path(args.output), project, store)
    _out(args, {"dag": str(path)}, f"wrote {path} (Airflow DAG of pipeline {spec.name})")
    return EXIT_OK


def cmd_gc(args: argparse.Namespace) -> int:
    from ..pipeline.retention import collect_garbage

    if args.keep < 0:
        from ..exceptions import ValidationError

        raise ValidationError(f"--keep must be 0 or more, got {args.keep}; e.g. --keep 10")
    report = collect_garbage(
        command_tracker(args).store,
        args.keep,
        outputs_dir=command_project(args).outputs_dir,
        pipeline=args.pipeline,
        dry_run=args.dry_run,
    )
    _out(args, report, report.describe())
    return EXIT_OK


def cmd_pipelines(args: argparse.Namespace) -> int:
    """``pipelines list`` (``GET pipelines``) and ``pipelines show NAME`` (``GET
    pipelines/NAME``); before any store exists the pipelines are listed with no runs."""
    import datetime as dt

    from ..views import pipeline_detail, pipeline_list, stored

    tracker = stored(lambda: command_tracker(args))
    folder = command_project(args).pipelines_dir
    now = dt.datetime.fromtimestamp(_clock()(), dt.timezone.utc)
    if args.action == "list":
        found = pipeline_list(tracker, folder, now)
        lines = [_pipeline_line(p) for p in found.pipelines]
        _out(args, found, "\n".join(lines) or f"no pipelines in {folder}/ yet")
        return EXIT_OK
    detail = pipeline_detail(tracker, folder, args.name, now)
    lines = [_pipeline_line(detail)]
    if detail.schedule_text:
        lines.append(f"  schedule: {detail.schedule_text} ({detail.schedule})")
        lines += [f"  next firing: {iso(t)}" for t in detail.next_fires]
    lines += [f"  parameter {_parameter_text(p)}" for p in detail.parameters]
    lines += [
        f"  run {r.id[:8]} {r.status.value:11} gates {r.gates or '-':7} "
        f"{_seconds(r.duration):>9} {iso(r.started)}"
        for r in detail.last_runs
    ] or ["  no runs yet"]
    _out(args, detail, "\n".join(lines))
    return EXIT_OK


def _parameter_text(p: Any) -> str:
    if p.input == "derived":
        return f"{p.name} = {p.expression} (derived)"
    text = f"{p.name}: {p.type} = {p.default!r}"
    return text + (f"  # {p.help}" if p.help else "")


def _seconds(s: float | None) -> str:
    return "-" if s is None else f"{s:.1f}s"


def _pipeline_line(p: Any) -> str:
    if p.error:
        return f"{p.name:24} error: {p.error}"
    when = f"{p.schedule_text}, next {iso(p.next_fires[0])}" if p.next_fires else "no schedule"
    status = "no runs yet"
    if p.last_runs:
        last = p.last_runs[0]
        status = f"last {last.status.value}" + (f" (gates {last.gates})" if last.gates else "")
    return f"{p.name:24} {p.notebook}  {p.gates} gate(s)  {when}  {status}"


def add_pipeline_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    pl = pipelines_dir_option()
    _add_promote(sub, [common, pl])
    _add_run(sub, [common, pl])
    _add_sweep(sub, [common, pl])

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

    ps = sub.add_parser("pipelines", parents=[common], help="The promoted pipelines.")
    psub = ps.add_subparsers(dest="action", required=True, parser_class=type(ps))
    psub.add_parser("list", parents=[common, pl], help="every pipeline, its schedule, last runs")
    pshow = psub.add_parser("show", parents=[common, pl], help="one pipeline: spec, runs, log")
    pshow.add_argument("name", type=pipeline_name("name"))
    for sp in psub.choices.values():
        sp.add_argument("--json", action="store_true")
    ps.set_defaults(func=cmd_pipelines, read_only=True)

    g = sub.add_parser("gates", parents=[common], help="Show the gate results of a run.")
    g.add_argument("run_id")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=cmd_gates, read_only=True)

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


def _add_promote(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("promote", parents=parents, help="Turn a notebook into a pipeline.")
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


def _add_run(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    r = sub.add_parser("run", parents=parents, help="Run a pipeline once, behind its gates.")
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
    r.add_argument(
        "--candidate",
        action="store_true",
        help="register the model without blessing it, even if its gates pass (gates still run "
        "and are recorded); then `models shadow NAME@V` (the spec's `register: candidate`)",
    )
    # The Jupyter server's run-now answers with the id before this process records the run.
    r.add_argument("--run-id", help="use this id (32 hex digits) for the run")
    r.add_argument("--no-progress", action="store_true")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_run)


def _add_sweep(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    sw = sub.add_parser(
        "sweep", parents=parents, help="Run a pipeline once per parameter combination."
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


__all__ = [
    "add_pipeline_commands",
    "cmd_export",
    "cmd_gates",
    "cmd_gc",
    "cmd_promote",
    "cmd_run",
    "cmd_sweep",
]
