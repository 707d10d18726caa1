"""Artifact blobs in an S3-compatible bucket (``artifact_store = "s3://bucket/prefix"``), read
through a local cache (see :mod:`.artifacts`)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from ..exceptions import ConfigError, MissingDependencyError, StoreError, StoreUnavailableError
from .artifacts_local import (
    CHUNK,
    SHA_RE,
    ArtifactStore,
    LocalArtifactStore,
    mismatch,
    sha256_file,
    sha_of,
    source_file,
    uri_for,
)


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
        src = source_file(path)
        sha = sha256_file(src)
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
            raise mismatch(uri, self.describe())
        cached = self.cache._path_for(sha)
        if cached.is_file():
            return cached
        self._download(uri, sha, cached)
        return cached

    def open_blob(self, uri: str, sha: str) -> BinaryIO:
        if sha_of(uri) != sha:
            raise mismatch(uri, self.describe())
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
                    for chunk in body.iter_chunks(CHUNK):
                        h.update(chunk)
                        out.write(chunk)
                except ClientError as e:
                    if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                        raise self._missing(uri) from None
                    raise self._error(e, "download an artifact") from e
                except Exception as e:
                    raise self._error(e, "download an artifact") from e
            if h.hexdigest() != sha:
                raise mismatch(uri, self.describe())
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
                    if SHA_RE.match(name):
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
