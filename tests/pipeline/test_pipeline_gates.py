from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.codec import from_jsonable, to_jsonable
from jupyter_mlops.exceptions import GateFailedError, GateSpecError
from jupyter_mlops.validation.gates import (
    GATE_KINDS,
    GateContext,
    GateKind,
    GateResult,
    GateSpec,
    GateStatus,
    Outcome,
    evaluate_gates,
    gates_passed,
    parse_gate,
    parse_gates,
    raise_for_gates,
    register_gate_kind,
)

NOW = dt.datetime(2024, 6, 10, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def ctx() -> GateContext:
    df = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 4],
            "age": [25, 40, None, 130, 33],
            "city": ["paris", "lyon", "paris", "nice", None],
            "income": [1.0, 2.5, 3.0, 4.0, 5.0],
            "ts": pd.to_datetime(["2024-06-01", "2024-06-09", "2024-06-08", "2024-06-07", None]),
            "flag": [True, False, True, True, False],
        }
    )
    return GateContext(
        datasets={"train": df},
        metrics={"accuracy": 0.91, "loss": 0.3},
        meta={"duration_s": 12.0, "peak_memory_mb": 300.0},
        now=NOW,
    )


def run(ctx: GateContext, gate: dict[str, Any]) -> GateResult:
    (result,) = evaluate_gates([gate], ctx)
    msgspec.json.encode(result)  # every result is JSON-able, with no fallback
    return result


def d(kind: str, **options: Any) -> dict[str, Any]:
    """A data gate on the 'train' dataset."""
    return {"kind": kind, "dataset": "train", **options}


def m(kind: str, **options: Any) -> dict[str, Any]:
    return {"kind": kind, **options}


ALL_DTYPES = {"id": "int", "city": "str", "ts": "datetime", "flag": "bool", "age": None}


@pytest.mark.parametrize(
    ("gate", "status", "observed"),
    [
        (d("schema", columns={"id": "int64", "age": "float"}), "pass", "ok"),
        (d("schema", columns=ALL_DTYPES), "pass", "ok"),
        (d("schema", columns={"id": "str"}), "fail", "1 problem(s)"),
        (d("schema", columns={"id": "int"}, strict=True), "fail", "5 problem(s)"),
        (d("not_null", columns=["id", "income"]), "pass", 0),
        (d("not_null", columns="age"), "fail", 1),
        (d("not_null"), "fail", 3),
        (d("max_null_share", max=0.2), "pass", 0.2),
        (d("max_null_share", columns=["age"], max=0.1), "fail", 0.2),
        (d("range", column="age", min=0, max=120), "fail", 1),
        (d("range", columns=["age", "income"], min=0), "pass", 0),
        (d("range", column="income", max=4.5), "fail", 1),
        (d("allowed_values", column="city", values=["paris", "lyon", "nice"]), "pass", 0),
        (d("allowed_values", column="city", values=["paris"]), "fail", 2),
        (d("unique", columns=["id"]), "fail", 1),
        (d("unique", columns=["id", "age"]), "pass", 0),
        (d("row_count", min=5), "pass", 5),
        (d("row_count", min=10, max=20), "fail", 5),
        (d("freshness", column="ts", max_age="2d"), "pass", 129600.0),
        (d("freshness", column="ts", max_age="1d"), "fail", 129600.0),
        (m("metric", metric="accuracy", min=0.9), "pass", 0.91),
        (m("metric", metric="loss", max=0.2), "fail", 0.3),
        (m("metric", metric="accuracy", min=0.8, max=0.9), "fail", 0.91),
        (m("meta", metric="duration_s", max=60), "pass", 12.0),
        (m("meta", metric="peak_memory_mb", max=256), "fail", 300.0),
    ],
)
def test_data_and_value_gates(
    ctx: GateContext, gate: dict[str, Any], status: str, observed: Any
) -> None:
    result = run(ctx, gate)
    assert result.status.value == status, result.message
    assert result.observed == observed


