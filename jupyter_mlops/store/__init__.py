"""Run stores: ``open_store(location)`` returns the one store object for a location."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ..exceptions import ConfigError
from ..project import embedded_store_dir
from .base import (
    MonitorStore,
    RegistryStore,
    RunsStore,
    RunStart,
    RunStore,
    RunUpdate,
    ScheduleStore,
)

__all__ = [
    "MonitorStore",
    "RegistryStore",
    "RunStart",
    "RunStore",
    "RunUpdate",
    "RunsStore",
    "ScheduleStore",
    "close_stores",
    "open_store",
    "parse_location",
]

_stores: dict[tuple[int, str], RunStore] = {}
_lock = threading.Lock()


def parse_location(location: str | os.PathLike[str]) -> tuple[str, str]:
    """(backend, target) for a store location: a directory path, a ``sqlite:///dir`` URL or a
    ``postgresql://`` (``postgres://``) URL, passed to libpq as it is."""
    text = os.fspath(location)
    folder = embedded_store_dir(text)
    if folder is not None:
        return "sqlite", str(folder)
    scheme = text.partition("://")[0]
    if scheme in ("postgresql", "postgres"):
        return "postgresql", text  # libpq reads the URL, and the environment, itself
    from .postgres import masked

    raise ConfigError(
        f"Unknown store URL scheme {scheme!r} in {masked(text)!r}; use a directory path, "
        "sqlite:///path or postgresql://user@host/database"
    )


def open_store(
    location: str | os.PathLike[str],
    *,
    create: bool = True,
    artifacts: str | None = None,
    workdir: Path | None = None,
) -> RunStore:
    """The store at ``location``, opened once per process; marks runs of dead processes.

    ``create=False`` is for reads: a missing store raises StoreNotFoundError instead of being
    created empty (which would turn a wrong folder into "run not found"). ``workdir`` is the
    project's folder for a server store's local files (default: the working directory's
    project's)."""
    backend, target = parse_location(location)
    key = (os.getpid(), target)  # a forked child must not reuse its parent's connections
    with _lock:
        store = _stores.get(key)
        if store is None:
            if backend == "postgresql":
                from .postgres import PostgresStore

                store = PostgresStore(target, create=create, workdir=workdir)
            else:
                from .sqlite import SQLiteStore

                store = SQLiteStore(target, create=create)
            # Records a dead process spilled (store/journal.py) first: its runs' ends may be
            # among them, and only what is still 'running' after that was interrupted.
            from .journal import replay_journals

            replay_journals(store)
            store.mark_interrupted_runs()
            _stores[key] = store
        # ``artifacts``, the artifact_store setting (s3://bucket/prefix or a directory), puts
        # the blobs there instead of in the store's own directory.
        if artifacts and store.artifacts.location != artifacts:
            from .artifacts import open_artifact_store

            store.artifacts = open_artifact_store(
                artifacts, store.workdir / "artifacts", store.workdir / "artifact-cache"
            )
        return store


def close_stores() -> None:
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
