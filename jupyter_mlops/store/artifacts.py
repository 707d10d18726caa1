"""Content-addressed artifact files: ``artifacts/<sha[:2]>/<sha256>``.

A file is written to a temporary name and renamed into place, so a killed process never leaves a
half-written artifact under its final name, and two runs logging the same bytes share one file.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..exceptions import StoreError, StoreUnavailableError

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 8 << 20


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path_for(self, sha: str) -> Path:
        return self.root / sha[:2] / sha

    def uri_for(self, sha: str) -> str:
        return f"artifacts/{sha[:2]}/{sha}"

    def put_bytes(self, data: bytes) -> tuple[str, int, str]:
        """Store ``data``; returns (sha256, size, uri)."""
        sha = hashlib.sha256(data).hexdigest()
        dest = self._path_for(sha)
        if not dest.exists():
            self._write_atomic(dest, lambda f: f.write(data))
        return sha, len(data), self.uri_for(sha)

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int, str]:
        """Copy the file at ``path`` into the store; returns (sha256, size, uri)."""
        src = Path(path)
        if not src.is_file():
            raise StoreError(f"Cannot log artifact {src}: not a file; pass the path of a file")
        h = hashlib.sha256()
        with src.open("rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        sha = h.hexdigest()
        dest = self._path_for(sha)
        if not dest.exists():

            def copy(out: BinaryIO) -> None:
                with src.open("rb") as f:
                    shutil.copyfileobj(f, out, _CHUNK)

            self._write_atomic(dest, copy)
        return sha, src.stat().st_size, self.uri_for(sha)

    def _write_atomic(self, dest: Path, write: Callable[[BinaryIO], object]) -> None:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out:
                    write(out)
                os.replace(tmp, dest)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise StoreUnavailableError(
                f"Cannot write artifact to {dest.parent}: {e.strerror or e}; "
                "check that the store directory is writable and the disk has space"
            ) from e

    def resolve(self, uri: str) -> Path:
        """The local path of an artifact ``uri``; refuses anything that is not one of ours."""
        parts = uri.split("/")
        if (
            len(parts) != 3
            or parts[0] != "artifacts"
            or not _SHA_RE.match(parts[2])
            or parts[1] != parts[2][:2]
        ):
            raise StoreError(f"Invalid artifact uri {uri!r}: expected artifacts/<xx>/<sha256>")
        return self._path_for(parts[2])
