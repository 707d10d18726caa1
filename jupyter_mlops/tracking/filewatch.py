"""Which files does a cell read? The functions that open a file by its path are wrapped while
at least one collection is active, and put back when the last one stops.

Wrapped: ``open`` (``builtins.open`` and ``io.open``, the same function), ``os.open``, and
IPython's reference to ``io.open`` behind the ``open`` of a notebook's namespace (IPython puts
its own ``open`` there), each only if it still is Python's own. A wrapper notes the path of a
read (not a write) and calls the original with the same arguments.

Why not an audit hook (``sys.addaudithook``), which sees every ``open`` event: an audit hook
can never be removed, and CPython calls it for *every* audited event, not only ``open``: each
``id()`` call, for one, of which a Lightning training makes about 86 a step. A Python hook adds
about 140 ns to each, about 3 % of a Lightning training, in every cell of the session after the
first tracked one, tracked or not (``benchmarks/bench_frameworks.py`` measures it). The
wrappers cost nothing outside a collection, and within one only a call that opens a file.

Not seen (the price of that): a module that kept its own reference to ``io.open`` before the
collection began (``tarfile``, ``bz2``), ``io.FileIO`` called directly, and files opened by C
or C++ code (pyarrow, HDF5), which no audit hook saw either.
"""

from __future__ import annotations

import functools
import io
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

_active: list[set[str]] = []
_lock = threading.Lock()
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_IO_OPEN: Callable[..., Any] = io.open
_OS_OPEN: Callable[..., int] = os.open
# (module, attribute) holding Python's own open functions, patched if the module is loaded:
# IPython's `open` in a notebook's namespace calls interactiveshell's `io_open`; Python 3.10's
# Path.open calls `pathlib._NormalAccessor.open`.
_HOLDERS = (
    ("builtins", "open"),
    ("io", "open"),
    ("os", "open"),
    ("IPython.core.interactiveshell", "io_open"),
    ("pathlib", "_NormalAccessor.open"),
)
_patched: list[tuple[Any, str, Any]] = []  # (owner, attribute, original) while collecting


def _note(path: Any) -> None:
    if isinstance(path, int) or path is None:  # a file descriptor: no path
        return
    try:
        p = os.fsdecode(path)
    except (TypeError, ValueError):
        return
    for sink in tuple(_active):
        sink.add(p)


def _open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    __tracebackhide__ = True  # IPython shows the user's frame, not this one
    if _active and isinstance(mode, str) and not any(c in mode for c in "wax+"):
        _note(file)
    return _IO_OPEN(file, mode, *args, **kwargs)


def _os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
    __tracebackhide__ = True
    if _active and isinstance(flags, int) and not flags & _WRITE_FLAGS:
        _note(path)
    return _OS_OPEN(path, flags, *args, **kwargs)


# Named and documented as the originals (help(open) in a tracked cell reads the same).
functools.update_wrapper(_open, _IO_OPEN)
functools.update_wrapper(_os_open, _OS_OPEN)
_OUR_CODE = (_open.__code__, _os_open.__code__)


def hide_frames(error: BaseException | None) -> None:
    """Unlink the wrappers' frames from ``error``'s traceback (and from the exceptions it
    was raised while handling), so that it shows the frames it would show untracked: a
    failed ``open`` raises in C, so the wrapper would be its last frame, which IPython shows
    even when marked ``__tracebackhide__``. A front-end calls this before it shows the error."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code in _OUR_CODE:
            tb = tb.tb_next
        if tb is not error.__traceback__:
            error.__traceback__ = tb
        while tb is not None and tb.tb_next is not None:
            if tb.tb_next.tb_frame.f_code in _OUR_CODE:
                tb.tb_next = tb.tb_next.tb_next
            else:
                tb = tb.tb_next
        error = error.__cause__ or error.__context__


def _holder(module: str, path: str) -> tuple[Any, str] | None:
    owner: Any = sys.modules.get(module)
    *parents, attr = path.split(".")
    for name in parents:
        owner = getattr(owner, name, None)
    return None if owner is None else (owner, attr)


def _patch() -> None:
    """Wrap every holder whose function is still Python's own (not a user's mock)."""
    for module, path in _HOLDERS:
        found = _holder(module, path)
        if found is None:
            continue
        owner, attr = found
        current = getattr(owner, attr, None)
        wrapper = _open if current is _IO_OPEN else _os_open if current is _OS_OPEN else None
        if wrapper is not None:
            setattr(owner, attr, wrapper)
            _patched.append((owner, attr, current))


def _unpatch() -> None:
    """Put the originals back, except where something else replaced our wrapper meanwhile."""
    while _patched:
        owner, attr, original = _patched.pop()
        current = getattr(owner, attr, None)
        if current is _open or current is _os_open:
            setattr(owner, attr, original)


def wrapped() -> bool:
    """Whether the open functions are wrapped now (a collection is active)."""
    return bool(_patched)


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
        with _lock:
            if not any(s is self._sink for s in _active):
                _active.append(self._sink)
            if not _patched:
                _patch()
        return self

    def drain(self) -> list[str]:
        paths = set(self._sink)
        self._sink.difference_update(paths)
        new = [p for p in _data_files(paths, self.exclude) if p not in self._reported]
        self._reported.update(new)
        return new

    def stop(self) -> None:
        with _lock:
            # By identity: two collectors' sets may be equal (both empty).
            _active[:] = [s for s in _active if s is not self._sink]
            if not _active:
                _unpatch()

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
