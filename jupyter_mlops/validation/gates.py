"""Declarative gates: parse gate definitions, evaluate them over a run's data, metrics and models.

A gate is a mapping such as ``{kind: metric, metric: accuracy, min: 0.9, severity: warn}``. Gates
run in order and independently: a gate that raises becomes a failed result carrying the error,
never a crash. ``severity: warn`` turns a failure into a warning that does not block.

Heavy imports (pandas, numpy, scikit-learn) happen inside the checks that need them, so parsing
and validating gates (``promote``, loading a spec) stays cheap.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..cron import parse_duration
from ..entities import GateResult, GateStatus, Severity, to_jsonable
from ..exceptions import GateFailedError, GateInputError, GateSpecError
from .kinds import GATE_KINDS, GateKind, Validator
from .kinds import Check as Check  # re-exported: the kinds and plug-ins import them from here
from .kinds import register_gate_kind as register_gate_kind

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


META_FIELDS = ("duration_s", "peak_memory_mb", "model_size_mb", "latency_ms_per_row")
_COMMON_FIELDS = ("name", "kind", "severity")


@dataclass(frozen=True)
class GateSpec:
    """One parsed gate: its kind, display name, severity and kind-specific options."""

    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def label(self) -> str:
        """The given name, or one made of the kind and its target ('range:train.age')."""
        if self.name:
            return self.name
        o = self.options
        target = [o.get("dataset"), as_list(o.get("columns", o.get("column"))), o.get("metric")]
        parts = [str(p) if not isinstance(p, list) else ",".join(map(str, p)) for p in target if p]
        return f"{self.kind}:{'.'.join(parts)}" if parts else self.kind

    # The YAML form (codec.py keeps records only): a gate's own fields inline, validated.
    def to_dict(self) -> dict[str, Any]:
        """The mapping as written in YAML; defaults are omitted so a round trip stays reviewable."""
        d: dict[str, Any] = {"name": self.name} if self.name else {}
        d["kind"] = self.kind
        if self.severity is not Severity.ERROR:
            d["severity"] = self.severity.value
        return d | self.options

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], index: int = 0) -> GateSpec:
        return parse_gate(d, index)


@dataclass
class GateContext:
    """Everything gates look at. Datasets are pandas DataFrames keyed by the name the run used."""

    datasets: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    meta: dict[str, float] = field(default_factory=dict)  # see META_FIELDS
    reference_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    candidate_model: Any = None
    blessed_model: Any = None
    blessed_ref: str = ""  # e.g. 'wine@2', for messages
    validation: tuple[Any, Any] | None = None  # (X, y)
    now: dt.datetime | None = None  # for freshness; defaults to the current UTC time
    # predictions shared by no_regression and slice gates, so each model predicts once
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Outcome:
    """What a check returns; ``ok=None`` means skipped."""

    ok: bool | None
    observed: Any = None
    threshold: str = ""
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


# --- field validators: each returns what is wrong with a value, or None ----------------------


def non_empty_str(v: Any) -> str | None:
    return None if isinstance(v, str) and v else "must be a non-empty string"


def column_names(v: Any) -> str | None:
    if isinstance(v, str) and v:
        return None
    ok = isinstance(v, list) and v and all(isinstance(c, str) and c for c in v)
    return None if ok else "must be a column name or a list of column names"


def finite_number(v: Any) -> str | None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    return None if ok else "must be a number"


def non_negative(v: Any) -> str | None:
    return finite_number(v) or (None if v >= 0 else "must be zero or more")


def whole_count(v: Any) -> str | None:
    ok = isinstance(v, int) and not isinstance(v, bool) and v >= 0
    return None if ok else "must be a whole number >= 0"


def boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def non_empty_list(v: Any) -> str | None:
    return None if isinstance(v, list) and v else "must be a non-empty list"


def duration(v: Any) -> str | None:
    try:
        parse_duration(v)
    except ValueError:
        return "must be a duration such as '2d', '12h' or '30m'"
    return None


def dtype_map(v: Any) -> str | None:
    ok = isinstance(v, dict) and v and all(x is None or isinstance(x, str) for x in v.values())
    return None if ok else "must map column names to dtypes, e.g. {age: int, city: str}"


def one_of(*options: str) -> Validator:
    def check(v: Any) -> str | None:
        return None if v in options else f"must be one of {', '.join(options)}"

    return check


def format_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def bounds_text(o: Mapping[str, Any]) -> str:
    lo, hi = o.get("min"), o.get("max")
    if lo is not None and hi is not None:
        return f"in [{format_value(lo)}, {format_value(hi)}]"
    return f">= {format_value(lo)}" if lo is not None else f"<= {format_value(hi)}"


def within_bounds(value: float, o: Mapping[str, Any]) -> bool:
    lo, hi = o.get("min"), o.get("max")
    return not (
        math.isnan(value) or (lo is not None and value < lo) or (hi is not None and value > hi)
    )


# --- parsing --------------------------------------------------------------------------------


def _gate_error(index: int, name: str | None, what: str, field: str | None = None) -> GateSpecError:
    label = f"Gate #{index + 1}" + (f" '{name}'" if name else "")
    return GateSpecError(f"{label} {what}", index=index, gate=name, field=field)


def parse_gate(d: Mapping[str, Any], index: int = 0) -> GateSpec:
    """Validate one gate mapping; raises GateSpecError naming the gate (by number) and field."""
    if not isinstance(d, Mapping):
        raise _gate_error(index, None, f"must be a mapping with a 'kind', got {d!r}")
    name = d.get("name")
    if name is not None and not isinstance(name, str):
        raise _gate_error(index, None, f"has name {name!r}; a name must be a string", "name")
    kinds = ", ".join(GATE_KINDS)
    kind_name = d.get("kind")
    if kind_name is None:
        raise _gate_error(index, name, f"has no 'kind'; use one of: {kinds}", "kind")
    kind = GATE_KINDS.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        close = difflib.get_close_matches(str(kind_name), list(GATE_KINDS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        broken = GATE_KINDS.load_errors.get(str(kind_name))
        if broken:  # a plug-in declared this kind but could not be loaded: say why
            hint = f" (its plug-in failed to load: {broken}; reinstall it or fix its import)"
        raise _gate_error(index, name, f"has unknown kind {kind_name!r}{hint}; use one of: {kinds}")
    severity = d.get("severity", "error")
    if severity not in ("error", "warn"):
        raise _gate_error(index, name, f"has severity {severity!r}; use error or warn", "severity")
    options = {k: v for k, v in d.items() if k not in _COMMON_FIELDS}
    _check_fields(kind_name, kind, options, index, name)
    return GateSpec(kind_name, options, name, Severity(severity))


def _check_fields(
    kind_name: str, kind: GateKind, options: dict[str, Any], index: int, name: str | None
) -> None:
    where = f"({kind_name})"
    for key, value in options.items():
        if key not in kind.fields:
            allowed = list(kind.fields) + list(_COMMON_FIELDS)
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            what = f"{where} has unknown field '{key}'; {hint}fields: {', '.join(allowed)}"
            raise _gate_error(index, name, what, str(key))
        problem = kind.fields[key][1](value)
        if problem:
            raise _gate_error(index, name, f"{where} field '{key}' {problem}, got {value!r}", key)
    for key, (required, _) in kind.fields.items():
        if required and key not in options:
            raise _gate_error(index, name, f"{where} is missing required field '{key}'", key)
    for group in kind.any_of:
        if not any(k in options for k in group):
            need = " or ".join(f"'{k}'" for k in group)
            raise _gate_error(index, name, f"{where} needs {need}", group[0])


def parse_gates(items: Iterable[Mapping[str, Any] | GateSpec] | None) -> tuple[GateSpec, ...]:
    """Validate a gates list: mappings from YAML, or GateSpecs (re-validated through their
    mapping form, so a hand-built spec cannot skip the checks a YAML one gets)."""
    if items is None:
        return ()
    if isinstance(items, (str, bytes, Mapping)):
        raise GateSpecError(f"Gates must be a list of mappings, got {type(items).__name__}")
    return tuple(
        parse_gate(g.to_dict() if isinstance(g, GateSpec) else g, i) for i, g in enumerate(items)
    )


# --- evaluation -----------------------------------------------------------------------------


def evaluate_gates(
    specs: Iterable[GateSpec | Mapping[str, Any]], ctx: GateContext
) -> list[GateResult]:
    """Evaluate every gate in order; one gate's error never stops the others."""
    results: list[GateResult] = []
    seen: dict[str, int] = {}
    for spec in parse_gates(specs):
        label = spec.label
        seen[label] = seen.get(label, 0) + 1
        results.append(
            evaluate_gate(spec, ctx, label if seen[label] == 1 else f"{label}#{seen[label]}")
        )
    return results


