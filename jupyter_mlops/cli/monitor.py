"""``jupyter-mlops monitor NAME``: the monitoring table of a model (batches, drift, metrics,
breaches, actions), ``--html`` for a report, ``--evaluate`` to run its monitor once,
``--export-validation`` to write its live validation set."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .. import bounds
from ..exit_codes import ExitCode
from .common import command_project, command_tracker, integer, moment, text

EXIT_OK = int(ExitCode.OK)


def cmd_monitor(args: argparse.Namespace) -> int:
    from ..exceptions import ModelNotFoundError
    from ..monitoring.evaluation import evaluate
    from ..monitoring.history import history
    from ..monitoring.report import render_html, render_text

    project = command_project(args)
    args.read_only = not args.evaluate  # only an evaluation may create the store
    store = command_tracker(args).store
    now = time.time() if args.now is None else args.now
    if args.export_validation:
        return _export_validation(args, store, now)
    evaluated = None
    if args.evaluate:
        evaluated = evaluate(
            args.name,
            now=now,
            store=store,
            project=project,
        )
    since = now - duration_seconds(args.since) if args.since else None
    dirs = {"monitors_dir": project.monitors_dir, "pipelines_dir": project.pipelines_dir}
    h = history(args.name, since, store=store, **dirs)
    try:
        blessed: str | None = store.get_model(h.name).ref
    except ModelNotFoundError:
        blessed = None
    if args.html:
        figures = _figures(args, h, store, since)
        Path(args.html).write_text(render_html(h, blessed, figures))
    if args.json:  # the report GET monitors/NAME sends
        from ..views import encode, report_of

        print(encode(report_of(h, blessed, store), indent=2))
    else:
        if evaluated is not None:  # what this evaluation did, before the history
            print(f"evaluated {args.name}: {evaluated.describe()}")
        print(render_text(h, blessed))
        if args.html:
            print(f"report written to {args.html}")
    return EXIT_OK


def duration_seconds(text: str) -> float:
    """``--since``: a duration of 0 or more (``7d``), in finite seconds."""
    from ..monitoring.spec import seconds

    return bounds.check_float(seconds(text), "--since (seconds)", lo=0)


def _export_validation(args: argparse.Namespace, store: Any, now: float) -> int:
    """``--export-validation PATH``: the live validation set as Parquet (CSV for ``.csv``)."""
    from ..monitoring.live_data import live_validation_set

    df = live_validation_set(
        args.name, args.since, now=now, limit=args.limit, trust=args.trust, store=store
    )
    path = Path(args.export_validation)
    if path.suffix.lower() == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    versions = ", ".join(str(v) for v in sorted(set(df["version"])))
    times = df["batch_time"]
    print(
        f"wrote {len(df)} labelled rows of {args.name} to {path}: {df['batch_id'].nunique()} "
        f"batches from {times.min():%Y-%m-%d %H:%M} to {times.max():%Y-%m-%d %H:%M} UTC, "
        f"scored by version {versions}"
    )
    return EXIT_OK


def _figures(args: argparse.Namespace, h: Any, store: Any, since: float | None) -> list[Any]:
    from ..monitoring.plots import plot_drift, plot_performance

    project = command_project(args)
    dirs = {"monitors_dir": project.monitors_dir, "pipelines_dir": project.pipelines_dir}
    out = []
    if any(b.share_drifted is not None for b in h.batches):
        out.append(plot_drift(args.name, since=since, store=store, **dirs))
    metrics = {k for b in h.batches for k in b.metrics if k != "n"}
    for metric in sorted(metrics):
        out.append(plot_performance(args.name, metric, since=since, store=store, **dirs))
    return out


def add_monitor_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    mo = sub.add_parser(
        "monitor", parents=[common], help="Production monitoring of a model: batches, drift, "
        "metrics, breaches and actions.",
    )  # fmt: skip
    mo.add_argument(
        "name",
        type=text("name", bounds.MAX_NAME_LENGTH),
        help="the monitor (monitors/NAME.yaml) or model name",
    )
    mo.add_argument(
        "--since",
        type=text("--since", 40),  # a duration; with --export-validation, an ISO time too
        help="only this recent period, e.g. 7d, 12h (default: all)",
    )
    mo.add_argument("--html", metavar="FILE", help="also write an HTML report with the plots")
    mo.add_argument("--json", action="store_true")
    mo.add_argument(
        "--evaluate", action="store_true", help="run the monitor's checks and actions first"
    )
    mo.add_argument("--monitors-dir", help="where monitor specs live (default: the project's)")
    mo.add_argument(
        "--pipelines-dir", help="where a pipeline's 'monitor:' key is read (default: the project's)"
    )
    mo.add_argument(
        "--now",
        type=moment("--now"),
        default=None,
        help="evaluate as of this time: ISO-8601 or epoch seconds (back-fills)",
    )
    mo.add_argument(
        "--export-validation",
        metavar="PATH",
        help="write the kept, labelled production rows (mlops.live_validation_set) to PATH as "
        "Parquet, or CSV for a .csv suffix, instead of the table",
    )
    mo.add_argument(
        "--limit",
        type=integer("--limit", 1, bounds.MAX_OFFSET),
        default=None,
        help="with --export-validation: the newest N rows",
    )
    mo.add_argument(
        "--trust",
        action="store_true",
        help="with --export-validation: unpickle the kept rows of a team store (a pickle runs "
        "code when loaded)",
    )
    mo.set_defaults(func=cmd_monitor, read_only=True)
