"""What :func:`.drift.check_drift` answers: a verdict per column and the report over them.

Kept apart from the rule (:mod:`.drift`) so the rule's module stays readable; import both names
from :mod:`.drift`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..exceptions import ValidationError
from .profiles import ColumnProfile

# A column that cannot be compared is a breach in its own right, named by its method.
BREACHES = {
    "missing": "missing from the current data",
    "new": "new in the current data (not in the reference)",
    "all-null": "all null in the {side} data",
    "type": "{ref} in the reference but {cur} in the current data",
}


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict. ``threshold`` is the line for ``statistic``, or for the
    (BH-adjusted, unless ``p_min`` was given) p-value when ``p_value`` is set.

    With ``method="auto"``, ``method`` names the test that decided (``ks``, ``ad``, ``chi2``,
    ``nulls``) or the breach (``missing``, ``new``, ``all-null``, ``type``); ``effect`` is that
    test's distance between the two sides, ``interval`` its approximate 95% interval and
    ``delta`` the practical size it had to exceed; ``null_shares`` the share of nulls in the
    reference and current data."""

    column: str
    kind: str
    method: str
    statistic: float
    threshold: float
    drifted: bool
    p_value: float | None = None
    p_adjusted: float | None = None
    n_reference: int = 0
    n_current: int = 0
    slice: str | None = None  # the slice (e.g. "region=north") when drift is checked per slice
    effect: float | None = None
    interval: tuple[float, float] | None = None
    delta: float | None = None
    null_shares: tuple[float, float] | None = None
    detail: str | None = None  # a breach's words, e.g. "all null in the current data"
    line: str | None = None  # the old gate fields it was judged by instead, e.g. "max 0.1"

    @property
    def label(self) -> str:
        """The column's name, prefixed by its slice when there is one."""
        return f"{self.slice}: {self.column}" if self.slice else self.column

    def describe(self) -> str:
        if self.detail is not None:
            return f"{self.method}: {self.detail}"
        if self.effect is not None and self.interval is not None:
            return self._describe_effect()
        text = f"{self.method} {self.statistic:.3g}"
        if self.p_value is None:
            return text + (" > " if self.drifted else " <= ") + f"{self.threshold:g}"
        return text + ", " + self._describe_p()

    def _describe_effect(self) -> str:
        assert self.effect is not None and self.interval is not None
        unit = "w" if self.method in ("chi2", "nulls") else "distance"
        text = f"{self.method}: "
        if self.method == "nulls" and self.null_shares is not None:
            text += f"null share {self.null_shares[0]:.1%} -> {self.null_shares[1]:.1%}, "
        low, high = self.interval
        text += f"{unit} {self.effect:.3g} (95% {low:.3g}-{high:.3g})"
        if self.line is not None:
            verdict = "over" if self.drifted else "within"
            return text + f", p={self.p_value or 0:.2g}: {verdict} {self.line}"
        if self.delta is not None:
            text += (" > " if self.drifted else " vs ") + f"delta {self.delta:g}"
        return text + ", " + self._describe_p()

    def _describe_p(self) -> str:
        p = self.p_adjusted if self.p_adjusted is not None else self.p_value
        which = "adjusted p" if self.p_adjusted is not None else "p"
        return f"{which}={p:.2g}" + (" <" if self.drifted else " >=") + f" {self.threshold:g}"

    # Not its fields (codec.py): keyed by column in DriftReport, so the name is left out (a
    # per-slice result's key is the slice's choice, so it names its slice and column).
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.slice is not None:
            out |= {"slice": self.slice, "column": self.column}
        out |= {
            "kind": self.kind,
            "method": self.method,
            "statistic": self.statistic,
            "threshold": self.threshold,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "drifted": self.drifted,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
        }
        if self.effect is not None:
            out |= {"effect": self.effect, "interval": list(self.interval or ())}
            out |= {"delta": self.delta}
        if self.null_shares is not None:
            out["null_shares"] = list(self.null_shares)
        if self.detail is not None:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True)
class DriftReport:
    method: str
    columns: Mapping[str, ColumnDrift]

    @property
    def drifted(self) -> bool:
        return any(c.drifted for c in self.columns.values())

    @property
    def share_drifted(self) -> float:
        return sum(c.drifted for c in self.columns.values()) / len(self.columns)

    def summary(self) -> str:
        bad = [c for c in self.columns.values() if c.drifted]
        if not bad:
            worst = max(self.columns.values(), key=_severity)
            return f"no drift in {len(self.columns)} columns (closest {worst.label}: " + (
                f"{worst.describe()})"
            )
        shown = "; ".join(f"{c.label}: {c.describe()}" for c in bad)
        return f"drift in {len(bad)} of {len(self.columns)} columns: {shown}"

    # Not its fields (codec.py): adds the derived `drifted` and `share_drifted`.
    def to_dict(self) -> dict[str, Any]:
        return {
            "drifted": self.drifted,
            "share_drifted": self.share_drifted,
            "method": self.method,
            "columns": {name: c.to_dict() for name, c in self.columns.items()},
        }


def _severity(c: ColumnDrift) -> float:
    """How close a column is to its line (>= 1 means over it), comparable across methods."""
    if c.detail is not None:
        return float("inf") if c.drifted else 0.0
    if c.p_value is not None:
        p = c.p_adjusted if c.p_adjusted is not None else c.p_value
        return c.threshold / max(p, 1e-300)
    return c.statistic / c.threshold if c.threshold else float(c.statistic > 0)


def breach(name: str, ref: ColumnProfile | None, cur: ColumnProfile | None) -> ColumnDrift | None:
    """The named breach of a column that cannot be compared, or None."""
    if ref is None and cur is None:
        raise ValidationError(f"column '{name}' is in neither the reference nor the current data")
    if ref is not None and cur is not None and ref.count and cur.count:
        if ref.kind == cur.kind:
            return None
        why = "type", BREACHES["type"].format(ref=ref.kind, cur=cur.kind)
    elif ref is None or cur is None:
        why = ("missing", BREACHES["missing"]) if cur is None else ("new", BREACHES["new"])
    elif ref.count == 0 and cur.count == 0:  # nothing on either side: nothing changed
        return _named(name, ref, cur, ("all-null", "all null on both sides"), drifted=False)
    else:
        side = "current" if cur.count == 0 else "reference"
        why = "all-null", BREACHES["all-null"].format(side=side)
    return _named(name, ref, cur, why, drifted=True)


def _named(
    name: str,
    ref: ColumnProfile | None,
    cur: ColumnProfile | None,
    why: tuple[str, str],
    drifted: bool,
) -> ColumnDrift:
    known = next((c for c in (ref, cur) if c is not None and c.count), ref or cur)
    assert known is not None
    return ColumnDrift(
        column=name,
        kind=known.kind,
        method=why[0],
        statistic=float(drifted),
        threshold=0.0,
        drifted=drifted,
        n_reference=ref.count if ref is not None else 0,
        n_current=cur.count if cur is not None else 0,
        null_shares=null_shares(ref, cur),
        detail=why[1],
    )


def null_shares(ref: ColumnProfile | None, cur: ColumnProfile | None) -> tuple[float, float]:
    def share(c: ColumnProfile | None) -> float:
        return c.nulls / (c.count + c.nulls) if c is not None and c.count + c.nulls else 0.0

    return share(ref), share(cur)
