"""Drift per slice: ``check_drift(reference, current, by="segment")``.

A shift in one segment drowns in the whole frame (a +0.5 SD shift in one of four segments moves
the pooled distribution by an eighth of that), so each slice is compared on its own:

- Slices are the values of ``by`` (as text, like the per-slice metrics of ``predict``): the
  ``top`` most frequent in the reference get their own comparison, the rest are pooled into one
  ``(other)`` slice. Current rows fall into the reference's slices; a value the reference never
  had goes to ``(other)`` when the reference has one, else it is a new slice of its own.
- Every column both sides share (``by`` itself excepted: it is constant within a slice) is
  compared within each slice by :func:`.drift.column_drifts`, the same statistics as the whole
  frame; a column with no values on either side of a slice is left out of that slice, and one
  with values on one side only is judged by its null share (Fisher's exact test, as for any
  column with nulls): a slice of a few rows can be all null by chance, the whole frame cannot.
- ``by``'s own shares across the slices are compared too, as one more categorical column (a
  change of segment mix is drift even when every segment keeps its shape).
- A slice seen on one side only is a named result, ``new slice`` or ``vanished slice``, whose
  p-value is Fisher's exact test (``scipy.stats.fisher_exact``) of its share on the two sides:
  a new segment of a few rows, or a vanished one that should have had rows, breaches; a rare
  segment missing from a small batch by chance does not.
- All of these go through ONE :func:`.drift.settle` call, so Benjamini–Hochberg controls false
  alarms over slices x columns, not per slice.

Each side is a DataFrame with the ``by`` column, or per-slice profiles: a :class:`SliceProfiles`,
its ``to_dict()`` (``{"by": ..., "slices": {value: Profile.to_dict()}}``), a batch profile that
carries one under ``"slices"`` (what ``predict(..., slice_by=)`` records), or a plain mapping of
value -> profile. Per-slice profiles compare with each other when they share bins: build them
with :func:`profile_slices` and ``bins_from=`` the reference.

A result is keyed ``"by=value/column"`` in :attr:`.drift.DriftReport.columns` (``by`` alone for
the shares), and its ``slice`` field is ``"by=value"``, so a breach names the slice and column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..exceptions import ValidationError
from .drift_columns import DriftOptions, column_drifts, settle
from .drift_report import ColumnDrift, DriftReport, null_shares
from .drift_stats import nulls_test
from .profiles import ColumnProfile, Profile, as_profile, column_kind, profile

__all__ = ["OTHER", "SliceProfiles", "check_drift_by", "profile_slices"]

OTHER = "(other)"  # the pooled slice: the values beyond the top ones
DEFAULT_TOP_SLICES = 20
_CATEGORICAL_METHODS = ("auto", "chi2", "jensenshannon", "psi")  # those that compare shares


@dataclass(frozen=True)
class SliceProfiles:
    """One :class:`Profile` per value of the column ``by`` (values beyond the top kept pooled
    in ``(other)``); the profiles leave ``by`` itself out."""

    by: str
    slices: Mapping[str, Profile]

    @property
    def rows(self) -> dict[str, int]:
        return {k: p.rows for k, p in self.slices.items()}

    def merge(self, other: SliceProfiles) -> SliceProfiles:
        """Both batches' slices together (slices of the same value merge)."""
        if other.by != self.by:
            raise ValidationError(
                f"cannot merge profiles sliced by {self.by!r} with profiles sliced by "
                f"{other.by!r}; slice every batch by the same column"
            )
        out = dict(self.slices)
        for k, p in other.slices.items():
            out[k] = out[k].merge(p) if k in out else p
        return SliceProfiles(self.by, out)

    def pooled(self, top: int) -> SliceProfiles:
        """The ``top`` largest slices kept, the rest merged into ``(other)``."""
        ranked = _ranked(self.rows)
        named = [k for k in ranked if k != OTHER]
        if len(named) <= top:
            return self
        out = {k: self.slices[k] for k in named[:top]}
        for k in [*named[top:], *([OTHER] if OTHER in self.slices else [])]:
            out[OTHER] = out[OTHER].merge(self.slices[k]) if OTHER in out else self.slices[k]
        return SliceProfiles(self.by, out)

    # The stored form: the "slices" entry of a batch profile.
    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "slices": {k: p.to_dict() for k, p in self.slices.items()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SliceProfiles:
        return cls(str(d["by"]), {str(k): as_profile(p) for k, p in d["slices"].items()})


def _ranked(rows: Mapping[str, int]) -> list[str]:
    """Values by rows, largest first (ties by value, so the order is reproducible)."""
    return sorted(rows, key=lambda k: (-rows[k], k))


def _is_frame(obj: Any) -> bool:
    return hasattr(obj, "columns") and hasattr(obj, "dtypes") and not isinstance(obj, Profile)


def _names(names: Any) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:12]) + (", ..." if len(names) > 12 else "") if names else "none"


