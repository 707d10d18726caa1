"""Sticky canary routing: which arm a request's key lands on.

A key (a user or entity id, or a row id given to ``mlops.predict(ids=...)``) is hashed with
xxHash (XXH3, 64 bits: stable across processes, machines and Python versions, unlike Python's
own ``hash()``, which is salted per process) into one of ``BUCKETS`` buckets. A key is in the
canary when its bucket is below ``share * BUCKETS``. So:

- the same key always lands on the same arm at a given share (sticky within a step);
- a key in the canary stays there as the share grows (the threshold only moves up);
- the shares are exact to one bucket (0.01 point) in expectation.

Rows without a key are routed by a generated request id: they are spread like the rest, but a
retry of the same request may land on the other arm.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import xxhash

from ..exceptions import ValidationError

BUCKETS = 10_000


def bucket(key: Any) -> int:
    """The key's bucket in ``[0, BUCKETS)``; a key is hashed as its ``str``."""
    return xxhash.xxh3_64_intdigest(str(key).encode("utf-8")) % BUCKETS


def _threshold(share: float) -> int:
    """How many buckets a share (a fraction in [0, 1]) takes."""
    if not 0.0 <= share <= 1.0:
        raise ValidationError(f"canary share {share!r} must be a fraction in [0, 1], e.g. 0.05")
    return round(share * BUCKETS)


def in_canary(key: Any, share: float) -> bool:
    """Whether ``key`` is routed to the candidate when it takes ``share`` of the traffic."""
    return bucket(key) < _threshold(share)


def split(keys: Iterable[Any], share: float) -> Any:
    """A numpy bool mask over ``keys``: True where the key goes to the candidate.

    Hashing is a C-level ``map`` over the keys (xxHash has no vectorised form over Python
    strings; ~0.25 µs a key, 100k keys in ~25 ms); the comparison is vectorised."""
    import numpy as np

    limit = _threshold(share)
    found = list(keys)
    encoded = map(str.encode, map(str, found))
    hashes = np.fromiter(map(xxhash.xxh3_64_intdigest, encoded), np.uint64, count=len(found))
    return (hashes % np.uint64(BUCKETS)) < np.uint64(limit)


__all__ = ["BUCKETS", "bucket", "in_canary", "split"]