def evaluate_gate(spec: GateSpec, ctx: GateContext, label: str | None = None) -> GateResult:
    try:
        outcome = GATE_KINDS[spec.kind].check(spec, ctx)
    except GateInputError as e:
        outcome = Outcome(False, message=str(e))
    except Exception as e:  # a broken gate must be reported, not end the evaluation
        log.debug("gate %s raised", spec.label, exc_info=True)
        outcome = Outcome(False, message=f"error: {type(e).__name__}: {e}")
    if outcome.ok is None:
        status = GateStatus.SKIP
    elif outcome.ok:
        status = GateStatus.PASS
    else:
        status = GateStatus.WARN if spec.severity is Severity.WARN else GateStatus.FAIL
    return GateResult(
        gate=label or spec.label,
        kind=spec.kind,
        status=status,
        observed=to_jsonable(outcome.observed, non_finite="text", fallback=str),
        threshold=outcome.threshold,
        message=outcome.message,
        severity=spec.severity,
        details=to_jsonable(outcome.details, non_finite="text", fallback=str),
    )


def gates_passed(results: Iterable[GateResult]) -> bool:
    """True when no result blocks (warnings and skips do not)."""
    return not any(r.blocking for r in results)


def raise_for_gates(results: Sequence[GateResult]) -> None:
    """Raise GateFailedError for the first blocking result, carrying every result."""
    for r in results:
        if r.blocking:
            raise GateFailedError(r.gate, r.observed, r.threshold, r.message, list(results))


def as_list(v: Any) -> list[Any] | None:
    if v is None:
        return None
    return list(v) if isinstance(v, (list, tuple)) else [v]
