"""Per-slice profiles of monitored batches, and what a monitor's checks read from them.

``predict(name, X, slice_by="region")`` keeps, inside the batch's feature profile, a
``"slices"`` entry: ``{"by": "region", "slices": {value: Profile.to_dict()}}``, one profile per
value of the column (the top :data:`TOP_SLICES`, the rest pooled in ``(other)``). Every slice is
binned like the version's reference (its training profile, else its first batch), so the
slices of a window's batches merge like the batches do. When the reference itself is sliced by
the same column, a batch keeps the reference's values, so slices line up across batches.

The monitor's drift check compares per slice (``check_drift(..., by=)``: FDR over slices x
columns, breaches named ``region=north/x1``) when

- the check says ``by: region``: against the training profile's slices when it has them, else
  the version's first batch sliced by ``region``; the window's batches sliced by ``region`` are
  compared, and the check is ``pending`` (saying how to fix it) when there are none;
- or, without ``by:``, when every batch of the window was sliced by the same column (a window
  that mixes sliced and unsliced batches is compared whole, as before).

A slice check (``{kind: slice, column: region, ...}``) groups the labelled rows of the batches
that ``predict`` sliced by its own ``column``; rows scored with another ``slice_by`` (or none)
are not counted, and when no labelled row in the window was sliced by that column the check is
``pending`` with the fix (``pass slice_by='...' to predict``), never a breach on another column.

To give the training profile slices, log :func:`sliced_profile` as the run's profile artifact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..store.base import MonitorBatch
from ..validation.drift_slices import OTHER, SliceProfiles, profile_slices
from ..validation.profiles import as_profile, profile

TOP_SLICES = 20


def stored_slices(prof: Mapping[str, Any] | None) -> SliceProfiles | None:
    """The per-slice profiles a batch (or training) profile carries, or None."""
    if not prof or not isinstance(prof.get("slices"), Mapping):
        return None
    return SliceProfiles.from_dict(prof["slices"])


def slice_profiles(
    frame: Any, slice_by: str | None, bins_from: Mapping[str, Any] | None, top: int = TOP_SLICES
) -> dict[str, Any]:
    """What to add to a batch's profile: ``{"slices": ...}`` per value of ``slice_by``, binned
    like ``bins_from`` (the version's reference; None for its first batch, binned by itself);
    ``{}`` without ``slice_by``."""
    if slice_by is None:
        return {}
    ref = stored_slices(bins_from)
    keep, pool_new = None, True
    if ref is not None and ref.by == slice_by:  # the reference's values, so slices line up
        keep, pool_new = [k for k in ref.slices if k != OTHER], OTHER in ref.slices
    bins = as_profile(bins_from) if bins_from else None
    sliced = profile_slices(frame, slice_by, top=top, bins_from=bins, keep=keep, pool_new=pool_new)
    return {"slices": sliced.to_dict()}


def sliced_profile(df: Any, by: str, top: int = TOP_SLICES) -> dict[str, Any]:
    """A training profile with slices: ``profile(df).to_dict()`` plus the ``"slices"`` entry.
    Log it as the training run's profile (``run.log_bytes(json.dumps(d).encode(),
    "profile:train", kind="profile")``) and batches predicted with ``slice_by=by`` compare with
    it slice by slice."""
    whole = profile(df).to_dict()
    return whole | slice_profiles(df, by, None, top) if by else whole


def window_slices(
    window: Sequence[MonitorBatch], by: str | None
) -> tuple[str | None, SliceProfiles | None]:
    """(the column, the merged slices) of the window's batches sliced by ``by``; with ``by``
    None, the column every batch was sliced by, else (None, None): compare the window whole."""
    found = [stored_slices(b.profile) for b in window]
    if by is None:
        columns = {s.by if s else None for s in found}
        if len(columns) != 1 or None in columns:
            return None, None
        by = columns.pop()
    merged = None
    for s in found:
        if s is not None and s.by == by:
            merged = s if merged is None else merged.merge(s)
    return by, merged


def reference_slices(
    ref: Mapping[str, Any] | None, batches: Sequence[MonitorBatch], version: int, by: str
) -> SliceProfiles | None:
    """The reference per slice: ``ref``'s slices by ``by``, else the version's first batch
    sliced by ``by``."""
    own = stored_slices(ref)
    if own is not None and own.by == by:
        return own
    for b in batches:
        s = stored_slices(b.profile) if b.version == version else None
        if s is not None and s.by == by:
            return s
    return None


def rows_sliced_by(
    rows: list[Any], batches: Sequence[MonitorBatch], column: str
) -> tuple[list[Any], str | None]:
    """The labelled rows whose batch ``predict`` sliced by ``column`` (``rows`` as
    ``labelled_predictions`` gives them), and why none is, if so: the fix to show."""
    sliced = {b.batch_id: s.by for b in batches if (s := stored_slices(b.profile)) is not None}
    mine = [r for r in rows if sliced.get(r[1]) == column]
    if mine or not rows:
        return mine, None
    seen = sorted({f"slice_by={sliced[r[1]]!r}" if r[1] in sliced else "no slice_by"
                   for r in rows})  # fmt: skip
    return [], (
        f"no labelled row in the window was scored with slice_by={column!r} (scored with "
        f"{', '.join(seen)}); pass slice_by={column!r} to predict"
    )


def sliced_drift(
    by: str | None,
    ref: Mapping[str, Any] | None,
    window: Sequence[MonitorBatch],
    batches: Sequence[MonitorBatch],
) -> tuple[str | None, tuple[SliceProfiles, SliceProfiles] | None, str | None]:
    """(column, (reference, current) slices, why not) of a drift check whose ``by:`` is ``by``
    (see the module docstring); (None, None, None): compare the window whole."""
    column, current = window_slices(window, by)
    if column is None or ref is None or not window:
        return None, None, None
    reference = reference_slices(ref, batches, window[0].version, column)
    if current is not None and reference is not None:
        return column, (reference, current), None
    if by is None:  # the window is sliced but no reference is: compare it whole
        return None, None, None
    what = "no batch in the window" if current is None else "no reference batch"
    return column, None, f"{what} was sliced by {column!r}; pass slice_by={column!r} to predict"
