"""What a store is and holds: ``jupyter-mlops store info``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .sql import SQLStore

# Each count is one query over the shared SQL.
_COUNTS = {
    "runs": "SELECT COUNT(*) FROM runs",
    "experiments": "SELECT COUNT(*) FROM experiments",
    "pipelines": "SELECT COUNT(*) FROM pipelines",
    "model_versions": "SELECT COUNT(*) FROM model_versions",
    "running_runs": "SELECT COUNT(*) FROM runs WHERE status = 'running'",
}
# Distinct contents referenced by runs and the registry, with their sizes (content-addressed:
# two runs logging the same bytes share one blob; UNION merges a registered model's artifact
# with its run's).
_ARTIFACTS = (
    "SELECT COUNT(*), SUM(size) FROM (SELECT sha256 AS sha, MAX(size) AS size FROM artifacts"
    " GROUP BY sha256 UNION SELECT artifact_sha, MAX(size) FROM model_versions"
    " GROUP BY artifact_sha) a"
)


@dataclass(frozen=True)
class StoreInfo:
    backend: str  # the dialect's name: sqlite, postgresql
    location: str  # what error messages name (never a password)
    artifacts: str  # where the artifacts live
    schema_version: int | None
    runs: int
    running_runs: int
    experiments: int
    pipelines: int
    model_versions: int
    artifact_count: int  # distinct artifact contents referenced
    artifact_bytes: int
    database_bytes: int | None  # None when the backend cannot tell


def store_info(store: SQLStore) -> StoreInfo:
    counts: dict[str, int] = {}
    with store._read() as conn:
        for name, sql in _COUNTS.items():
            counts[name] = int(conn.execute(sql).fetchone()[0])
        found = conn.execute(_ARTIFACTS).fetchone()
    return StoreInfo(
        backend=store.dialect.name,
        location=store.location,
        artifacts=_artifacts_location(store),
        schema_version=store._schema_version(),
        artifact_count=int(found[0] or 0),
        artifact_bytes=int(found[1] or 0),
        database_bytes=database_bytes(store),
        **counts,
    )


def _artifacts_location(store: SQLStore) -> str:
    # An object-store backend names itself by ``location`` (s3://bucket/prefix); a local one
    # is its directory.
    arts = store.artifacts
    return str(getattr(arts, "location", None) or getattr(arts, "root", ""))


def database_bytes(store: SQLStore) -> int | None:
    """The database's size on disk: the files of an embedded store (with its write-ahead
    log), else what the dialect's ``database_size()`` query says, else None."""
    path = getattr(store, "db_path", None)
    if isinstance(path, Path):
        files = (path, path.with_name(path.name + "-wal"))
        return sum(p.stat().st_size for p in files if p.is_file())
    size_sql = getattr(store.dialect, "database_size", None)
    sql = size_sql() if size_sql is not None else None
    if not sql:
        return None
    with store._read() as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else None


__all__ = ["StoreInfo", "database_bytes", "store_info"]
