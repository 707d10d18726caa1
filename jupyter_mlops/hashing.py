"""Content fingerprints of DataFrames, Series, Index objects, NumPy arrays, bytes and files.

A fingerprint is an xxh3-128 hash of *all* the content (never a sample) in a canonical form:

- Every hash is taken over a self-delimiting stream of fields (kind, dtype, shape, names, content),
  so a DataFrame column and a standalone array with the same numbers differ, and no two different
  field sequences can be concatenated into the same bytes.
- Fixed-width NumPy data is hashed straight from its buffer; a non-contiguous array is gathered in
  ~1 MiB C-order blocks, never copied whole. Floats are hashed with every NaN as ``np.nan``'s bit
  pattern (``0/0`` gives another one), checked per 1 MiB chunk while it is in cache.
- Masked data (nullable ``Int64``, ``Float64``, ``boolean``, Arrow primitives) is hashed as values
  with null slots zeroed plus the null positions, so what lies under a null never matters.
- Strings are hashed Arrow-style: lengths, data bytes and null positions in three streams, so the
  chunking and offsets of the Arrow buffers never matter. Object columns of ``str`` go through
  Arrow too; anything else is encoded element by element with a type tag (``''``, ``None``, NaN,
  ``0`` and ``False`` all differ).
- A ``RangeIndex`` hashes from ``(first, length, step)``; an int64 index holding exactly that
  progression hashes the same, as pandas' ``equals`` treats the two as equal.
- A file hashes to the plain xxh3-128 of its bytes (the same as ``xxhsum -H2``).

Known limits: ``-0.0`` and ``0.0`` differ (they are different values); sets inside object
columns are sorted by encoding, but other pickled objects are only as deterministic as pickle.
"""

from __future__ import annotations

import os
import stat
import struct
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import xxhash

from .entities import Fingerprint
from .exceptions import FingerprintError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    from typing_extensions import Buffer  # NumPy declares __buffer__ only for Python >= 3.12

_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_BLOCK = 1 << 20  # bytes per gathered copy of a non-contiguous array: small enough to stay in cache
_NAN_CHUNK = 1 << 20  # the NaN check re-reads each chunk from L2, not from RAM
_FILE_CHUNK = 8 << 20
_MAX_DEPTH = 16  # nesting of containers encoded element-wise before falling back to pickle
_SUPPORTED = (
    "pandas DataFrame, Series or Index, NumPy ndarray, bytes, bytearray, memoryview, "
    "or the path of a file"
)


class _Stream:
    """xxh3-128 over self-delimiting fields; ``nbytes`` counts the data bytes hashed."""

    __slots__ = ("h", "nbytes")

    def __init__(self, tag: str) -> None:
        self.h = xxhash.xxh3_128()
        self.nbytes = 0
        self.text(tag)

    def blob(self, data: bytes) -> None:
        self.h.update(_U64.pack(len(data)) + data)

    def text(self, value: str) -> None:
        self.blob(value.encode("utf-8", "surrogatepass"))

    def ints(self, *values: int) -> None:
        self.text(",".join(map(str, values)))

    def hexdigest(self) -> str:
        return self.h.hexdigest()


def _frame(data: bytes) -> bytes:
    return _U64.pack(len(data)) + data


# --- NumPy ---------------------------------------------------------------------------------------