def test_messages_say_what_is_wrong(ctx: GateContext) -> None:
    r = run(ctx, {"kind": "range", "dataset": "train", "column": "age", "min": 0, "max": 120})
    assert r.message == "age: 1 values outside (min 25, max 130)"
    assert r.threshold == "in [0, 120]"
    assert r.details["age"] == {"min": 25.0, "max": 130.0, "out_of_range": 1}
    r = run(
        ctx, {"kind": "allowed_values", "dataset": "train", "column": "city", "values": ["paris"]}
    )
    assert "city: 2 rows not allowed, e.g. ['lyon', 'nice']" in r.message
    r = run(ctx, {"kind": "schema", "dataset": "train", "columns": {"id": "str", "zip": "int"}})
    assert r.message == "missing column 'zip'; 'id' is int64, expected str"
    r = run(ctx, {"kind": "unique", "dataset": "train", "columns": "id"})
    assert r.message == "1 duplicate keys, e.g. [{'id': 4}]"
    r = run(ctx, {"kind": "freshness", "dataset": "train", "column": "ts", "max_age": "1d"})
    assert r.message == "newest ts is 2024-06-09T00:00:00+00:00, 1d12h old"
    assert r.threshold == "<= 1d"


def test_freshness_parses_text_timestamps_and_naive_now(ctx: GateContext) -> None:
    ctx.datasets["events"] = pd.DataFrame({"at": ["2024-06-10T11:00:00Z", "2024-06-01T00:00:00Z"]})
    ctx.now = dt.datetime(2024, 6, 10, 12, 0)  # naive: read as UTC
    r = run(ctx, {"kind": "freshness", "dataset": "events", "column": "at", "max_age": "2h"})
    assert r.status is GateStatus.PASS and r.observed == 3600.0
    ctx.datasets["empty"] = pd.DataFrame({"at": pd.to_datetime(pd.Series([None, None]))})
    r = run(ctx, {"kind": "freshness", "dataset": "empty", "column": "at", "max_age": "2h"})
    assert r.status is GateStatus.FAIL and "has no timestamps" in r.message


def test_missing_inputs_fail_with_what_is_available(ctx: GateContext) -> None:
    r = run(ctx, {"kind": "row_count", "dataset": "scoring", "min": 1})
    assert r.status is GateStatus.FAIL
    assert r.message == "dataset 'scoring' was not logged or read by the run (datasets: train)"
    r = run(ctx, {"kind": "not_null", "dataset": "train", "columns": ["agee"]})
    assert "column 'agee' is not in dataset 'train'; did you mean 'age'?" in r.message
    r = run(ctx, {"kind": "metric", "metric": "f1", "min": 0.5})
    assert r.message == "metric 'f1' was not logged by the run (metrics: accuracy, loss)"
    r = run(ctx, {"kind": "meta", "metric": "latency_ms_per_row", "max": 1})
    assert r.message == "latency_ms_per_row was not measured for this run"
    r = run(ctx, {"kind": "range", "dataset": "train", "column": "city", "min": 0})
    assert r.message == "range needs a numeric column; 'city' is str"


def test_severity_warn_does_not_block(ctx: GateContext) -> None:
    results = evaluate_gates(
        [
            {"kind": "row_count", "dataset": "train", "min": 10, "severity": "warn"},
            {"kind": "metric", "metric": "accuracy", "min": 0.9},
        ],
        ctx,
    )
    assert [r.status for r in results] == [GateStatus.WARN, GateStatus.PASS]
    assert gates_passed(results)
    raise_for_gates(results)  # nothing blocks


def test_broken_gate_becomes_a_failed_result_and_others_still_run(ctx: GateContext) -> None:
    def explode(spec: GateSpec, ctx: GateContext) -> Outcome:
        raise RuntimeError("boom")

    register_gate_kind("explode", GateKind(explode, {}))
    try:
        gates = [m("explode"), m("explode", severity="warn"), d("row_count", min=1)]
        results = evaluate_gates(gates, ctx)
    finally:
        del GATE_KINDS["explode"]
    assert [r.status.value for r in results] == ["fail", "warn", "pass"]
    assert results[0].message == "error: RuntimeError: boom"
    with pytest.raises(GateFailedError) as info:
        raise_for_gates(results)
    assert info.value.gate == "explode" and len(info.value.results) == 3


def test_gate_failed_error_fields(ctx: GateContext) -> None:
    results = evaluate_gates([{"kind": "metric", "metric": "accuracy", "min": 0.95}], ctx)
    with pytest.raises(GateFailedError) as info:
        raise_for_gates(results)
    e = info.value
    assert (e.gate, e.observed, e.expected) == ("metric:accuracy", 0.91, ">= 0.95")
    assert (
        str(e) == "Gate 'metric:accuracy' failed (observed 0.91, expected >= 0.95): accuracy = 0.91"
    )


