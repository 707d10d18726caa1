"""Verifying a store migration: row counts per table (target ⊇ source; for the serial logs,
distinct contents per run, model or pipeline) and every referenced artifact re-hashed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .migrate_artifacts import blob_sha
from .migrate_copy import Copier, Progress
from .sql import SQLStore

if TYPE_CHECKING:
    from .migrate import MigrationReport


def verify(
    target: SQLStore, report: MigrationReport, copier: Copier, progress: Progress | None
) -> None:
    with target._read() as conn:
        for t in report.tables:
            t.target_rows = conn.execute(f"SELECT COUNT(*) FROM {t.name}").fetchone()[0]
            if t.name in copier.groups:
                group, seen = copier.groups[t.name]
                # the target's rows per group, against the source's distinct contents: the copy
                # never inserts a content twice, and this count reads only the group's index
                sql = f"SELECT {group}, COUNT(*) FROM {t.name} GROUP BY {group}"
                have = {r[0]: r[1] for r in conn.execute(sql)}
                short = sorted((g for g, n in seen.items() if have.get(g, 0) < n), key=repr)
                if short:
                    report.problems.append(
                        f"{t.name}: the target lacks rows of {len(short)} {group}(s) the source "
                        f"has (first: {short[0]!r})"
                    )
            elif t.target_rows < t.source_rows:
                report.problems.append(
                    f"{t.name}: the target has {t.target_rows} rows, the source {t.source_rows}"
                )
    todo = sorted(copier.shas - copier.missing)
    bad = 0
    for n, sha in enumerate(todo, 1):
        got = blob_sha(target.artifacts, sha)
        if got != sha:
            bad += 1
            if bad <= 3:
                what = "is missing" if got is None else "does not match its sha256"
                report.problems.append(f"artifact {sha[:12]} {what} in the target")
        if progress is not None and (n % 100 == 0 or n == len(todo)):
            progress("verify artifacts", n, len(todo))
    if bad > 3:
        report.problems.append(f"… {bad} artifacts in all are missing or corrupt in the target")
    report.verified = not report.problems
