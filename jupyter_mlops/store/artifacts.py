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

import hashlib
import importlib.util
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from ..exceptions import (
    ConfigError,
    MissingDependencyError,
    NotFoundError,
    StoreError,
    StoreUnavailableError,
)
from .confined import open_confined

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 8 << 20


def uri_for(sha: str) -> str:
    return f"artifacts/{sha[:2]}/{sha}"


def sha_of(uri: str) -> str:
    """The sha256 an artifact ``uri`` names; refuses anything that is not one of ours."""
    parts = uri.split("/")
    if (
        len(parts) != 3
        or parts[0] != "artifacts"
        or not _SHA_RE.match(parts[2])
        or parts[1] != parts[2][:2]
    ):
        raise StoreError(f"Invalid artifact uri {uri!r}: expected artifacts/<xx>/<sha256>")
    return parts[2]


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _mismatch(uri: str, where: str) -> StoreError:
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
            raise _mismatch(uri, self.describe())
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
        src = _source_file(path)
        sha = _sha256_file(src)
        dest = self._path_for(sha)
        if not dest.exists():

            def copy(out: BinaryIO) -> None:
                with src.open("rb") as f:
                    shutil.copyfileobj(f, out, _CHUNK)

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
            raise _mismatch(uri, self.describe())
        path = self._path_for(sha)
        if not path.is_file():
            raise self._missing(uri)
        return path

    def open_blob(self, uri: str, sha: str) -> BinaryIO:
        if sha_of(uri) != sha:
            raise _mismatch(uri, self.describe())
        try:
            opened = open_confined(self.root, PurePath(sha[:2], sha))
        except NotFoundError as e:
            raise self._missing(uri, str(e)) from None
        if opened.linked:  # not the file this store wrote: its bytes are not vouched for
            try:
                h = hashlib.sha256()
                while chunk := opened.file.read(_CHUNK):
                    h.update(chunk)
                opened.file.seek(0)
            except BaseException:
                opened.file.close()
                raise
            if h.hexdigest() != sha:
                opened.file.close()
                raise _mismatch(uri, self.describe())
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
                    if _SHA_RE.match(f.name) and f.name[:2] == sub.name:
                        yield f.name

    def size(self, sha: str) -> int | None:
        try:
            return self._path_for(sha).stat().st_size
        except FileNotFoundError:
            return None

    def describe(self) -> str:
        return str(self.root)


def _source_file(path: str | os.PathLike[str]) -> Path:
    src = Path(path)
    if not src.is_file():
        raise StoreError(f"Cannot log artifact {src}: not a file; pass the path of a file")
    return src


