"""The canonical stream every fingerprint is hashed over, and raw NumPy buffers fed into it."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import xxhash

if TYPE_CHECKING:
    import numpy as np

_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_BLOCK = 1 << 20  # bytes per gathered copy of a non-contiguous array: small enough to stay in cache
_NAN_CHUNK = 1 << 20  # the NaN check re-reads each chunk from L2, not from RAM
_MAX_DEPTH = 16  # nesting of containers encoded element-wise before falling back to pickle


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
