"""Retention: delete old pipeline outputs, never what a model version still needs.

Per pipeline the newest ``keep`` runs keep everything. An older run loses its output folder
(``<outputs_dir>/<run-id>/``, by default under ``.mlops/runs/``: executed notebook, gate
report) and the stored copies of those two
(artifacts of kind ``notebook`` and ``report``, each unique to its run, deleted only when no kept
run refers to the same content). Its row, params, metrics, gate results and data fingerprints
stay: the record is small and is what lineage and ``runs`` read.

Never deleted: anything of a run whose model version is blessed, shadow or archived (the
versions ``rollback`` can bring back), nor of the pipeline run that produced it; no model,
dataset or validation artifact at all (those are shared, and reproduce and the no-regression
gate read them); no run still ``running``.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..entities import ModelStage, RunKind, RunStatus
from ..exceptions import MLOpsError
from ..store.base import RunStore

log = logging.getLogger(__name__)
# Artifact kinds that are per-run outputs, safe to drop with the run's folder.
OUTPUT_KINDS = ("notebook", "report")


@dataclass
class GcReport:
    deleted: list[str] = field(default_factory=list)  # run ids whose outputs went (or would go)
    protected: list[str] = field(default_factory=list)  # old runs kept for a model version
    files: int = 0
    bytes_freed: int = 0
    dry_run: bool = False

    def describe(self) -> str:
        verb = "would free" if self.dry_run else "freed"
        kept = f"; kept {len(self.protected)} old run(s) a model version needs" * bool(
            self.protected
        )
        return (
            f"{verb} {self.bytes_freed:,} bytes in {self.files} file(s) of "
            f"{len(self.deleted)} old run(s){kept}"
        )


def protected_runs(store: RunStore) -> set[str]:
    """Runs a model version other than a candidate needs: its run and that run's parent."""
    out: set[str] = set()
    for m in store.list_models():
        if m.stage is ModelStage.CANDIDATE:
            continue
        out.add(m.run_id)
        try:
            parent = store.get_run(m.run_id).parent_id
        except MLOpsError:
            continue
        if parent:
            out.add(parent)
    return out


def collect_garbage(
    store: RunStore,
    keep: int,
    *,
    outputs_dir: Path,
    pipeline: str | None = None,
    dry_run: bool = False,
) -> GcReport:
    """Delete the outputs (under the project's ``outputs_dir``) of all but the newest ``keep``
    runs of each pipeline (or of one)."""
    if keep < 0:
        raise ValueError("keep must be >= 0")
    frame = store.runs_frame(experiment=pipeline) if pipeline else store.runs_frame()
    frame = frame[frame["kind"] == RunKind.PIPELINE.value]
    protected = protected_runs(store)
    runs_dir = outputs_dir
    report = GcReport(dry_run=dry_run)
    for _, group in frame.groupby("experiment"):
        ordered = group.sort_values("started", ascending=False)
        kept = list(ordered["id"][:keep])
        old = [
            rid
            for rid, status in zip(ordered["id"][keep:], ordered["status"][keep:], strict=True)
            if status != RunStatus.RUNNING.value
        ]
        report.protected += [r for r in old if r in protected]
        doomed = [r for r in old if r not in protected]
        if not doomed:
            continue
        keep_shas = {
            a.sha256 for rid in [*kept, *(r for r in old if r in protected)]
            for a in store.get_run(rid).artifacts
        }  # fmt: skip
        for rid in doomed:
            freed = _delete_outputs(store, rid, runs_dir, keep_shas, dry_run, report)
            if freed:
                report.deleted.append(rid)
    return report


def _delete_outputs(
    store: RunStore,
    run_id: str,
    runs_dir: Path,
    keep_shas: set[str],
    dry_run: bool,
    report: GcReport,
) -> bool:
    paths: list[Path] = []
    folder = runs_dir / run_id
    if folder.is_dir():
        paths += [p for p in folder.rglob("*") if p.is_file()]
    # Blobs go through the artifact store (a directory or a bucket): its size before, what
    # delete freed after; one already gone (an earlier gc, another run's copy) counts nothing.
    blobs: dict[str, int] = {}
    for a in store.get_run(run_id).artifacts:
        if a.kind in OUTPUT_KINDS and a.sha256 not in keep_shas and a.sha256 not in blobs:
            size = store.artifacts.size(a.sha256)
            if size is not None:
                blobs[a.sha256] = size
    if not paths and not blobs:
        return False
    for p in paths:
        report.bytes_freed += p.stat().st_size
        report.files += 1
        if not dry_run:
            p.unlink(missing_ok=True)
    for sha, size in blobs.items():
        report.bytes_freed += size if dry_run else store.artifacts.delete(sha)
        report.files += 1
    if not dry_run and folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
    log.info("retention: %s outputs of run %s", "would delete" if dry_run else "deleted", run_id)
    return True


__all__ = ["GcReport", "collect_garbage", "protected_runs"]
