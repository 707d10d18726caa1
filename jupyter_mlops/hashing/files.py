"""Files and the fingerprint cache: files keyed by (inode, size, mtime), arrays by identity."""

from __future__ import annotations

import os
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xxhash

from ..entities import DataRef, DataRole, Fingerprint
from ..exceptions import FingerprintError, MLOpsError

if TYPE_CHECKING:
    import numpy as np

from .frames import _fingerprint_array

_FILE_CHUNK = 8 << 20

# --- files and the cache -------------------------------------------------------------------------


def _hash_file(path: str, size: int) -> str:
    h = xxhash.xxh3_128()
    view = memoryview(bytearray(max(min(size, _FILE_CHUNK), 1 << 16)))
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(view):
            h.update(view[:n])
    return h.hexdigest()


def _immutable_owner(arr: np.ndarray) -> bool:
    """True when the memory behind ``arr`` belongs to an immutable ``bytes`` object."""
    import numpy as np

    owner: Any = arr
    while True:
        if isinstance(owner, np.ndarray) and owner.base is not None:
            owner = owner.base
        elif isinstance(owner, memoryview):
            owner = owner.obj
        else:
            return isinstance(owner, bytes)


# Cache entries are plain tuples (cheaper to import than dataclasses):
# files: (size, mtime_ns, hashed_at_ns, hash), hashed_at_ns being the wall clock when reading began;
# objects: (weakref, (data pointer, shape, strides, dtype), Fingerprint).
_FileEntry = tuple[int, int, int, str]
_ObjectEntry = tuple["weakref.ref[Any]", tuple[Any, ...], Fingerprint]


class FingerprintCache:
    """Remembers fingerprints of files, and of in-memory arrays that provably cannot change.

    Files are keyed by ``(device, inode)`` and trusted while ``(size, mtime_ns)`` are unchanged,
    as DVC does, with git's "racily clean" rule: a file whose mtime is within ``racy_window_s`` of
    the moment its hash was computed may have been written again in the same timestamp tick, so
    that entry is re-hashed on the next lookup (and trusted once the window has passed).

    In memory, only NumPy arrays whose memory belongs to an immutable ``bytes`` object (e.g.
    ``np.frombuffer(b)``) are cached, by ``id`` plus a weak reference (so the cache keeps nothing
    alive and a recycled id never matches) plus ``(data pointer, shape, strides, dtype)``.
    Everything else is re-hashed on every call, at memory speed, because an in-place write
    (``arr += 1``, ``df.iloc[0, 0] = 1``) leaves no trace we could check cheaply: no version
    counter, and no soft-dirty page tracking on this kernel. ``arr.setflags(write=False)`` is not
    proof either: the owner may be made writable again, and views taken earlier stay writable.
    ``bytes`` are immutable but cannot be weakly referenced, so caching one would keep it alive.

    ``hits`` and ``misses`` count lookups of cacheable objects and files.
    """

    def __init__(
        self, *, max_files: int = 100_000, max_objects: int = 1024, racy_window_s: float = 2.0
    ) -> None:
        self.hits = 0
        self.misses = 0
        self.max_files = max_files
        self.max_objects = max_objects
        self.racy_window_ns = int(racy_window_s * 1e9)
        self._files: dict[tuple[int, int], _FileEntry] = {}
        self._objects: dict[int, _ObjectEntry] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Entries held: files plus live immutable arrays."""
        return len(self._files) + len(self._objects)

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._objects.clear()
            self.hits = self.misses = 0

    def file(self, path: str | os.PathLike[str]) -> Fingerprint:
        """Fingerprint of a regular file, re-hashed only when it may have changed."""
        abspath = os.path.abspath(os.fspath(path))
        st = _stat_file(abspath)
        key, size = (st.st_dev, st.st_ino), st.st_size
        with self._lock:
            entry = self._files.get(key)
        if (
            entry is not None
            and entry[:2] == (size, st.st_mtime_ns)
            and entry[2] - st.st_mtime_ns > self.racy_window_ns
        ):
            self.hits += 1
            return Fingerprint("file", entry[3], None, nbytes=size, path=abspath)
        self.misses += 1
        started = time.time_ns()
        try:
            digest = _hash_file(abspath, size)
            after = os.stat(abspath)
        except OSError as e:
            raise FingerprintError(f"Cannot read file {abspath}: {e.strerror}") from e
        if (after.st_ino, after.st_size, after.st_mtime_ns) == (st.st_ino, size, st.st_mtime_ns):
            self._remember(self._files, key, (size, st.st_mtime_ns, started, digest))
        return Fingerprint("file", digest, None, nbytes=size, path=abspath)

    def array(self, arr: np.ndarray) -> Fingerprint:
        """Fingerprint of an array, cached only when its memory is provably immutable."""
        if arr.flags.writeable or not _immutable_owner(arr):
            return _fingerprint_array(arr)
        version = (arr.__array_interface__["data"][0], arr.shape, arr.strides, arr.dtype)
        entry = self._objects.get(id(arr))
        if entry is not None and entry[0]() is arr and entry[1] == version:
            self.hits += 1
            return entry[2]
        self.misses += 1
        fp = _fingerprint_array(arr)
        objects, key = self._objects, id(arr)

        def forget(ref: weakref.ref[Any]) -> None:  # no lock: may run inside any GC pause
            current = objects.get(key)
            if current is not None and current[0] is ref:
                objects.pop(key, None)

        self._remember(objects, key, (weakref.ref(arr, forget), version, fp))
        return fp

    def _remember(self, table: dict[Any, Any], key: Any, entry: Any) -> None:
        limit = self.max_files if table is self._files else self.max_objects
        with self._lock:
            table.pop(key, None)
            while table and len(table) >= limit:
                table.pop(next(iter(table)))  # oldest first
            if limit > 0:
                table[key] = entry


def _stat_file(path: str) -> os.stat_result:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FingerprintError(f"File not found: {path}; check the path") from None
    except OSError as e:
        raise FingerprintError(f"Cannot read file {path}: {e.strerror}") from e
    if not stat.S_ISREG(st.st_mode):
        raise FingerprintError(f"Not a regular file: {path}; only files can be fingerprinted")
    return st


_default_cache = FingerprintCache()


def default_cache() -> FingerprintCache:
    """The cache ``fingerprint`` and ``fingerprint_file`` use when given none."""
    return _default_cache


# --- public API ----------------------------------------------------------------------------------


def fingerprint_file(
    path: str | os.PathLike[str], *, cache: FingerprintCache | None = None
) -> Fingerprint:
    """xxh3-128 of a file's bytes; ``kind="file"``, ``path`` absolute, ``nbytes`` its size."""
    return (cache if cache is not None else _default_cache).file(path)


def file_inputs(paths: Iterable[str], warn: Callable[[str], None]) -> list[DataRef]:
    """The files a run read as input ``DataRef``s, named relative to the working directory
    when under it; a file that cannot be fingerprinted is a warning, not a failed run."""
    refs = []
    cwd = Path.cwd()
    for p in paths:
        try:
            name = str(Path(p).relative_to(cwd))
        except ValueError:
            name = p
        try:
            refs.append(DataRef(DataRole.INPUT, name, fingerprint_file(p)))
        except MLOpsError as e:
            warn(f"file {p} was not fingerprinted: {e}")
    return refs
