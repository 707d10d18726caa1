"""Fingerprints of DataFrames, Series, Index objects, NumPy arrays and bytes-like objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import xxhash

from ..entities import Fingerprint

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

from .stream import _BLOCK, _Stream
from .strings import _encode_object, _feed_array, _feed_arrow, _feed_arrow_strings, _feed_objects

_SUPPORTED = (
    "pandas DataFrame, Series or Index, NumPy ndarray, bytes, bytearray, memoryview, "
    "or the path of a file"
)

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


def column_digest(values: Any, dtype: str) -> str:
    """The content hash of column ``values`` (NumPy array or ExtensionArray) with its ``dtype``:
    the digest a fingerprint records per column, over any run of rows (a stored chunk's key)."""
    return _column_digest(values, dtype)[0]


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
