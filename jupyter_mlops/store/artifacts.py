"""Artifact bytes, addressed by their sha256: ``artifacts/<sha[:2]>/<sha256>`` on every backend.

``ArtifactStore`` is the interface; ``LocalArtifactStore`` keeps the blobs in a directory
(``.mlops/artifacts`` by default) and ``S3ArtifactStore`` in an S3-compatible bucket
(``artifact_store = "s3://bucket/prefix"``). The uri recorded in a row names only the content, so
a row is valid in any store holding the same bytes (a migration copies blobs, not rows' uris).

Every read is checked against the sha256 the row recorded: a blob swapped in a shared bucket is
refused, never returned. A local blob is opened without following links out of its directory
(``open_blob``), and hashed again when it was reached through one.

Writes are atomic (a local file is written to a temporary name and renamed; an S3 PUT is
atomic), and a blob already present is not written again.
"""

from __future__ import annotations

from pathlib import Path

from ..exceptions import ConfigError
from .artifacts_local import ArtifactStore, LocalArtifactStore, sha_of, uri_for
from .artifacts_s3 import S3ArtifactStore


def open_artifact_store(location: str | None, default_root: Path, cache_dir: Path) -> ArtifactStore:
    """The artifact store a setting names: None for ``default_root`` (the run store's own
    directory), ``s3://bucket/prefix`` for a bucket (cached in ``cache_dir``), else a directory."""
    if not location:
        return LocalArtifactStore(default_root)
    if "://" in location:
        if location.startswith("s3://"):
            return S3ArtifactStore(location, cache_dir)
        raise ConfigError(
            f"Unknown artifact store {location.split('://')[0]!r}:// URL; use s3://bucket/prefix "
            "or a directory (artifact_store in [tool.jupyter_mlops], JUPYTER_MLOPS_ARTIFACTS)"
        )
    return LocalArtifactStore(Path(location).expanduser())


__all__ = [
    "ArtifactStore",
    "LocalArtifactStore",
    "S3ArtifactStore",
    "open_artifact_store",
    "sha_of",
    "uri_for",
]
