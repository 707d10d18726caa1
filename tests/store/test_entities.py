"""The records the store returns: one GateResult, JSON round trips, and the one JSON encoder."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import importlib
import json
import math
from pathlib import Path

import numpy as np

import jupyter_mlops
from jupyter_mlops import entities
from jupyter_mlops.codec import from_jsonable
from jupyter_mlops.entities import (
    Artifact,
    DataRef,
    DataRole,
    Environment,
    Fingerprint,
    GateResult,
    GateStatus,
    GitState,
    Metric,
    ModelEvent,
    ModelPin,
    ModelStage,
    ModelVersion,
    Notification,
    NotificationStatus,
    PipelineRecord,
    Run,
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
    return json.loads(json.dumps(to_jsonable(record, non_finite="null"), allow_nan=False))


T0 = dt.datetime(2026, 11, 23, 10, 2, 0, 500000, tzinfo=dt.timezone.utc)
FP = Fingerprint("dataframe", "a" * 32, (3, 2), {"x": "int64"}, {"x": "b" * 32}, 48)


def every_record() -> list[object]:
    """One of each record of ``entities``, every field set (the test below checks the list
    is complete, so a new record cannot skip the round trip)."""
    data = DataRef(DataRole.INPUT, "train", FP)
    art = Artifact("model.pkl", "model", "c" * 64, 10, "artifacts/cc/c")
    row = RunRow(
        "ab12", "e", None, RunStatus.FINISHED, RunKind.CELL, None, T0, 2.0, 7, "passed", "m@1",
        "blessed", {"C": 0.5, "layers": [1, 2]}, {"acc": 0.9},
    )  # fmt: skip
    return [
        FP,
        data,
        art,
        Metric("acc", 0.9, 3, T0),
        Environment("env1", "3.11.7", "linux", {"numpy": "2.0"}),
        GitState("abc", "main", True, "d1"),
        Run(
            "ab12",
            "e",
            RunStatus.FAILED,
            RunKind.PIPELINE,
            T0,
            "n",
            "p1",
            T0,
            1.5,
            7,
            "nb",
            3,
            "x = 1",
            ("h1",),
            10,
            GitState("abc"),
            "env1",
            "boom",
            "out",
            "host",
            42,
            {"C": 0.5},
            {"acc": 0.9},
            {"t": "v"},
            (data,),
            (art,),
            ("w",),
        ),
        ModelVersion(
            "wine", 2, "ab12", "u", "s", 10, ModelStage.SHADOW, T0, T0, {"acc": 0.9}, (data,), "p"
        ),
        ModelPin("wine", 2, "rollback", "ann", "bad", T0, T0),
        ModelEvent("wine", 2, "bless", "ann", None, T0),
        GateResult("acc", "metric", GateStatus.FAIL, 0.8, ">= 0.9", "low", Severity.WARN, {"n": 3}),
        PipelineRecord("train", {"gates": [{"kind": "metric"}]}, "t.ipynb", "h", "@daily", T0),
        ScheduleEvent("train", T0, "passed", "ab12", None, T0),
        Notification(
            "n1",
            T0,
            "failed",
            "webhook",
            "http://x",
            {"a": 1},
            2,
            T0,
            NotificationStatus.PENDING,
            "e",
            T0,
            "me",
        ),
        row,
        RunsPage((row,), "cursor"),
    ]


def test_every_record_round_trips_through_the_one_encoder_and_msgspec() -> None:
    records = every_record()
    defined = {
        c
        for c in vars(entities).values()
        if dataclasses.is_dataclass(c) and c.__module__ == entities.__name__
    }
    assert {type(r) for r in records} == defined  # a new record must join the round trip
    for record in records:
        d = _through_json(record)
        assert from_jsonable(d, type(record)) == record, type(record).__name__
        assert to_jsonable(from_jsonable(d, type(record)), non_finite="null") == d


def test_the_json_forms_kept_from_before() -> None:
    """Field names and shapes the REST API, ``--json`` and the store have always used."""
    records = {type(r).__name__: _through_json(r) for r in every_record()}
    assert records["Run"]["started"] == "2026-11-23T10:02:00.500+00:00"
    assert records["DataRef"] == {"role": "input", "name": "train", **_through_json(FP)}
    assert records["ModelPin"]["by"] == "ann"
    assert records["RunsPage"]["runs"][0]["id"] == "ab12"
    assert records["Fingerprint"]["shape"] == [3, 2]


def test_records_written_by_older_versions_still_load() -> None:
    """Epoch seconds where times are ISO now, and a NaN metric written as null."""
    old = {
        "pipeline": "train",
        "scheduled_for": 60.0,
        "outcome": "passed",
        "run_id": None,
        "message": None,
        "time": "1970-01-01T00:01:01.500+00:00",
    }
    event = from_jsonable(old, ScheduleEvent)
    assert event.scheduled_for == dt.datetime(1970, 1, 1, 0, 1, tzinfo=dt.timezone.utc)
    assert event.time.timestamp() == 61.5
    assert from_jsonable(FP.__dict__ | {"role": "output", "name": "y"}, DataRef).fingerprint == FP


def test_no_json_dumps_bypasses_the_encoder() -> None:
    """``json.dumps(..., default=str)`` skipped ``to_jsonable``'s rules (NumPy, times, records)."""
    found = []
    for path in Path(jupyter_mlops.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and any(k.arg == "default" for k in node.keywords):
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr in ("dumps", "dump"):
                    found.append(f"{path.name}:{node.lineno}")
    assert found == []


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
    assert to_jsonable(Path("a/b")) == "a/b"
    assert to_jsonable(object(), fallback=lambda o: "?") == "?"
    # The cleaners it replaced are gone, so no caller keeps a rule of its own.
    gone = [("tracking", "_jsonable"), ("cli", "_clean"), ("validation.gates", "_plain")]
    for module, name in gone:
        assert not hasattr(importlib.import_module(f"jupyter_mlops.{module}"), name)
