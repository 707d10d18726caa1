"""Built-in data gates over the run's DataFrames: schema, not_null, max_null_share, range,
allowed_values, unique, row_count, freshness and drift. The gate-kind table (:mod:`.kinds`)
loads ``KINDS`` on its first lookup.

Each check touches each column once with vectorised pandas calls, so 20 checks on a 100k-row frame
take a few milliseconds (see ``benchmarks/bench_gates.py``).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from typing import Any

from ..cron import format_duration, parse_duration
from .gates import (
    GateContext,
    GateInputError,
    GateKind,
    GateSpec,
    Outcome,
    as_list,
    boolean,
    bounds_text,
    column_names,
    dtype_map,
    duration,
    finite_number,
    format_value,
    non_empty_list,
    non_empty_str,
    non_negative,
    one_of,
    within_bounds,
)
from .report import format_share


def _dataset(spec: GateSpec, ctx: GateContext) -> Any:
    name = spec.options["dataset"]
    if name not in ctx.datasets:
        have = ", ".join(sorted(ctx.datasets)) or "none"
        raise GateInputError(
            f"dataset '{name}' was not logged or read by the run (datasets: {have})"
        )
    return ctx.datasets[name]


def _columns(spec: GateSpec, df: Any) -> list[Any]:
    """The gate's columns (every column when it names none); a missing one is an input error."""
    cols = as_list(spec.options.get("columns", spec.options.get("column")))
    if cols is None:
        return list(df.columns)
    for c in cols:
        if c not in df.columns:
            names = [str(x) for x in df.columns]
            close = difflib.get_close_matches(str(c), names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise GateInputError(
                f"column '{c}' is not in dataset '{spec.options['dataset']}'{hint} "
                f"(columns: {shown})"
            )
    return cols


_DTYPE_FAMILIES: dict[str, Callable[[Any], bool]] = {
    "int": lambda d: d.kind in "iu",
    "float": lambda d: d.kind == "f",
    "number": lambda d: d.kind in "iuf",
    "bool": lambda d: d.kind == "b" or str(d) == "boolean",
    "str": lambda d: str(d) in ("str", "string", "object") or str(d).startswith("string"),
    "datetime": lambda d: d.kind == "M" or str(d).startswith("datetime64"),
    "category": lambda d: str(d) == "category",
}
_DTYPE_ALIASES = {"integer": "int", "numeric": "number", "boolean": "bool", "string": "str"}
_DTYPE_ALIASES |= {"text": "str", "categorical": "category"}


def dtype_matches(dtype: Any, expected: str | None) -> bool:
    """A dtype name ('int64') or a family: int, float, number, bool, str, datetime, category."""
    if expected is None or expected == "any":
        return True
    family = _DTYPE_ALIASES.get(expected, expected)
    if family in _DTYPE_FAMILIES and str(dtype) != expected:
        return _DTYPE_FAMILIES[family](dtype)
    return str(dtype) == expected


def _check_schema(spec: GateSpec, ctx: GateContext) -> Outcome:
    df = _dataset(spec, ctx)
    expected: dict[str, str | None] = spec.options["columns"]
    strict = spec.options.get("strict", False)
    missing = [c for c in expected if c not in df.columns]
    wrong = {
        c: {"expected": want, "actual": str(df[c].dtype)}
        for c, want in expected.items()
        if c in df.columns and not dtype_matches(df[c].dtype, want)
    }
    extra = [str(c) for c in df.columns if c not in expected] if strict else []
    problems = [f"missing column '{c}'" for c in missing]
    problems += [f"'{c}' is {w['actual']}, expected {w['expected']}" for c, w in wrong.items()]
    problems += [f"unexpected column '{c}' (strict)" for c in extra]
    return Outcome(
        ok=not problems,
        observed=f"{len(problems)} problem(s)" if problems else "ok",
        threshold=f"{len(expected)} columns" + (", strict" if strict else ""),
        message="; ".join(problems) or "schema matches",
        details={"missing": missing, "mismatched": wrong, "extra": extra},
    )


def _check_not_null(spec: GateSpec, ctx: GateContext) -> Outcome:
    df = _dataset(spec, ctx)
    counts = df[_columns(spec, df)].isna().sum()
    bad = {c: int(n) for c, n in counts.items() if n}
    message = ", ".join(f"{c}: {n} nulls" for c, n in bad.items()) or "no nulls"
    return Outcome(not bad, sum(bad.values()), "0 nulls", message, {"nulls": bad})


def _check_max_null_share(spec: GateSpec, ctx: GateContext) -> Outcome:
    df = _dataset(spec, ctx)
    limit = spec.options["max"]
    shares = df[_columns(spec, df)].isna().mean() if len(df) else None
    if shares is None or shares.empty:
        return Outcome(None, message="nothing to check: no rows or no columns")
    worst = float(shares.max())
    bad = {c: round(float(s), 6) for c, s in shares.items() if s > limit}
    message = ", ".join(f"{c}: {s:.2%} null" for c, s in bad.items())
    message = message or f"largest null share {worst:.2%} ({shares.idxmax()})"
    # The share as a percentage, as the panel and the CLI show what was observed.
    threshold = f"<= {format_share(float(limit))}"
    return Outcome(not bad, worst, threshold, message, {"over": bad})


def _check_range(spec: GateSpec, ctx: GateContext) -> Outcome:
    df = _dataset(spec, ctx)
    lo, hi = spec.options.get("min"), spec.options.get("max")
    details, total, notes = {}, 0, []
    for c in _columns(spec, df):
        s = df[c]
        if s.dtype.kind not in "iufb":
            raise GateInputError(f"range needs a numeric column; '{c}' is {s.dtype}")
        # None only when neither bound is set, which parse_gate rejects (any_of min/max).
        bad: Any = (s < lo) if lo is not None else None
        if hi is not None:
            bad = (s > hi) if bad is None else (bad | (s > hi))
        n = int(bad.sum())
        lo_seen, hi_seen = s.min(), s.max()
        details[str(c)] = {"min": lo_seen, "max": hi_seen, "out_of_range": n}
        if n:
            total += n
            seen = f"min {format_value(lo_seen)}, max {format_value(hi_seen)}"
            notes.append(f"{c}: {n} values outside ({seen})")
    message = "; ".join(notes) or "all values within range"
    return Outcome(total == 0, total, bounds_text(spec.options), message, details)


def _check_allowed_values(spec: GateSpec, ctx: GateContext) -> Outcome:
    df = _dataset(spec, ctx)
    allowed = spec.options["values"]
    details, total = {}, 0
    for c in _columns(spec, df):
        s = df[c]
        bad = s[~s.isin(allowed) & s.notna()]
        if len(bad):
            total += len(bad)
            details[str(c)] = {"count": len(bad), "examples": list(bad.unique()[:5])}
    notes = [
        f"{c}: {d['count']} rows not allowed, e.g. {d['examples']}" for c, d in details.items()
    ]
    shown = f"in {allowed}" if len(allowed) <= 8 else f"in {len(allowed)} allowed values"
    return Outcome(total == 0, total, shown, "; ".join(notes) or "all values allowed", details)


def _check_unique(spec: GateSpec, ctx: GateContext) -> Outcome:
    df = _dataset(spec, ctx)
    cols = _columns(spec, df)
    dup = df.duplicated(subset=cols)
    n = int(dup.sum())
    examples = df.loc[dup, cols].head(3).to_dict("records") if n else []
    message = f"{n} duplicate keys, e.g. {examples}" if n else "all keys unique"
    return Outcome(
        n == 0, n, f"unique {', '.join(map(str, cols))}", message, {"examples": examples}
    )


def _check_row_count(spec: GateSpec, ctx: GateContext) -> Outcome:
    n = len(_dataset(spec, ctx))
    ok = within_bounds(float(n), spec.options)
    return Outcome(ok, n, bounds_text(spec.options), f"{n} rows")


def _check_freshness(spec: GateSpec, ctx: GateContext) -> Outcome:
    import pandas as pd

    df = _dataset(spec, ctx)
    (column,) = _columns(spec, df)
    max_age = parse_duration(spec.options["max_age"])
    threshold = f"<= {spec.options['max_age']}"
    s = df[column]
    if s.dtype.kind != "M":  # strings or objects: parse (naive times are read as UTC)
        try:
            s = pd.to_datetime(s, utc=True)
        except (ValueError, TypeError) as e:
            raise GateInputError(f"column '{column}' does not hold timestamps: {e}") from None
    latest = s.max()
    if pd.isna(latest):
        return Outcome(False, None, threshold, f"column '{column}' has no timestamps")
    latest = pd.Timestamp(latest)
    latest = latest.tz_localize("UTC") if latest.tzinfo is None else latest
    now = pd.Timestamp(ctx.now or dt.datetime.now(dt.timezone.utc))
    now = now.tz_localize("UTC") if now.tzinfo is None else now
    age = (now - latest).total_seconds()
    when = "in the future" if age < 0 else f"{format_duration(age)} old"
    message = f"newest {column} is {latest.isoformat()}, {when}"
    return Outcome(
        age <= max_age, round(age, 3), threshold, message, {"latest": latest.isoformat()}
    )


def _check_drift(spec: GateSpec, ctx: GateContext) -> Outcome:
    from ..exceptions import ValidationError
    from .drift import check_drift
    from .profiles import as_profile, profile

    df = _dataset(spec, ctx)
    o = spec.options
    ref_name = o.get("reference", o["dataset"])
    if ref_name not in ctx.reference_profiles:
        have = ", ".join(sorted(ctx.reference_profiles)) or "none"
        raise GateInputError(
            f"no reference profile '{ref_name}' (profiles: {have}); record one from the training "
            "data with profile_dataframe(df)"
        )
    columns = _columns(spec, df) if ("columns" in o or "column" in o) else None
    method = o.get("method", "auto")
    limit, p_min = o.get("max"), o.get("p_min")
    try:
        # Several drift gates on one dataset share its profile on the reference's bins.
        ref = ctx.cache.get(("profile", ref_name))
        if ref is None:
            ref = ctx.cache[("profile", ref_name)] = as_profile(ctx.reference_profiles[ref_name])
        key = ("profile", o["dataset"], "bins of", ref_name)
        if key not in ctx.cache:
            ctx.cache[key] = profile(df, bins_from=ref)
        report = check_drift(
            ref,
            ctx.cache[key],
            columns,
            method,
            alpha=o.get("alpha", 0.05),
            threshold=limit,
            p_min=p_min,
            delta=o.get("delta"),
        )
    except ValidationError as e:  # a column the method or the profile cannot compare
        raise GateInputError(str(e)) from None
    cols = list(report.columns.values())
    details = {name: c.to_dict() for name, c in report.columns.items()}
    if method == "auto":
        observed: Any = round(report.share_drifted, 6)
        delta = f", delta {o['delta']:g}" if o.get("delta") is not None else ""
        threshold = f"no column drifts (auto, alpha {o.get('alpha', 0.05):g}{delta})"
    elif cols[0].p_value is not None and limit is None:  # a test judged by its p-values
        observed = min(c.p_adjusted or c.p_value or 0.0 for c in cols)
        line = f"p >= {p_min:g}" if p_min is not None else f"adjusted p > {cols[0].threshold:g}"
        threshold = f"{method} {line}"
    else:
        observed = max(c.statistic for c in cols)
        threshold = f"{method} <= {cols[0].threshold:g}"
        threshold += f", p >= {p_min:g}" if p_min is not None and limit is not None else ""
    return Outcome(not report.drifted, observed, threshold, report.summary(), details)


def _share(v: Any) -> str | None:
    return finite_number(v) or (None if 0 < v < 1 else "must be between 0 and 1")


def _delta(v: Any) -> str | None:
    return finite_number(v) or (
        None if 0 <= v <= 1 else "must be from 0 to 1 (the practical size of a drift; 0: none)"
    )


def _kinds() -> dict[str, GateKind]:
    data = {"dataset": (True, non_empty_str)}
    cols = {"column": (False, non_empty_str), "columns": (False, column_names)}
    bounds = {"min": (False, finite_number), "max": (False, finite_number)}
    one_column, min_or_max = ("column", "columns"), ("min", "max")
    drift_fields = {
        "reference": (False, non_empty_str),
        "method": (False, one_of("auto", "ks", "chi2", "psi", "wasserstein", "jensenshannon")),
    }
    drift_fields |= {"max": (False, non_negative), "p_min": (False, non_negative)}
    drift_fields |= {"alpha": (False, _share), "delta": (False, _delta)}
    kinds = {
        "schema": GateKind(
            _check_schema, data | {"columns": (True, dtype_map), "strict": (False, boolean)}
        ),
        "not_null": GateKind(_check_not_null, data | cols),
        "max_null_share": GateKind(
            _check_max_null_share, data | cols | {"max": (True, non_negative)}
        ),
        "range": GateKind(_check_range, data | cols | bounds, (one_column, min_or_max)),
        "allowed_values": GateKind(
            _check_allowed_values, data | cols | {"values": (True, non_empty_list)}, (one_column,)
        ),
        "unique": GateKind(_check_unique, data | cols, (one_column,)),
        "row_count": GateKind(_check_row_count, data | bounds, (min_or_max,)),
        "freshness": GateKind(
            _check_freshness, data | {"column": (True, non_empty_str), "max_age": (True, duration)}
        ),
        "drift": GateKind(_check_drift, data | cols | drift_fields),
    }
    return kinds


KINDS = _kinds()  # read by the gate-kind table (.kinds) on its first lookup