def test_labels_are_unique(ctx: GateContext) -> None:
    gates = [{"kind": "row_count", "dataset": "train", "min": 1}] * 2
    gates.append({"name": "enough rows", "kind": "row_count", "dataset": "train", "min": 1})
    labels = [r.gate for r in evaluate_gates(gates, ctx)]
    assert labels == ["row_count:train", "row_count:train#2", "enough rows"]


def test_result_round_trip(ctx: GateContext) -> None:
    for r in evaluate_gates(
        [{"kind": "range", "dataset": "train", "column": "age", "min": 0, "max": 1}], ctx
    ):
        assert from_jsonable(json.loads(json.dumps(to_jsonable(r))), GateResult) == r


@pytest.mark.parametrize(
    ("gate", "needle", "field"),
    [
        (
            m("metrics"),
            "Gate #1 has unknown kind 'metrics' (did you mean 'metric'?); use one of:",
            None,
        ),
        ({"metric": "a"}, "Gate #1 has no 'kind'; use one of: schema, not_null,", "kind"),
        (m("metric", metric="a"), "Gate #1 (metric) needs 'min' or 'max'", "min"),
        (m("metric", metric="a", mn=1), "unknown field 'mn'; did you mean 'min'?", "mn"),
        (m("metric", metric="a", min="high"), "field 'min' must be a number, got 'high'", "min"),
        (d("freshness", column="t", max_age="2x"), "field 'max_age' must be a duration", "max_age"),
        (d("range", min=0), "needs 'column' or 'columns'", "column"),
        (
            m("no_regression", metric="auc"),
            "'metric' must be one of accuracy, f1, roc_auc",
            "metric",
        ),
        (
            m("metric", metric="a", min=1, severity="fatal"),
            "'fatal'; use error or warn",
            "severity",
        ),
        ("metric", "Gate #1 must be a mapping", None),
        (d("schema", columns=["a"]), "must map column names to dtypes", "columns"),
        (m("meta", metric="runtime", max=1), "one of duration_s, peak_memory_mb", "metric"),
    ],
)
def test_gate_spec_errors(gate: Any, needle: str, field: str | None) -> None:
    with pytest.raises(GateSpecError) as info:
        parse_gates([gate])
    assert needle in str(info.value)
    assert info.value.index == 0 and info.value.field == field


def test_gate_spec_error_names_gate_by_number_and_name() -> None:
    gates = [m("metric", metric="a", min=1), {"name": "acc", "kind": "metric", "min": 1}]
    with pytest.raises(GateSpecError) as info:
        parse_gates(gates)
    assert str(info.value) == "Gate #2 'acc' (metric) is missing required field 'metric'"
    assert (info.value.index, info.value.gate, info.value.field) == (1, "acc", "metric")


def test_parse_gates_rejects_non_lists() -> None:
    with pytest.raises(GateSpecError, match="must be a list"):
        parse_gates({"kind": "metric"})  # type: ignore[arg-type]


def test_gate_spec_round_trip() -> None:
    d = {"name": "acc", "kind": "metric", "severity": "warn", "metric": "accuracy", "min": 0.9}
    spec = parse_gate(d)
    assert spec.to_dict() == d
    assert GateSpec.from_dict(spec.to_dict()) == spec
    assert parse_gate({"kind": "metric", "metric": "a", "min": 1}).to_dict() == {
        "kind": "metric",
        "metric": "a",
        "min": 1,
    }


def test_every_builtin_kind_is_registered() -> None:
    assert set(GATE_KINDS) >= {
        "schema", "not_null", "max_null_share", "range", "allowed_values", "unique", "row_count",
        "freshness", "drift", "metric", "no_regression", "slice", "meta",
    }  # fmt: skip


def test_nan_metric_fails(ctx: GateContext) -> None:
    ctx.metrics["accuracy"] = float("nan")
    r = run(ctx, {"kind": "metric", "metric": "accuracy", "min": 0.5})
    assert r.status is GateStatus.FAIL and r.observed == "nan"


def test_numpy_values_become_plain_python(ctx: GateContext) -> None:
    ctx.metrics["accuracy"] = np.float32(0.95)  # type: ignore[assignment]
    r = run(ctx, {"kind": "metric", "metric": "accuracy", "min": 0.9})
    assert type(r.observed) is float
