"""The artifact store interface and the local one: blobs in a directory (``.mlops/artifacts``
by default), written atomically, opened without following links out of it (see
:mod:`.artifacts`)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from ..exceptions import NotFoundError, StoreError, StoreUnavailableError
from .confined import open_confined

SHA_RE = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 8 << 20


def uri_for(sha: str) -> str:
    return f"artifacts/{sha[:2]}/{sha}"


def sha_of(uri: str) -> str:
    """The sha256 an artifact ``uri`` names; refuses anything that is not one of ours."""
    parts = uri.split("/")
    if (
        len(parts) != 3
        or parts[0] != "artifacts"
        or not SHA_RE.match(parts[2])
        or parts[1] != parts[2][:2]
    ):
        raise StoreError(f"Invalid artifact uri {uri!r}: expected artifacts/<xx>/<sha256>")
    return parts[2]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def mismatch(uri: str, where: str) -> StoreError:
    return StoreError(
        f"The artifact {uri} in {where} does not match its recorded sha256; it was changed "
        "after it was written and is refused (delete it and log it again)"
    )


class ArtifactStore:
    """Where artifact blobs live: the interface. Thread-safe; one per run store and process.

    ``ArtifactStore(root)`` still makes the local store, as it did before there was an S3 one,
    so that code written against the old class keeps working; that is also why the methods
    raise NotImplementedError instead of being ``abc`` abstract (the base class is callable)."""

    # The setting this store was opened from (a directory or an s3:// URL): open_store compares
    # it to know whether a cached run store already uses the configured artifact store.
    location: str
    # False when the blobs are not on a disk this machine wrote (an object store shared by a
    # team): a pickle read from there is code anyone with write access could have planted.
    is_local: bool = True

    def __new__(cls, *args: Any, **kwargs: Any) -> ArtifactStore:
        if cls is ArtifactStore:
            return object.__new__(LocalArtifactStore)
        return object.__new__(cls)

    uri_for = staticmethod(uri_for)

    def put_bytes(self, data: bytes) -> tuple[str, int, str]:
        """Store ``data``; returns (sha256, size, uri)."""
        raise NotImplementedError

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int, str]:
        """Store the file at ``path``; returns (sha256, size, uri)."""
        raise NotImplementedError

    def exists(self, sha: str) -> bool:
        raise NotImplementedError

    def resolve(self, uri: str) -> Path:
        """Where this machine keeps the artifact ``uri`` as a file (it may not be there): the
        local store's file, or the S3 store's cached copy. Unchecked; readers use local_path."""
        raise NotImplementedError

    def local_path(self, uri: str, sha: str) -> Path:
        """A local file holding the artifact, its content checked against ``sha`` when it was
        written or downloaded. Raises StoreError when the blob is missing or does not match."""
        raise NotImplementedError

    def open_blob(self, uri: str, sha: str) -> BinaryIO:
        """The artifact as a file opened inside the store (see ``confined.py``: no symbolic
        link leads out of it), at its start; read it from there, never by path. Its content
        was checked against ``sha`` when written or downloaded, and is hashed again when the
        blob was reached through a link. StoreError when it is missing, changed or outside."""
        raise NotImplementedError

    def read_bytes(self, uri: str, sha: str) -> bytes:
        """The artifact's bytes, checked against ``sha``; StoreError when missing or changed."""
        with self.open_blob(uri, sha) as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest() != sha:
            raise mismatch(uri, self.describe())
        return data

    def delete(self, sha: str) -> int:
        """Delete the blob (and any local copy); the bytes freed, 0 when it was not there."""
        raise NotImplementedError

    def iter_shas(self) -> Iterator[str]:
        """Every blob's sha256 (for garbage collection and migration), in no given order."""
        raise NotImplementedError

    def size(self, sha: str) -> int | None:
        """The stored size of the blob, None when it is not there."""
        raise NotImplementedError

    def describe(self) -> str:
        """Where the blobs are, for messages: never a credential."""
        raise NotImplementedError

    def _missing(self, uri: str, why: str = "") -> StoreError:
        return StoreError(
            f"The artifact {uri} is missing from {self.describe()}{': ' + why if why else ''}; "
            "it was deleted (gc) or the store is not the one that recorded it"
        )


class LocalArtifactStore(ArtifactStore):
    """Blobs in a directory: ``<root>/<sha[:2]>/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def _path_for(self, sha: str) -> Path:
        return self.root / sha[:2] / sha

    def resolve(self, uri: str) -> Path:
        """The path an artifact ``uri`` would have here (it may not exist)."""
        return self._path_for(sha_of(uri))

    def put_bytes(self, data: bytes) -> tuple[str, int, str]:
        sha = hashlib.sha256(data).hexdigest()
        dest = self._path_for(sha)
        if not dest.exists():
            self._write_atomic(dest, lambda f: f.write(data))
        return sha, len(data), uri_for(sha)

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int, str]:
        src = source_file(path)
        sha = sha256_file(src)
        dest = self._path_for(sha)
        if not dest.exists():

            def copy(out: BinaryIO) -> None:
                with src.open("rb") as f:
                    shutil.copyfileobj(f, out, CHUNK)

            self._write_atomic(dest, copy)
        return sha, src.stat().st_size, uri_for(sha)

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

    def exists(self, sha: str) -> bool:
        return self._path_for(sha).is_file()

    def local_path(self, uri: str, sha: str) -> Path:
        # Checked when written (the name is the hash of what was written); read_bytes checks
        # again, since a file on disk can be edited in place.
        if sha_of(uri) != sha:
            raise mismatch(uri, self.describe())
        path = self._path_for(sha)
        if not path.is_file():
            raise self._missing(uri)
        return path

    def open_blob(self, uri: str, sha: str) -> BinaryIO:
        if sha_of(uri) != sha:
            raise mismatch(uri, self.describe())
        try:
            opened = open_confined(self.root, PurePath(sha[:2], sha))
        except NotFoundError as e:
            raise self._missing(uri, str(e)) from None
        if opened.linked:  # not the file this store wrote: its bytes are not vouched for
            try:
                h = hashlib.sha256()
                while chunk := opened.file.read(CHUNK):
                    h.update(chunk)
                opened.file.seek(0)
            except BaseException:
                opened.file.close()
                raise
            if h.hexdigest() != sha:
                opened.file.close()
                raise mismatch(uri, self.describe())
        return opened.file

    def delete(self, sha: str) -> int:
        path = self._path_for(sha)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    def iter_shas(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for sub in self.root.iterdir():
            if len(sub.name) == 2 and sub.is_dir():
                for f in sub.iterdir():
                    if SHA_RE.match(f.name) and f.name[:2] == sub.name:
                        yield f.name

    def size(self, sha: str) -> int | None:
        try:
            return self._path_for(sha).stat().st_size
        except FileNotFoundError:
            return None

    def describe(self) -> str:
        return str(self.root)


def source_file(path: str | os.PathLike[str]) -> Path:
    src = Path(path)
    if not src.is_file():
        raise StoreError(f"Cannot log artifact {src}: not a file; pass the path of a file")
    return src