def split(
    frame: Any, by: str, *, top: int, keep: Sequence[str] | None = None, pool_new: bool = True
) -> dict[str, Any]:
    """``frame``'s rows per slice (value as text -> sub-frame without ``by``): the ``top`` most
    frequent values, or, with ``keep``, those values plus values outside it (their own slice,
    up to ``top``, unless ``pool_new``), the rest in ``(other)``."""
    import numpy as np

    labels = frame[by].astype(str).to_numpy()
    values, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    ranked = _ranked({str(v): int(c) for v, c in zip(values, counts, strict=True)})
    if keep is None:
        own = set(ranked[:top])
    else:
        kept = set(keep)
        new = [] if pool_new else [v for v in ranked if v not in kept][:top]
        own = kept | set(new)
    slots = [str(v) if str(v) in own else OTHER for v in values]
    names = list(dict.fromkeys(slots))
    code = np.array([names.index(s) for s in slots], dtype=np.int64)[inverse.ravel()]
    rest = frame.drop(columns=[by])
    return {name: rest.iloc[np.flatnonzero(code == i)] for i, name in enumerate(names)}


def profile_slices(
    frame: Any,
    by: str,
    *,
    top: int = DEFAULT_TOP_SLICES,
    bins_from: Profile | Mapping[str, Any] | None = None,
    keep: Sequence[str] | None = None,
    pool_new: bool = True,
) -> SliceProfiles:
    """A profile per slice of ``frame`` by ``by`` (see :func:`split`), every slice binned like
    ``bins_from`` (default: ``frame``'s own whole profile), so slices and batches merge."""
    _require(frame, by, "data")
    if bins_from is None:
        bins_from = profile(frame.drop(columns=[by]))
    groups = split(frame, by, top=top, keep=keep, pool_new=pool_new)
    return SliceProfiles(by, {k: profile(g, bins_from=bins_from) for k, g in groups.items()})


def _require(frame: Any, by: str, side: str) -> None:
    if by not in frame.columns:
        raise ValidationError(
            f"by={by!r} is not a column of the {side} data (columns: {_names(frame.columns)}); "
            "pass one of them"
        )


def as_slices(obj: Any, by: str, side: str) -> SliceProfiles:
    """Per-slice profiles from any of the forms the module docstring lists."""
    if isinstance(obj, SliceProfiles):
        found = obj
    elif isinstance(obj, Mapping) and isinstance(obj.get("slices"), Mapping) and "by" in obj:
        found = SliceProfiles.from_dict(obj)
    elif isinstance(obj, Mapping) and isinstance(obj.get("slices"), Mapping):
        found = SliceProfiles.from_dict(obj["slices"])  # a batch profile with its slices
    elif isinstance(obj, Mapping) and obj and "format" not in obj:
        found = SliceProfiles(by, {str(k): as_profile(p) for k, p in obj.items()})
    else:
        raise ValidationError(
            f"the {side} data is not sliced by {by!r}; pass a DataFrame with that column or "
            f"per-slice profiles (profile_slices(df, {by!r}))"
        )
    if found.by != by:
        raise ValidationError(
            f"the {side} profiles are sliced by {found.by!r}, not {by!r}; "
            f"pass by={found.by!r} or profile the data per {by!r}"
        )
    if not found.slices:
        raise ValidationError(f"the {side} data has no rows; pass at least one row to compare")
    return found


