"""What every store role shares: where the store is, its artifacts, and its connections."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .artifacts import ArtifactStore


class StoreHandle(abc.ABC):
    """The part of a store each role (``RunsStore``, ``RegistryStore``, ``ScheduleStore``,
    ``MonitorStore``) needs: its location, its directory, its artifacts and its connections.
    One instance per store location per process; thread-safe."""

    location: str  # what error messages name: the database file, or a server URL
    # The local directory the store keeps its files in (``.mlops/`` for the embedded store:
    # the database, artifacts, pipeline locks, executed notebooks); what a child process is
    # pointed at to use the same store, and what a tracked cell's file reads must skip.
    workdir: Path
    artifacts: ArtifactStore

    @property
    def child_location(self) -> str:
        """The store location a child process (a pipeline's kernel, a reproduction) is given:
        the directory of an embedded store; a server store's URL, without its password."""
        return str(self.workdir)

    @abc.abstractmethod
    def close(self) -> None: ...

    def release_thread(self) -> None:  # noqa: B027 (optional hook: most backends hold nothing)
        """Close what the calling thread holds open (its connection); a background thread
        calls this as it ends, so that its file descriptors do not wait for the garbage
        collector."""

    def release_ended_threads(self) -> None:  # noqa: B027 (optional hook, as release_thread)
        """Close what threads that have ended left open (a server's stopped worker pool)."""
