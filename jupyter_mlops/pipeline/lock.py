"""One run of a pipeline at a time: an exclusive lock file per pipeline under the store.

The runner holds it for a whole run, so a scheduled firing and a manual ``jupyter-mlops run`` of
the same pipeline never overlap; ``flock`` locks die with their process, so a killed run leaves
no stale lock behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..exceptions import ConflictError


@contextmanager
def pipeline_lock(lock_dir: Path, name: str) -> Iterator[bool]:
    """Hold ``<lock_dir>/<name>.lock`` exclusively; yields False if another holder has it."""
    import fcntl

    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{name}.lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            f.seek(0)
            f.truncate()
            f.write(str(os.getpid()))
            f.flush()
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def running(lock_dir: Path, name: str) -> Iterator[None]:
    """Mark pipeline ``name`` as running; raises ConflictError if it already is."""
    with pipeline_lock(lock_dir, name) as locked:
        if not locked:
            holder = (lock_dir / f"{name}.lock").read_text().strip() or "another process"
            raise ConflictError(
                f"Pipeline '{name}' is already running (process {holder}); wait for that run "
                "to end, then run it again"
            )
        yield
