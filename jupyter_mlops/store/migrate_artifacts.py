"""The artifacts a store migration copies and verifies, read through the artifact store's local
files where it has them (``resolve()``); an object-store backend offers ``exists(sha)`` and
``read_bytes(uri, sha)``, used when it does. URIs are ``artifacts/<xx>/<sha>`` for every
backend."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..exceptions import StoreError
from .artifacts import ArtifactStore
from .manifest import Manifest

_CHUNK = 8 << 20
# A dataset manifest (store/manifest.py) is JSON with sorted keys: it starts so, and is small.
_MANIFEST_START = b'{"columns":'
_MANIFEST_MAX = 64 << 20


def manifest_chunks(arts: ArtifactStore, sha: str) -> list[str]:
    """The chunk blobs the blob ``sha`` names when it is a dataset manifest, else []: a
    migration copies them with it (no row names them)."""
    path = _local(arts, sha)
    if path is not None:
        with path.open("rb") as f:
            if f.read(len(_MANIFEST_START)) != _MANIFEST_START:
                return []
        data: bytes | None = path.read_bytes()
    else:
        size = arts.size(sha)
        data = _read(arts, sha) if size is not None and size <= _MANIFEST_MAX else None
    if not data or not data.startswith(_MANIFEST_START):
        return []
    try:
        return [c.sha256 for c in Manifest.from_json(data).chunks()]
    except StoreError:
        return []


def _local(arts: ArtifactStore, sha: str) -> Path | None:
    try:
        path = arts.resolve(arts.uri_for(sha))
    except StoreError:
        return None
    return path if path.is_file() else None


def blob_exists(arts: ArtifactStore, sha: str) -> bool:
    exists = getattr(arts, "exists", None)
    if exists is not None:
        return bool(exists(sha))
    return _local(arts, sha) is not None


def _read(arts: ArtifactStore, sha: str) -> bytes | None:
    read = getattr(arts, "read_bytes", None)
    if read is None:
        return None
    try:
        return bytes(read(arts.uri_for(sha), sha))
    except (StoreError, OSError):
        return None


def blob_size(arts: ArtifactStore, sha: str) -> int | None:
    path = _local(arts, sha)
    if path is not None:
        return path.stat().st_size
    data = _read(arts, sha)
    return None if data is None else len(data)


def copy_blob(src: ArtifactStore, dst: ArtifactStore, sha: str) -> None:
    path = _local(src, sha)
    if path is not None:
        dst.put_file(path)  # hashed on the way: a corrupt source blob lands under its own sha
        return
    data = _read(src, sha)
    if data is not None:
        dst.put_bytes(data)


def blob_sha(arts: ArtifactStore, sha: str) -> str | None:
    """The sha256 of the blob stored as ``sha`` in ``arts``, re-read; None if missing."""
    path = _local(arts, sha)
    if path is None:
        data = _read(arts, sha) if blob_exists(arts, sha) else None
        return None if data is None else hashlib.sha256(data).hexdigest()
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()
