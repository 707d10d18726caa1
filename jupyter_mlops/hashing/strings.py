"""Strings, Python objects and NumPy arrays, which may hold each other: Arrow-style string
buffers, element-wise object encoding, and any array fed into the stream of :mod:`.stream`."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import xxhash

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    from typing_extensions import Buffer  # NumPy declares __buffer__ only for Python >= 3.12

from .stream import _F64, _MAX_DEPTH, _frame, _hash_content, _Stream

# --- NumPy arrays --------------------------------------------------------------------------------
# Here, not in .stream: an array of objects is fed element by element, and an object may be an
# array, so these and the object encoding below call each other.


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