class S3ArtifactStore(ArtifactStore):
    """Blobs in an S3-compatible bucket, ``s3://bucket/prefix/artifacts/<xx>/<sha256>``, read
    through a local content-addressed cache, so each blob is downloaded at most once per machine.

    The client is boto3: AWS's own SDK, maintained with the service, which reads credentials
    from the standard chain (environment, ``~/.aws`` files and profiles, SSO, instance roles)
    and the endpoint from ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` by itself, and uploads
    large files in parts. s3fs would add fsspec and aiobotocore (which pins botocore) on top of
    the same SDK; nothing here needs a filesystem abstraction or async I/O.
    """

    is_local = False

    def __init__(self, url: str, cache_dir: Path) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ConfigError(
                f"Bad artifact store {url!r}; write s3://bucket or s3://bucket/prefix"
            )
        if "@" in parts.netloc or parts.query:
            raise ConfigError(
                "The artifact store URL must be s3://bucket/prefix, without credentials or "
                "options; credentials come from the AWS environment (AWS_ACCESS_KEY_ID, "
                "AWS_PROFILE, ~/.aws) and the endpoint from AWS_ENDPOINT_URL_S3"
            )
        if not _installed("boto3"):
            # Checked when the store opens, without importing boto3 (that is paid on first use):
            # a missing [s3] extra is then one line up front, not a failed upload mid-run.
            raise MissingDependencyError("boto3", "An s3:// artifact store", "s3")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.location = url
        self.cache = LocalArtifactStore(cache_dir)
        self._client: Any = None
        self._client_lock = threading.Lock()

    # -- the client ------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        """The boto3 client, made on first use (importing boto3 costs a few hundred ms, which
        a store that only records metrics should not pay)."""
        with self._client_lock:
            if self._client is None:
                try:
                    import boto3  # type: ignore[import-untyped]
                    from botocore.config import Config  # type: ignore[import-untyped]
                except ImportError as e:
                    raise MissingDependencyError("boto3", "An s3:// artifact store", "s3") from e
                self._client = boto3.session.Session().client(
                    "s3", config=Config(retries={"mode": "standard", "max_attempts": 5})
                )
            return self._client

    def _key(self, sha: str) -> str:
        uri = uri_for(sha)
        return f"{self.prefix}/{uri}" if self.prefix else uri

    def _error(self, e: Exception, doing: str) -> StoreError:
        """One line for what botocore raised: the S3 error code, never the request's
        credentials or signature."""
        from botocore.exceptions import (  # type: ignore[import-untyped]
            ClientError,
            NoCredentialsError,
        )

        if isinstance(e, NoCredentialsError):
            return StoreUnavailableError(
                f"No S3 credentials to {doing} in {self.describe()}; set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
            )
        if isinstance(e, ClientError):
            code = e.response.get("Error", {}).get("Code", "error")
            # A HEAD response has no body: a refused one says only "403".
            denied = (
                "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile in use) and "
                "that they may use this bucket"
            )
            hint = {
                "NoSuchBucket": "create the bucket or fix artifact_store",
                "403": denied,
                "AccessDenied": denied,
                "InvalidAccessKeyId": "check AWS_ACCESS_KEY_ID (or the profile in use)",
                "SignatureDoesNotMatch": "check AWS_SECRET_ACCESS_KEY (or the profile in use)",
            }.get(code, "check the bucket, the credentials and AWS_ENDPOINT_URL_S3")
            return StoreUnavailableError(
                f"Cannot {doing} in {self.describe()}: S3 said {code}; {hint}"
            )
        return StoreUnavailableError(
            f"Cannot {doing} in {self.describe()}: {type(e).__name__}; check that the S3 "
            "endpoint (AWS_ENDPOINT_URL_S3) is reachable"
        )

    def _call(self, doing: str, fn: Callable[[], Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn()
        except (BotoCoreError, ClientError) as e:
            raise self._error(e, doing) from e

    # -- the interface ---------------------------------------------------------------------
    def size(self, sha: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(sha))
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 or e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                return None
            raise self._error(e, "look up an artifact") from e
        except Exception as e:
            raise self._error(e, "look up an artifact") from e
        return int(head["ContentLength"])

    def exists(self, sha: str) -> bool:
        return self.size(sha) is not None

    def put_bytes(self, data: bytes) -> tuple[str, int, str]:
        sha = hashlib.sha256(data).hexdigest()
        if not self.exists(sha):  # uploaded once: content addressing makes a re-PUT a no-op
            self._call(
                "upload an artifact",
                lambda: self.client.put_object(Bucket=self.bucket, Key=self._key(sha), Body=data),
            )
        # The writer has the bytes at hand: keeping them in the cache spares it a download when
        # it reads them back (a pipeline gate loads the model its run just logged).
        self.cache.put_bytes(data)
        return sha, len(data), uri_for(sha)

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int, str]:
        src = _source_file(path)
        sha = _sha256_file(src)
        if not self.exists(sha):
            # upload_file sends big files in parts; S3 shows the object only once complete.
            self._call(
                "upload an artifact",
                lambda: self.client.upload_file(str(src), self.bucket, self._key(sha)),
            )
        return sha, src.stat().st_size, uri_for(sha)

    def resolve(self, uri: str) -> Path:
        return self.cache.resolve(uri)

    def local_path(self, uri: str, sha: str) -> Path:
        if sha_of(uri) != sha:
            raise _mismatch(uri, self.describe())
        cached = self.cache._path_for(sha)
        if cached.is_file():
            return cached
        self._download(uri, sha, cached)
        return cached

    def open_blob(self, uri: str, sha: str) -> BinaryIO:
        if sha_of(uri) != sha:
            raise _mismatch(uri, self.describe())
        if not os.path.lexists(self.cache._path_for(sha)):
            self._download(uri, sha, self.cache._path_for(sha))
        return self.cache.open_blob(uri, sha)

    def _download(self, uri: str, sha: str, dest: Path) -> None:
        """Download into a temporary file beside ``dest``, hashing on the way; renamed into
        the cache only when the content matches, so the cache never holds a swapped blob."""
        from botocore.exceptions import ClientError

        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".dl-")
        except OSError as e:
            raise StoreUnavailableError(
                f"Cannot write the artifact cache {self.cache.root}: {e.strerror or e}; "
                "check that the store directory is writable"
            ) from e
        try:
            h = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                try:
                    body = self.client.get_object(Bucket=self.bucket, Key=self._key(sha))["Body"]
                    for chunk in body.iter_chunks(_CHUNK):
                        h.update(chunk)
                        out.write(chunk)
                except ClientError as e:
                    if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                        raise self._missing(uri) from None
                    raise self._error(e, "download an artifact") from e
                except Exception as e:
                    raise self._error(e, "download an artifact") from e
            if h.hexdigest() != sha:
                raise _mismatch(uri, self.describe())
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def delete(self, sha: str) -> int:
        size = self.size(sha)
        if size is not None:
            self._call(
                "delete an artifact",
                lambda: self.client.delete_object(Bucket=self.bucket, Key=self._key(sha)),
            )
        self.cache.delete(sha)
        return size or 0

    def iter_shas(self) -> Iterator[str]:
        prefix = f"{self.prefix}/artifacts/" if self.prefix else "artifacts/"
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        try:
            for page in pages:
                for obj in page.get("Contents", ()):
                    name = obj["Key"].rpartition("/")[2]
                    if _SHA_RE.match(name):
                        yield name
        except Exception as e:
            raise self._error(e, "list artifacts") from e

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            p = urlsplit(endpoint)
            where += f" at {p.scheme}://{p.hostname}" + (f":{p.port}" if p.port else "")
        return where


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, found without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # an import hook that refuses it
        return False


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
