"""The monitor spec, ``monitors/NAME.yaml`` or the ``monitor:`` key of ``pipelines/NAME.yaml``
(one schema, one parser: here, below both the pipeline spec and the monitoring package)::

model: churn            # default: NAME (in a pipeline spec: the model the pipeline registers)
pipeline: churn         # what `retrain` runs (default: the blessed version's pipeline; in a
                        # pipeline spec: that pipeline)
reference: training     # training (the blessed version's logged profile) | first-batch
window: daily           # batch | daily | weekly
cooldown: 1d            # an action is not repeated within this (s, m, h, d suffixes)
schedule: "0 0 * * *"   # the scheduler evaluates it then (a pipeline's syntax: cron in UTC, or
                        # {cron: ..., timezone: Europe/Berlin}); absent: only when asked
checks:
  - {kind: drift, max_share: 0.0, action: retrain}        # breach: share drifted > max_share
                          # (optional delta: 0.02, the practical size of a drift, 0 to 1)
                        # drift is compared per slice when the window's batches were all
                        # predicted with the same slice_by, or with `by: region` (then pending
                        # until batches are sliced by it); see monitoring/slices.py
  - {kind: performance, metric: accuracy, min: 0.8, min_labels: 20, action: rollback}
  - {kind: slice, column: region, metric: accuracy, min: 0.7, action: notify}
                        # per value of `column`, over rows predict(..., slice_by='region') scored
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..cron import ZonedSchedule, parse_schedule
from ..exceptions import ValidationError

WINDOWS = {"batch": 0.0, "daily": 86400.0, "weekly": 7 * 86400.0}
ACTIONS = ("notify", "retrain", "rollback", "none")
KINDS = ("drift", "performance", "slice")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def seconds(text: Any) -> float:
    """``90``, ``"30m"``, ``"7d"`` -> seconds."""
    if isinstance(text, int | float):
        return float(text)
    s = str(text).strip()
    try:
        return float(s[:-1]) * _UNITS[s[-1]] if s and s[-1] in _UNITS else float(s)
    except ValueError:
        raise ValidationError(
            f"bad duration {text!r}; write seconds or a number with s, m, h, d or w, e.g. 7d"
        ) from None


@dataclass(frozen=True)
class Check:
    kind: str
    action: str = "notify"
    metric: str | None = None
    min: float | None = None
    max: float | None = None
    max_share: float = 0.0
    method: str = "auto"
    column: str | None = None
    min_labels: int = 1
    delta: float | None = None  # drift: the practical size an effect must exceed (None: default)
    by: str | None = None  # drift: compare per slice of this slice_by column

    @property
    def name(self) -> str:
        what = self.metric or "drift"
        where = self.column or self.by
        return f"{self.kind}:{what}" + (f"[{where}]" if where else "")


@dataclass(frozen=True)
class MonitorSpec:
    name: str
    model: str
    pipeline: str | None = None
    reference: str = "training"
    window: str = "daily"
    cooldown: float = 86400.0
    checks: tuple[Check, ...] = field(default_factory=tuple)
    schedule: str | None = None  # cron; None: evaluated only when asked (monitor --evaluate)
    timezone: str | None = None  # IANA zone the cron is read in; None is UTC
    # What the file said, as written: a pipeline spec writes its `monitor:` key back unchanged.
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def cron(self) -> ZonedSchedule | None:
        """The schedule in its time zone (UTC when none is given), or None: not scheduled."""
        return ZonedSchedule.parse(self.schedule, self.timezone) if self.schedule else None

    # The YAML form (codec.py keeps records only): short specs stay short.
    def to_dict(self) -> dict[str, Any]:
        return dict(self.source)

    @classmethod
    def from_dict(
        cls, name: str, d: Mapping[str, Any], *, pipeline: str | None = None
    ) -> MonitorSpec:
        """Validate a monitor mapping; ``pipeline`` is the pipeline whose spec holds it (its
        model and its retrain pipeline are then the defaults)."""
        where = f"monitor {name!r}"
        if not isinstance(d, Mapping):
            raise ValidationError(
                f"{where}: a monitor spec is a mapping of fields (model, window, checks, ...)"
            )
        fields = {"model", "pipeline", "reference", "window", "cooldown", "checks", "schedule"}
        unknown = set(d) - fields
        if unknown:
            raise ValidationError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        window = str(d.get("window", "daily"))
        if window not in WINDOWS:
            raise ValidationError(f"{where}: window {window!r} must be one of batch, daily, weekly")
        reference = str(d.get("reference", "training"))
        if reference not in ("training", "first-batch"):
            raise ValidationError(f"{where}: reference must be training or first-batch")
        checks = [_check(where, i, c) for i, c in enumerate(d.get("checks") or [], 1)]
        try:
            cooldown = seconds(d.get("cooldown", "1d"))
        except ValidationError as e:
            raise ValidationError(f"{where}: cooldown: {e}") from None
        try:  # one parser for the schedules of monitors and pipelines, so both read alike
            schedule, timezone = parse_schedule(d.get("schedule"))
        except ValueError as e:  # ValidationError is one too
            raise ValidationError(f"{where}: schedule: {e}") from None
        return cls(
            name=name,
            model=str(d.get("model", pipeline or name)),
            pipeline=d.get("pipeline", pipeline),
            reference=reference,
            window=window,
            cooldown=cooldown,
            checks=tuple(checks),
            schedule=schedule,
            timezone=timezone,
            source=dict(d),
        )


def _check(where: str, i: int, c: Any) -> Check:
    """Check ``i`` (from 1) of a monitor spec, validated."""
    if not isinstance(c, Mapping) or c.get("kind") not in KINDS:
        raise ValidationError(f"{where}: check {i} needs kind: drift|performance|slice")
    action = str(c.get("action", "notify"))
    if action not in ACTIONS:
        raise ValidationError(f"{where}: check {i} action must be one of {ACTIONS}")
    if c["kind"] != "drift" and (
        not c.get("metric") or (c.get("min") is None and c.get("max") is None)
    ):
        raise ValidationError(f"{where}: check {i} needs a metric and a min or max")
    if c["kind"] == "slice" and not c.get("column"):
        raise ValidationError(f"{where}: slice check {i} needs the column it slices")
    if c.get("by") is not None and (c["kind"] != "drift" or not isinstance(c["by"], str)):
        raise ValidationError(
            f"{where}: check {i}: by: names the slice_by column a drift check compares per "
            "slice (a slice check names its column:)"
        )
    return Check(
        kind=c["kind"],
        action=action,
        metric=c.get("metric"),
        min=c.get("min"),
        max=c.get("max"),
        max_share=float(c.get("max_share", 0.0)),
        method=str(c.get("method", "auto")),
        column=c.get("column"),
        min_labels=int(c.get("min_labels", 1)),
        delta=_delta(where, i, c),
        by=c.get("by") or None,
    )


def _delta(where: str, i: int, c: Mapping[str, Any]) -> float | None:
    v = c.get("delta")
    if v is None:
        return None
    if c["kind"] != "drift":
        raise ValidationError(f"{where}: check {i}: delta applies to drift checks only")
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
        raise ValidationError(
            f"{where}: check {i}: delta must be a number from 0 to 1 (the practical size of a "
            f"drift; 0: the plain tests), got {v!r}"
        )
    return float(v)
