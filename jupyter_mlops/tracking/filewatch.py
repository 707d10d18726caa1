"""Which files does a cell read? An audit hook on ``open`` events, active only while collecting.

Audit hooks cannot be removed once added, so one hook is installed for the life of the process
and returns at once when no collection is active.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

_active: list[set[str]] = []
_installed = False
_lock = threading.Lock()
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _active or event != "open":
        return
    path, mode, flags = args
    if isinstance(path, int) or path is None:
        return
    if mode is not None:
        if any(c in mode for c in "wax+"):
            return
    elif flags & _WRITE_FLAGS:
        return
    try:
        p = os.fsdecode(path)
    except (TypeError, ValueError):
        return
    for sink in _active:
        sink.add(p)


@lru_cache(maxsize=1)
def _ignored_roots() -> tuple[str, ...]:
    import site

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages()}
    home = os.path.expanduser("~")
    # Kernel pseudo-files (cgroup limits read by thread pools), system files (time zones) and
    # Jupyter/IPython settings are read by libraries, not by the user's analysis.
    config = (".ipython", ".jupyter", ".config", ".cache", ".local/share/jupyter")
    return (
        *(os.path.realpath(r) + os.sep for r in roots),
        "/proc/",
        "/sys/",
        "/dev/",
        "/usr/",
        "/etc/",
        *(os.path.join(home, c) + os.sep for c in config),
    )


# Package metadata and code that libraries read while the cell runs (entry points, plugins):
# never the user's data.
_IGNORED_PARTS = (
    ".dist-info" + os.sep,
    ".egg-info" + os.sep,
    os.sep + "site-packages" + os.sep,
    os.sep + "dist-packages" + os.sep,
    os.sep + "__pycache__" + os.sep,
)


def _install() -> None:
    global _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True


def _data_files(paths: set[str], exclude: tuple[str, ...]) -> list[str]:
    if not paths:  # most cells open no file: no realpath calls on the cell's path
        return []
    skip = _ignored_roots() + tuple(os.path.realpath(e) + os.sep for e in exclude)
    seen: set[str] = set()
    result = []
    for p in sorted(paths):
        real = os.path.realpath(p)
        if (
            real in seen
            or real.startswith(skip)
            or real.endswith((".pyc", ".py", ".so"))
            or any(part in real for part in _IGNORED_PARTS)
        ):
            continue
        if os.path.isfile(real):
            seen.add(real)
            result.append(real)
    return result


class FileCollector:
    """Collect data files opened for reading until :meth:`stop`; :meth:`drain` returns the new
    ones since the last drain (a pipeline kernel drains after every cell)."""

    def __init__(self, exclude: tuple[str, ...] = ()) -> None:
        self.exclude = exclude
        self._sink: set[str] = set()
        self._reported: set[str] = set()

    def start(self) -> FileCollector:
        _install()
        _active.append(self._sink)
        return self

    def drain(self) -> list[str]:
        paths = set(self._sink)
        self._sink.difference_update(paths)
        new = [p for p in _data_files(paths, self.exclude) if p not in self._reported]
        self._reported.update(new)
        return new

    def stop(self) -> None:
        if self._sink in _active:
            _active.remove(self._sink)

    def stop_and_drain(self) -> list[str]:
        self.stop()
        return self.drain()


@contextmanager
def files_opened(exclude: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Collect regular files opened for reading inside the block (absolute, deduplicated).

    Files under the Python installation (imports) and under ``exclude`` (the store) are left out.
    The list is filled when the block exits.
    """
    collector = FileCollector(exclude).start()
    result: list[str] = []
    try:
        yield result
    finally:
        collector.stop()
        result.extend(collector.drain())