@dataclass
class _Side:
    slices: SliceProfiles
    groups: dict[str, Any] | None  # the rows of each slice, when the side is a DataFrame
    kinds: dict[str, str]  # column -> kind, over all slices


def _kinds(frame: Any, by: str) -> dict[str, str]:
    return {str(c): column_kind(frame[c]) for c in frame.columns if str(c) != by}


def _profile_kinds(slices: SliceProfiles) -> dict[str, str]:
    return {c: p.kind for prof in slices.slices.values() for c, p in prof.columns.items()}


def _columns(ref: dict[str, str], cur: dict[str, str], columns: Any, method: str) -> list[str]:
    """The columns compared in each slice: ``columns``, else those both sides share that the
    method applies to."""
    if columns is not None:
        names = [str(c) for c in columns]
        for c in names:
            for side, kinds in (("reference", ref), ("current", cur)):
                if c not in kinds:
                    raise ValidationError(
                        f"column '{c}' is not in the {side} data (columns: {_names(kinds)}); "
                        "fix columns= or the data"
                    )
        return names
    numeric = {"ks": "numeric", "wasserstein": "numeric", "chi2": "categorical"}
    fits = {numeric[method]} if method in numeric else {"numeric", "categorical"}
    if method == "jensenshannon":
        fits = {"categorical"}
    names = [c for c, k in ref.items() if c in cur and k in fits]
    if not names:
        raise ValidationError(
            f"reference and current data share no column to compare with {method} "
            f"(reference: {_names(ref)}; current: {_names(cur)}); check the column names"
        )
    return names


def _reference(reference: Any, by: str, top: int, columns: Any) -> _Side:
    if _is_frame(reference):
        _require(reference, by, "reference")
        kinds = _kinds(reference, by)
        wanted = [c for c in reference.columns if columns is None or str(c) in set(columns)]
        frame = reference[list(dict.fromkeys([*wanted, by]))]
        groups = split(frame, by, top=top)
        return _Side(SliceProfiles(by, {k: profile(g) for k, g in groups.items()}), groups, kinds)
    slices = as_slices(reference, by, "reference").pooled(top)
    return _Side(slices, None, _profile_kinds(slices))


def _current(current: Any, by: str, ref: SliceProfiles, top: int, columns: Any) -> _Side:
    """The current side, cut into the reference's slices (binned like them)."""
    keep = [k for k in ref.slices if k != OTHER]
    pool_new = OTHER in ref.slices
    if _is_frame(current):
        _require(current, by, "current")
        kinds = _kinds(current, by)
        wanted = [c for c in current.columns if columns is None or str(c) in set(columns)]
        frame = current[list(dict.fromkeys([*wanted, by]))]
        groups = split(frame, by, top=top, keep=keep, pool_new=pool_new)
        first = next(iter(ref.slices.values()))
        profs = {k: profile(g, bins_from=ref.slices.get(k, first)) for k, g in groups.items()}
        return _Side(SliceProfiles(by, profs), groups, kinds)
    given = as_slices(current, by, "current")
    new = [k for k in _ranked(given.rows) if k not in ref.slices][:top]
    out: dict[str, Profile] = {}
    for k, p in given.slices.items():
        label = k if k in ref.slices or (k in new and not pool_new) else OTHER
        out[label] = out[label].merge(p) if label in out else p
    return _Side(SliceProfiles(by, out), None, _profile_kinds(given))


def _one_sided(by: str, label: str, rows: tuple[int, int], totals: tuple[int, int]) -> ColumnDrift:
    """A slice with rows on one side only: Fisher's exact test of its share."""
    from scipy.stats import fisher_exact

    (r, c), (n_ref, n_cur) = rows, totals
    p = float(fisher_exact([[r, n_ref - r], [c, n_cur - c]]).pvalue)
    return ColumnDrift(
        column=by,
        kind="categorical",
        method="new slice" if r == 0 else "vanished slice",
        statistic=abs(c / n_cur - r / n_ref),
        threshold=0.0,
        drifted=False,
        p_value=p,
        n_reference=r,
        n_current=c,
        slice=f"{by}={label}",
    )


