"""``mlops.live_validation_set``: a validation set that follows live data.

The rows ``mlops.predict(..., keep_rows=True)`` kept, joined by row id onto the labels
``mlops.log_labels`` attached later (the latest label of a row wins, as in the metrics), newest
first: what a retraining notebook validates on, so that its no-regression gate compares the
candidate and the blessed model on fresh labelled production data.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from ..exceptions import ValidationError
from ..pipeline.monitor_spec import seconds
from ..store.base import MonitorBatch, RunStore
from .serving import _store

META = ("row_id", "batch_id", "batch_time", "version")


def bound(value: Any, now: float) -> float | None:
    """An epoch time from ``value``: a duration back from ``now`` (``"7d"``, ``"12h"``, as
    ``jupyter-mlops monitor --since`` takes), an ISO timestamp string, a datetime (naive is
    UTC), or a number (an epoch time)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    if isinstance(value, int | float):
        return float(value)
    try:
        return now - seconds(value)
    except ValidationError:
        pass
    try:
        when = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"bad time {value!r}; write a duration such as 7d or 12h, or an ISO timestamp"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp()


def _rows(st: RunStore, batch: MonitorBatch, trust: bool) -> Any:
    from ..model_format import loads
    from ..registry import is_team_store
    from ..store.artifacts import sha_of

    assert batch.rows_uri is not None
    data = st.artifacts.read_bytes(batch.rows_uri, sha_of(batch.rows_uri))
    return loads(
        data,
        what=f"the rows kept by batch {batch.batch_id} of {batch.name!r}",
        trusted=trust or not is_team_store(st),
        how_to_trust="pass trust=True to mlops.live_validation_set",
    )


def _kept_batches(
    st: RunStore, name: str, lo: float | None, hi: float | None, window: str
) -> list[MonitorBatch]:
    """The blessed batches of ``name`` that kept their rows, with times in [lo, hi)."""
    kept = [
        b
        for b in st.monitor_batches(name, since=lo)
        if b.role == "blessed" and b.rows_uri is not None and (hi is None or b.time < hi)
    ]
    if not kept:
        raise ValidationError(
            f"No rows of {name!r} were kept{window}; pass keep_rows=True to mlops.predict "
            "so that its rows can make a validation set"
        )
    return kept


def _labelled_part(
    name: str,
    b: MonitorBatch,
    frame: Any,
    row_ids: list[str],
    take: list[int],
    labels: dict[str, str],
    label: str,
) -> Any:
    """The rows ``take`` of batch ``b``'s kept ``frame``, with their labels and the set's
    columns (``row_ids`` are theirs)."""
    import pandas as pd

    clash = sorted({label, *META} & {str(c) for c in frame.columns})
    if clash:
        raise ValidationError(
            f"the kept rows of {name!r} have columns named {clash}; pass another label= "
            "(row_id, batch_id, batch_time and version are the set's own columns)"
        )
    part = frame.iloc[take].copy()
    part.attrs = {}
    part[label] = [json.loads(labels[rid]) for rid in row_ids]
    part["row_id"] = row_ids
    part["batch_id"] = b.batch_id
    part["batch_time"] = pd.Timestamp(b.time, unit="s", tz="UTC")
    part["version"] = b.version
    return part


def live_validation_set(
    name: str,
    since: Any = None,
    until: Any = None,
    *,
    label: str = "label",
    now: float | None = None,
    limit: int | None = None,
    trust: bool = False,
    store: RunStore | None = None,
) -> Any:
    """The kept and labelled production rows of model ``name`` as a DataFrame, newest first:
    the features, the ``label`` column, and ``row_id``, ``batch_id``, ``batch_time`` (UTC) and
    ``version`` (the blessed version that scored the row).

    ``since`` (inclusive) and ``until`` (exclusive) bound the batch time (see ``bound``), with
    durations counted back from ``now`` (default: the clock); ``limit`` keeps the newest rows.
    A row id scored in several kept batches appears once, from its newest batch."""
    import pandas as pd

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValidationError(f"limit={limit!r}: pass a positive number of rows, or None for all")
    if label in META:
        raise ValidationError(f"label={label!r} is a column the set already has; pick another")
    st = _store(store)
    st.get_model(name, 1)  # a clear error for an unknown model
    t = time.time() if now is None else now
    lo, hi = bound(since, t), bound(until, t)
    window = "" if lo is None and hi is None else " in that time window"
    kept = _kept_batches(st, name, lo, hi, window)
    labels = st.monitor_labels(name)
    if not labels:
        raise ValidationError(
            f"No labels yet for {name!r}; attach ground truth with mlops.log_labels(name, ids, y)"
        )
    parts: list[Any] = []
    seen: set[str] = set()
    n = 0
    for b in sorted(kept, key=lambda b: b.time, reverse=True):
        frame = _rows(st, b, trust)
        # Batches kept before the ids rode along had generated ids: f"{batch_id}:{position}".
        ids = frame.attrs.get("row_ids") or [f"{b.batch_id}:{i}" for i in range(len(frame))]
        take = [i for i, rid in enumerate(ids) if rid in labels and rid not in seen]
        seen.update(ids)
        if not take:
            continue
        part = _labelled_part(name, b, frame, [ids[i] for i in take], take, labels, label)
        parts.append(part)
        n += len(part)
        if limit is not None and n >= limit:
            break
    if not parts:
        raise ValidationError(
            f"No labels yet for the rows of {name!r} kept{window}; attach ground truth with "
            "mlops.log_labels(name, ids, y) using the ids passed to mlops.predict"
        )
    out = pd.concat(parts, ignore_index=True)
    return out if limit is None else out.head(limit)