def _c_order_blocks(arr: np.ndarray) -> Iterator[np.ndarray]:
    """1-D contiguous pieces whose concatenation is ``arr`` in C order, without a full copy."""
    import numpy as np

    if arr.flags.c_contiguous:
        yield arr.reshape(-1)  # a view
        return
    row_bytes = arr.itemsize * (arr.size // arr.shape[0])
    if arr.ndim > 1 and row_bytes > _BLOCK:
        for row in arr:
            yield from _c_order_blocks(row)
        return
    rows = max(1, _BLOCK // max(row_bytes, 1))
    for start in range(0, arr.shape[0], rows):
        yield np.ascontiguousarray(arr[start : start + rows]).reshape(-1)


def _hash_floats(h: Any, block: np.ndarray) -> Any:
    """Hash a contiguous float/complex block with every NaN as ``np.nan``'s bit pattern.

    Returns the hasher to continue with. Each chunk is hashed as is, then checked while it is
    still in cache: ``max`` propagates NaN, so one cheap pass tells whether any is present; if
    so, whether all of them already are ``np.nan`` (as pandas and CSV readers produce). Only a
    chunk with another NaN (``0/0``, ``inf - inf``) is re-hashed, rewritten, from a saved state.
    """
    import numpy as np

    flat = block.view(f"f{block.itemsize // 2}") if block.dtype.kind == "c" else block
    raw = flat.view(np.uint8)
    nan = np.array(np.nan, dtype=flat.dtype)
    as_int = f"u{flat.itemsize}" if flat.itemsize <= 8 else None  # no uint128 for longdouble
    step = max(1, _NAN_CHUNK // flat.itemsize)
    for start in range(0, len(flat), step):
        saved = h.copy()
        h.update(raw[start * flat.itemsize : (start + step) * flat.itemsize])
        chunk = flat[start : start + step]
        peak = np.maximum.reduce(chunk)
        if peak == peak or (
            as_int is not None
            and np.count_nonzero(chunk.view(as_int) == nan.view(as_int))
            == np.count_nonzero(np.isnan(chunk))
        ):
            continue
        h = saved
        h.update(np.where(np.isnan(chunk), nan, chunk).view(np.uint8))
    return h


def _hash_content(h: Any, arr: np.ndarray) -> Any:
    """Stream the C-order bytes of a fixed-width array into ``h``; returns the hasher to use."""
    import numpy as np

    floats = arr.dtype.kind in "fc"
    for block in _c_order_blocks(arr):
        if floats:
            h = _hash_floats(h, block)
        else:
            h.update(block.view(np.uint8))  # datetime64 has no buffer export; uint8 always does
    return h


def _feed_array(s: _Stream, arr: np.ndarray) -> None:
    """Feed dtype, shape and C-order content of any NumPy array."""
    dtype = arr.dtype
    s.text(dtype.str)
    s.ints(*arr.shape)
    if dtype.names is not None:
        s.text(repr(dtype.names))
        for name in dtype.names:  # field by field, so padding bytes are never read
            _feed_array(s, arr[name])
    elif dtype.kind in "OT":  # Python objects, NumPy 2 StringDType
        _feed_objects(s, arr.astype(object, copy=False).reshape(-1))
    else:
        s.h = _hash_content(s.h, arr)
        s.nbytes += arr.nbytes


def _array_digest(arr: np.ndarray) -> bytes:
    s = _Stream("ndarray")
    _feed_array(s, arr)
    return s.h.digest()


# --- Python objects ------------------------------------------------------------------------------

_CONTAINER_TAGS: dict[type, bytes] = {
    tuple: b"(",
    list: b"[",
    dict: b"{",
    set: b"<",
    frozenset: b">",
}


def _encode_object(x: Any, depth: int = 0) -> bytes:
    """Deterministic, type-tagged bytes for one Python object."""
    t = type(x)
    if x is None:
        return b"N"
    if t is str:
        return b"s" + x.encode("utf-8", "surrogatepass")
    if t is bool:
        return b"T" if x else b"F"
    if t is int:
        return b"i" + x.to_bytes((x.bit_length() + 8) // 8, "little", signed=True)
    if t is float:
        return b"f" + (_F64.pack(x) if x == x else b"nan")
    if t is bytes:
        return b"y" + x
    if t in _CONTAINER_TAGS and depth < _MAX_DEPTH:
        return _encode_container(x, depth + 1)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(x, (np.ndarray, np.generic)):
        return b"a" + _array_digest(np.asarray(x))
    import pickle

    try:
        return b"p" + pickle.dumps(x, protocol=5)
    except Exception:  # unpicklable: the repr is the best content we have
        return b"r" + f"{t.__module__}.{t.__qualname__}:{x!r}".encode("utf-8", "surrogatepass")


def _encode_container(x: Any, depth: int) -> bytes:
    items = [e for kv in x.items() for e in kv] if isinstance(x, dict) else x
    encoded = [_frame(_encode_object(item, depth)) for item in items]
    if isinstance(x, (set, frozenset)):
        encoded.sort()  # iteration order of a set depends on the process's hash seed
    return _CONTAINER_TAGS[type(x)] + _frame(b"".join(encoded))


def _feed_objects(s: _Stream, values: Sequence[Any] | np.ndarray) -> None:
    """Object elements: through Arrow when every non-null is a ``str``, else one by one."""
    s.ints(len(values))
    if _feed_str_objects(s, values):
        return
    s.text("elements")
    h = xxhash.xxh3_128()
    for x in values:
        h.update(_frame(_encode_object(x)))
    s.h.update(h.digest())


def _feed_str_objects(s: _Stream, values: Sequence[Any] | np.ndarray) -> bool:
    types = set(map(type, values))
    has_str = any(issubclass(t, str) for t in types)
    if not has_str or any(issubclass(t, (bytes, bytearray, memoryview)) for t in types):
        return False  # Arrow would take bytes as str
    import numpy as np
    import pyarrow as pa

    try:  # any non-null that is not a str makes Arrow raise
        arr = pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return False
    s.text("str-objects")
    _feed_arrow_strings(s, [arr])
    nulls = xxhash.xxh3_128()  # None, NaN, pd.NA and NaT are all Arrow nulls: keep them apart
    for i in np.flatnonzero(~arr.is_valid().to_numpy(zero_copy_only=False)):
        nulls.update(_frame(_encode_object(values[int(i)])))
    s.h.update(nulls.digest())
    return True


# --- Arrow ---------------------------------------------------------------------------------------


def _null_positions(chunk: pa.Array) -> np.ndarray | None:
    import numpy as np

    if not chunk.null_count:
        return None
    return np.flatnonzero(~chunk.is_valid().to_numpy(zero_copy_only=False))


def _string_buffers(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (``len + 1`` of them) and the data bytes they span, as zero-copy views."""
    import numpy as np
    import pyarrow as pa

    width = np.dtype("<i8" if pa.types.is_large_string(chunk.type) else "<i4")
    _, offsets_buf, data_buf = chunk.buffers()
    offsets = np.frombuffer(
        offsets_buf, dtype=width, count=len(chunk) + 1, offset=chunk.offset * width.itemsize
    )
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.empty(0, np.uint8)
    return offsets, data[offsets[0] : offsets[-1]]


def _feed_arrow_strings(s: _Stream, chunks: Iterable[pa.Array]) -> None:
    """Lengths, bytes and null positions in separate streams, so chunk boundaries never show."""
    import pyarrow as pa

    lengths, data, nulls = xxhash.xxh3_128(), xxhash.xxh3_128(), xxhash.xxh3_128()
    rows = n_data = n_nulls = 0
    for chunk in chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            chunk = chunk.cast(pa.large_string())
        if not len(chunk):
            continue
        null_at = _null_positions(chunk)
        offsets, content = _string_buffers(chunk)
        sizes = offsets[1:] - offsets[:-1]
        if null_at is not None:
            nulls.update(cast("Buffer", (null_at + rows).astype("<i8")))
            n_nulls += len(null_at)
            if sizes[null_at].any():  # a null may span bytes: rebuild with nulls as ''
                offsets, content = _string_buffers(chunk.fill_null(""))
                sizes = offsets[1:] - offsets[:-1]
        lengths.update(cast("Buffer", sizes.astype("<i8", copy=False)))
        data.update(cast("Buffer", content))
        n_data += len(content)
        rows += len(chunk)
    s.text("arrow-strings")
    s.ints(rows, n_data, n_nulls)
    s.h.update(lengths.digest() + data.digest() + nulls.digest())
    s.nbytes += n_data + 8 * rows


def _arrow_fixed_values(chunk: pa.Array, null_at: np.ndarray | None) -> np.ndarray:
    """A fixed-width Arrow array as NumPy values (zero-copy unless nulls must be zeroed)."""
    import numpy as np
    import pyarrow as pa

    if pa.types.is_boolean(chunk.type):  # bit-packed: unpacking copies anyway
        return chunk.fill_null(False).to_numpy(zero_copy_only=False)
    width = chunk.type.bit_width // 8
    code = "f" if pa.types.is_floating(chunk.type) else "u"
    values = np.frombuffer(
        chunk.buffers()[1], dtype=f"<{code}{width}", count=len(chunk), offset=chunk.offset * width
    )
    if null_at is not None:
        values = values.copy()
        values[null_at] = 0
    return values


def _feed_arrow(s: _Stream, chunked: pa.ChunkedArray) -> None:
    import pyarrow as pa

    t = chunked.type
    if str(t) in ("string", "large_string", "string_view"):  # no is_string_view before 16.0
        _feed_arrow_strings(s, chunked.chunks)
        return
    s.text(str(t))
    numeric = pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_temporal(t)
    if not (pa.types.is_boolean(t) or (numeric and t.bit_width in (8, 16, 32, 64))):
        _feed_objects(s, chunked.to_pylist())  # decimal, nested, binary: element by element
        return
    content, nulls = xxhash.xxh3_128(), xxhash.xxh3_128()
    rows = 0
    for chunk in chunked.chunks:
        if not len(chunk):  # may have no buffers at all
            continue
        null_at = _null_positions(chunk)
        if null_at is not None:
            nulls.update(cast("Buffer", (null_at + rows).astype("<i8")))
        values = _arrow_fixed_values(chunk, null_at)
        content = _hash_content(content, values)
        s.nbytes += values.nbytes
        rows += len(chunk)
    s.ints(rows)
    s.h.update(content.digest() + nulls.digest())


# --- pandas --------------------------------------------------------------------------------------


def _feed_values(s: _Stream, values: Any) -> None:
    """Feed one column or index level: a NumPy array or a pandas ExtensionArray."""
    import numpy as np
    import pandas as pd

    if isinstance(values, np.ndarray):
        _feed_array(s, values)
    elif isinstance(values, pd.Categorical):
        s.text(f"categorical ordered={values.ordered}")
        _feed_index(s, values.categories)
        _feed_array(s, values.codes)
    elif isinstance(
        values, (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)
    ):
        masked: Any = values  # pandas-stubs do not declare the private _data and _mask
        data, null_at = masked._data, np.flatnonzero(masked._mask)
        if len(null_at):  # what lies under the mask is arbitrary
            data = data.copy()
            data[null_at] = 0
        _feed_array(s, data)
        _feed_array(s, null_at.astype("<i8"))
    elif isinstance(values, pd.arrays.ArrowExtensionArray):
        _feed_arrow(s, _arrow_chunks(values))
    elif isinstance(values, pd.arrays.StringArray):  # Python storage: str and the dtype's NA
        import pyarrow as pa

        try:
            _feed_arrow_strings(s, [pa.array(values._ndarray, pa.large_string(), from_pandas=True)])
        except (pa.ArrowException, ValueError):  # lone surrogates
            _feed_objects(s, values._ndarray)
    elif hasattr(values, "_ndarray"):  # datetime(tz), timedelta, period, NumPy-backed
        _feed_array(s, values._ndarray)
    else:  # sparse, interval, third-party extension arrays
        _feed_array(s, np.asarray(values))


def _arrow_chunks(values: Any) -> pa.ChunkedArray:
    import pyarrow as pa

    chunked = getattr(values, "_pa_array", None)  # zero-copy; __arrow_array__ combines chunks
    if isinstance(chunked, pa.ChunkedArray):
        return chunked
    arr = pa.array(values)
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def _as_range(index: pd.Index) -> tuple[int, int, int] | None:
    """``(first, length, step)`` if ``index`` is int64 in arithmetic progression, else None."""
    import numpy as np
    import pandas as pd

    if isinstance(index, pd.RangeIndex):
        n = len(index)
        return (index.start if n else 0, n, index.step if n > 1 else 1)
    if index.dtype != np.dtype(np.int64):
        return None
    values = index.to_numpy()
    n = len(values)
    if n <= 1:
        return (int(values[0]) if n else 0, n, 1)
    first, step = int(values[0]), int(values[1]) - int(values[0])
    if step == 0 or int(values[-1]) != first + (n - 1) * step:
        return None
    rows = _BLOCK // 8
    for start in range(0, n, rows):  # compare against the progression in cache-sized pieces
        chunk = values[start : start + rows]
        expected = np.arange(len(chunk), dtype=np.int64) * step + (first + start * step)
        if not np.array_equal(chunk, expected):
            return None
    return (first, n, step)


def _feed_index(s: _Stream, index: pd.Index) -> None:
    import pandas as pd

    s.blob(_encode_object(tuple(index.names)))
    if isinstance(index, pd.MultiIndex):  # level values, not levels + codes: unused levels linger
        s.ints(index.nlevels, len(index))
        for level in range(index.nlevels):
            _feed_index(s, index.get_level_values(level))
        return
    s.text(str(index.dtype))
    span = _as_range(index)
    if span is not None:
        s.text("range")
        s.ints(*span)
    else:
        _feed_values(s, index.array)


def _digest(tag: str, feed: Any, obj: Any) -> tuple[str, int]:
    s = _Stream(tag)
    feed(s, obj)
    return s.hexdigest(), s.nbytes


def _unique_key(key: str, taken: dict[str, str], suffix: str) -> str:
    while key in taken:  # duplicate column names, or a column called "index"
        key = f"{key} ({suffix})"
    return key


def _fingerprint_frame(df: pd.DataFrame) -> Fingerprint:
    top = _Stream("dataframe")
    top.ints(*df.shape)
    top.text(_digest("columns", _feed_index, df.columns)[0])
    parts: dict[str, str] = {}
    schema: dict[str, str] = {}
    nbytes = 0
    for pos, (name, column) in enumerate(df.items()):
        key = _unique_key(str(name), parts, str(pos))
        schema[key] = dtype = str(column.dtype)
        parts[key], n = _column_digest(column.array, dtype)
        nbytes += n
        top.text(parts[key])
    index_digest, n = _digest("index", _feed_index, df.index)
    parts[_unique_key("index", parts, "frame index")] = index_digest
    top.text(index_digest)
    return Fingerprint("dataframe", top.hexdigest(), tuple(df.shape), schema, parts, nbytes + n)


def _column_digest(values: Any, dtype: str) -> tuple[str, int]:
    s = _Stream("column")
    s.text(dtype)
    _feed_values(s, values)
    return s.hexdigest(), s.nbytes


def _fingerprint_series(ser: pd.Series) -> Fingerprint:
    top = _Stream("series")
    top.blob(_encode_object(ser.name))
    dtype = str(ser.dtype)
    values, n = _column_digest(ser.array, dtype)
    index, m = _digest("index", _feed_index, ser.index)
    top.text(values)
    top.text(index)
    parts = {"values": values, "index": index}
    return Fingerprint("series", top.hexdigest(), (len(ser),), {"values": dtype}, parts, n + m)


def _fingerprint_index(index: pd.Index) -> Fingerprint:
    digest, n = _digest("index", _feed_index, index)
    top = _Stream("index-object")
    top.text(digest)
    schema = {"values": str(index.dtype)}
    return Fingerprint("index", top.hexdigest(), (len(index),), schema, {"values": digest}, n)


def _fingerprint_array(arr: np.ndarray) -> Fingerprint:
    import numpy as np

    s = _Stream("ndarray")
    if isinstance(arr, np.ma.MaskedArray):  # masked-out data is arbitrary: fill it with a constant
        s.text("masked")
        _feed_array(s, np.ma.getmaskarray(arr))
        arr = arr.filled(np.ma.default_fill_value(arr))
    _feed_array(s, arr)
    return Fingerprint(
        "ndarray", s.hexdigest(), arr.shape, {"values": str(arr.dtype)}, {}, s.nbytes
    )


def _fingerprint_buffer(data: bytes | bytearray | memoryview) -> Fingerprint:
    view = memoryview(data)
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    return Fingerprint(
        "bytes", xxhash.xxh3_128(view).hexdigest(), (view.nbytes,), nbytes=view.nbytes
    )


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


def fingerprint(obj: Any, *, cache: FingerprintCache | None = None) -> Fingerprint:
    """Content fingerprint of a DataFrame, Series, Index, ndarray, bytes-like object or file path.

    Raises FingerprintError for other types, missing files, and data that cannot be read.
    """
    cache = cache if cache is not None else _default_cache
    if isinstance(obj, (str, os.PathLike)):
        return cache.file(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return _fingerprint_buffer(obj)
    np, pd = sys.modules.get("numpy"), sys.modules.get("pandas")
    try:
        if np is not None and isinstance(obj, np.ndarray):
            return cache.array(obj)
        if pd is not None:
            if isinstance(obj, pd.DataFrame):
                return _fingerprint_frame(obj)
            if isinstance(obj, pd.Series):
                return _fingerprint_series(obj)
            if isinstance(obj, pd.Index):
                return _fingerprint_index(obj)
    except FingerprintError:
        raise
    except Exception as e:  # a bug or an exotic dtype must not break the user's cell
        raise FingerprintError(f"Cannot fingerprint {_type_name(obj)}: {e!r}") from e
    raise FingerprintError(f"Cannot fingerprint {_type_name(obj)}; supported: {_SUPPORTED}")


def _type_name(obj: object) -> str:
    t = type(obj)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


_data_types: dict[type, bool] = {}  # memo: a class's bases never change


def is_data(obj: object) -> bool:
    """True for a DataFrame, Series or ndarray (or a subclass); never imports pandas or NumPy."""
    cls = type(obj)
    known = _data_types.get(cls)
    if known is None:
        np, pd = sys.modules.get("numpy"), sys.modules.get("pandas")
        known = bool(
            (np is not None and issubclass(cls, np.ndarray))
            or (pd is not None and issubclass(cls, (pd.DataFrame, pd.Series)))
        )
        if len(_data_types) > 4096:  # classes made in a loop must not pile up
            _data_types.clear()
        _data_types[cls] = known
    return known


__all__ = ["FingerprintCache", "default_cache", "fingerprint", "fingerprint_file", "is_data"]
