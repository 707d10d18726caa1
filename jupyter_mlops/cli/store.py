"""``jupyter-mlops store info`` (what a store is and holds) and ``jupyter-mlops store migrate
--to URL`` (copy the current store, with its artifacts, to another one, e.g. a team server)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..codec import dumps
from ..exit_codes import ExitCode

EXIT_OK, EXIT_FAILED = int(ExitCode.OK), int(ExitCode.FAILED)


def _sql_store(store: Any) -> Any:
    from ..exceptions import StoreError
    from ..store.sql import SQLStore

    if not isinstance(store, SQLStore):
        raise StoreError(f"The store {store.location} is not a SQL store; it cannot be copied")
    return store


def _current_store() -> Any:
    from ..tracking import default_tracker

    # main() pointed it at --store; neither command creates the store it reads.
    return _sql_store(default_tracker(create=False).store)


def human_bytes(n: int | None) -> str:
    if n is None:
        return "unknown"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover (the loop returns)


def cmd_store_info(args: argparse.Namespace) -> int:
    from ..tracking import default_tracker
    from ..views import encode, store_summary

    info = store_summary(default_tracker(create=False))  # what GET store sends
    if args.json:
        print(encode(info, indent=2))
        return EXIT_OK
    rows = [
        ("backend", info.backend),
        ("location", info.location),
        ("artifacts", info.artifacts),
        ("schema version", str(info.schema_version)),
        ("runs", f"{info.runs} ({info.running_runs} running)"),
        ("experiments", str(info.experiments)),
        ("pipelines", str(info.pipelines)),
        ("model versions", str(info.model_versions)),
        ("artifact blobs", f"{info.artifact_count} ({human_bytes(info.artifact_bytes)})"),
        ("database size", human_bytes(info.database_bytes)),
    ]
    for label, value in rows:
        print(f"{label:<15} {value}")
    return EXIT_OK


def _open_target(url: str, artifacts: str | None) -> Any:
    from ..store import open_store

    # The same location opens the same store object, which migrate_store refuses by name.
    target = _sql_store(open_store(url))
    if artifacts is not None:
        target.artifacts = open_artifacts(artifacts)
    return target


def open_artifacts(location: str) -> Any:
    """The artifact store at ``location`` (``--artifacts``): a local directory here; the
    object-store backend opens its URLs (s3://bucket/prefix) at this one place."""
    from ..exceptions import ConfigError
    from ..store.artifacts import ArtifactStore

    if "://" in location:
        raise ConfigError(
            f"Unsupported artifact location {location!r}; pass a local directory to --artifacts"
        )
    return ArtifactStore(Path(location).expanduser().resolve())


class _Progress:
    """Progress on stderr: a line per table, and every tenth of a long one."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.step: dict[str, int] = {}

    def __call__(self, what: str, done: int, total: int) -> None:
        if self.quiet:
            return
        tenth = max(total // 10, 1)
        if done >= total or done // tenth > self.step.get(what, 0):
            self.step[what] = done // tenth
            print(f"migrate: {what} {done}/{total}", file=sys.stderr, flush=True)


def cmd_store_migrate(args: argparse.Namespace) -> int:
    from ..exceptions import ValidationError
    from ..store.migrate import migrate_store

    rename = {}
    for pair in args.rename_model or ():
        old, sep, new = pair.partition("=")
        if not (sep and old.strip() and new.strip()):
            raise ValidationError(f"--rename-model takes OLD=NEW (a model's names), got {pair!r}")
        rename[old.strip()] = new.strip()
    source = _current_store()
    target = _open_target(args.to, args.artifacts)
    report = migrate_store(
        source,
        target,
        batch=args.batch,
        dry_run=args.dry_run,
        update=args.update,
        rename_models=rename,
        progress=_Progress(args.quiet),
    )
    if args.json:
        print(dumps(report, indent=2))
    else:
        print(format_report(report))
        if args.artifacts and not args.dry_run:
            # The target reads artifacts from its default place unless told otherwise.
            print(
                f"artifacts are in {args.artifacts}: set artifact_store to it where the target "
                "store is used"
            )
    if not report.ok:
        print(
            f"jupyter-mlops: error: the copy in {report.target} did not verify: "
            f"{report.problems[0]} (run the migration again to complete it)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def format_report(report: Any) -> str:
    verb = "would copy" if report.dry_run else "copied"
    lines = [f"{report.source} -> {report.target}"]
    lines.append(
        f"{'table':<22}{'source':>9}{verb:>12}{'present':>9}{'updated':>9}{'differ':>8}"
        f"{'target':>9}"
    )
    for t in report.tables:
        target = "-" if t.target_rows is None else str(t.target_rows)
        lines.append(
            f"{t.name:<22}{t.source_rows:>9}{t.copied:>12}{t.skipped:>9}{t.updated:>9}"
            f"{t.differing:>8}{target:>9}"
        )
    updated = f", {report.rows_updated} updated" if report.rows_updated else ""
    lines.append(
        f"rows: {report.rows_copied} {verb}{updated}; artifacts: {report.artifacts_copied} of "
        f"{report.artifacts_referenced} {verb} ({human_bytes(report.artifact_bytes)})"
    )
    if report.artifacts_missing_in_source:
        lines.append(
            f"{len(report.artifacts_missing_in_source)} artifact(s) were already missing from "
            "the source (deleted by `gc`): their rows were copied without them"
        )
    if report.running_runs:
        lines.append(
            f"{len(report.running_runs)} run(s) still running in the source were copied as "
            f"they are: {', '.join(r[:8] for r in report.running_runs[:5])}; once they end, "
            "`store migrate --update` copies their final state"
        )
    for problem in report.problems:
        lines.append(f"problem: {problem}")
    if report.verified is None:
        lines.append("dry run: nothing was written")
    else:
        status = "ok" if report.verified else "FAILED"
        lines.append(f"verification (row counts, artifact hashes): {status}")
    lines.append(f"in {report.seconds:.1f} s")
    return "\n".join(lines)


def add_store_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    st = sub.add_parser("store", help="What the store holds; copy it to another (team) store.")
    ssub = st.add_subparsers(dest="store_command", required=True, metavar="{info,migrate}")
    info = ssub.add_parser(
        "info",
        parents=[common],
        help="Backend, location, schema version, counts and sizes of the store.",
    )
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=cmd_store_info, read_only=True)
    mi = ssub.add_parser(
        "migrate",
        parents=[common],
        help="Copy the store (runs, pipelines, models, monitoring, artifacts) to another one; "
        "idempotent and resumable, verified at the end.",
    )
    mi.add_argument("--to", required=True, metavar="URL", help="the target store URL or path")
    mi.add_argument(
        "--artifacts", metavar="LOCATION", help="where the target keeps artifacts (its default)"
    )
    mi.add_argument("--batch", type=int, default=1000, help="rows per commit (1000)")
    mi.add_argument("--dry-run", action="store_true", help="report what would be copied")
    mi.add_argument(
        "--update",
        action="store_true",
        help="replace rows the target holds with other content by the source's (default: "
        "report them and leave them)",
    )
    mi.add_argument(
        "--rename-model",
        action="append",
        metavar="OLD=NEW",
        help="copy the source's model OLD (its versions, events and monitoring) as NEW: for a "
        "name the target has with other versions (repeatable; pass it again on every re-run)",
    )
    mi.add_argument("--json", action="store_true")
    mi.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    mi.set_defaults(func=cmd_store_migrate, read_only=True)