def _shares(by: str, ref: SliceProfiles, cur: SliceProfiles, options: DriftOptions) -> list:
    """``by``'s shares across slices, compared like any categorical column."""
    if options.method not in _CATEGORICAL_METHODS:
        return []

    def column(rows: dict[str, int]) -> Profile:
        col = ColumnProfile("categorical", "object", sum(rows.values()), 0, categories=rows)
        return Profile(col.count, {by: col})

    return column_drifts(column(ref.rows), column(cur.rows), [by], None, options)


def _within(
    label: str, ref: _Side, cur: _Side, names: list[str], options: DriftOptions
) -> list[ColumnDrift]:
    """The columns' results within one slice both sides have."""
    r, c = ref.slices.slices[label], cur.slices.slices[label]
    # A column empty on both sides of a slice (a feature some segment never has) says nothing.
    both = [
        n
        for n in names
        if n in r.columns and n in c.columns and (r.columns[n].count or c.columns[n].count)
    ]
    raw = None
    if ref.groups is not None and cur.groups is not None:  # exact tests on the slice's rows
        rg, cg = ref.groups[label], cur.groups[label]
        raw = {n: (rg[n], cg[n]) for n in both if n in rg.columns and n in cg.columns}
    name = f"{ref.slices.by}={label}"
    # A small slice can be all null by chance: there its null share is what is tested.
    lopsided = [n for n in both if not (r.columns[n].count and c.columns[n].count)]
    found = column_drifts(r, c, [n for n in both if n not in lopsided], raw, options)
    found += [_nulls(n, r.columns[n], c.columns[n], options) for n in lopsided]
    return [replace(d, slice=name) for d in found]


def _nulls(name: str, ref: ColumnProfile, cur: ColumnProfile, options: DriftOptions) -> ColumnDrift:
    """A column with values on one side of a slice only: the change of its null share."""
    ev = nulls_test(ref, cur, options.delta_for("nulls"))
    assert ev is not None  # one side has rows, all of them null
    return ColumnDrift(
        column=name,
        kind=ref.kind,
        method="nulls",
        statistic=ev.statistic,
        threshold=0.0,
        drifted=False,
        p_value=ev.p_value,
        n_reference=ref.count,
        n_current=cur.count,
        effect=ev.effect,
        interval=(ev.low, ev.high),
        delta=options.delta_for("nulls"),
        null_shares=null_shares(ref, cur),
    )


def check_drift_by(
    reference: Any,
    current: Any,
    by: str,
    *,
    columns: Sequence[str] | None = None,
    options: DriftOptions | None = None,
    top: int = DEFAULT_TOP_SLICES,
) -> DriftReport:
    """Compare ``current`` with ``reference`` slice by slice (see the module docstring)."""
    options = options or DriftOptions()
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise ValidationError(f"top_slices must be a whole number >= 1, got {top!r}")
    by = str(by)
    if columns is not None and by in {str(c) for c in columns}:
        raise ValidationError(
            f"column {by!r} slices the data, so it is not compared within slices; "
            "drop it from columns="
        )
    ref = _reference(reference, by, top, columns)
    cur = _current(current, by, ref.slices, top, columns)
    names = _columns(ref.kinds, cur.kinds, columns, options.method)
    ref_rows, cur_rows = ref.slices.rows, cur.slices.rows
    totals = (sum(ref_rows.values()), sum(cur_rows.values()))
    if not totals[0] or not totals[1]:
        which = "current" if totals[0] else "reference"
        raise ValidationError(f"the {which} data has no rows; pass at least one row to compare")
    results: list[ColumnDrift] = []
    for label in [*_ranked(ref_rows), *(k for k in _ranked(cur_rows) if k not in ref_rows)]:
        if ref_rows.get(label, 0) and cur_rows.get(label, 0):
            results += _within(label, ref, cur, names, options)
        else:
            counts = (ref_rows.get(label, 0), cur_rows.get(label, 0))
            results.append(_one_sided(by, label, counts, totals))
    results += _shares(by, ref.slices, cur.slices, options)
    settled = settle(results, options)
    return DriftReport(options.method, {_key(d): d for d in settled})


def _key(d: ColumnDrift) -> str:
    return f"{d.slice}/{d.column}" if d.slice else d.column
