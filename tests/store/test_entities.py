"""The records the store returns: one GateResult, dict round trips, and the one JSON cleaner."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
from pathlib import Path

import numpy as np

from jupyter_mlops.entities import (
    GateResult,
    GateStatus,
    PipelineRecord,
    RunKind,
    RunRow,
    RunsPage,
    RunStatus,
    ScheduleEvent,
    Severity,
    to_jsonable,
)


def test_gates_use_the_one_gate_result() -> None:
    from jupyter_mlops.validation import gates

    assert gates.GateResult is GateResult
    assert (gates.GateStatus, gates.Severity) == (GateStatus, Severity)


def _through_json(record: object) -> dict[str, object]:
    return json.loads(json.dumps(record.to_dict(), allow_nan=False))  # type: ignore[attr-defined]


def test_records_round_trip_through_strict_json() -> None:
    row = RunRow(
        "ab12",
        "e",
        None,
        RunStatus.FINISHED,
        RunKind.CELL,
        None,
        1_700_000_000.5,
        2.0,
        7,
        "passed",
        "m@1",
        "blessed",
        {"C": 0.5, "layers": [1, 2]},
        {"acc": 0.9, "loss": math.nan},
    )
    records = [
        GateResult("acc", "metric", GateStatus.FAIL, 0.8, ">= 0.9", "low", Severity.WARN, {"n": 3}),
        PipelineRecord("train", {"gates": [{"kind": "metric"}]}, "t.ipynb", "h", None, 1.25),
        ScheduleEvent("train", 60.0, "exit 0", "ab12", None, 61.5),
        RunsPage((row,), "cursor"),
    ]
    for record in records:
        d = _through_json(record)
        assert type(record).from_dict(d).to_dict() == d  # type: ignore[attr-defined]
    assert _through_json(row)["metrics"] == {"acc": 0.9, "loss": None}
    assert math.isnan(RunRow.from_dict(row.to_dict()).metrics["loss"])


def test_to_jsonable_cleans_once_for_every_caller() -> None:
    value = {
        1: np.float32(0.5),
        "t": (np.int64(3), [np.bool_(True)]),
        "when": dt.datetime(2026, 1, 2, 3, 4, 5),
        "nan": float("nan"),
    }
    assert to_jsonable(value, non_finite="null") == {
        "1": 0.5,
        "t": [3, [True]],
        "when": "2026-01-02T03:04:05",
        "nan": None,
    }
    assert math.isnan(to_jsonable(float("nan")))  # params keep NaN (the store's JSON allows it)
    assert to_jsonable(np.float64("inf"), non_finite="text") == "inf"  # a gate observed it
    assert to_jsonable(Path("a/b")) == repr(Path("a/b"))
    assert to_jsonable(Path("a/b"), fallback=str) == "a/b"
    # The cleaners it replaced are gone, so no caller keeps a rule of its own.
    gone = [("tracking", "_jsonable"), ("cli", "_clean"), ("validation.gates", "_plain")]
    for module, name in gone:
        assert not hasattr(importlib.import_module(f"jupyter_mlops.{module}"), name)
