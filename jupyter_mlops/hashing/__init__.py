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

The work is split by what is hashed: :mod:`.frames` (DataFrames, Series, Index, arrays, bytes),
:mod:`.strings` (Arrow strings, Python objects and the arrays that hold them), :mod:`.files`
(files and the cache), over the field stream of :mod:`.stream`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ..entities import Fingerprint
from ..exceptions import FingerprintError
from .files import FingerprintCache, _default_cache, default_cache, fingerprint_file
from .frames import (
    _SUPPORTED,
    _fingerprint_buffer,
    _fingerprint_frame,
    _fingerprint_index,
    _fingerprint_series,
)


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
