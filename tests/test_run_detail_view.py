"""The run detail's gates and artifact previews as values (issue 19, item 6), on SQLite and
PostgreSQL: gates failed first with values in their unit and the run's gate outcome; artifact
previews bounded in size, refused outside what the run logged."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import jupyter_mlops as mlops
from jupyter_mlops import views
from jupyter_mlops.entities import GateResult, GateStatus, Severity
from jupyter_mlops.exceptions import NotFoundError, ValidationError
from jupyter_mlops.validation.report import format_gate_table
from jupyter_mlops.views.artifacts import (
    MAX_COLUMNS,
    MAX_LINES,
    artifact_preview,
    format_size,
    inline_artifact,
)

GATES = [
    GateResult("acc", "metric", GateStatus.PASS, 0.6433566433566433, ">= 0.6", "accuracy = 0.6434"),
    GateResult("fresh", "freshness", GateStatus.FAIL, 9 * 86400 + 3600.5, "<= 7d", "9d1h old"),
    GateResult("nulls", "max_null_share", GateStatus.WARN, 0.041666, "<= 1%", "age: 4.17% null",
               Severity.WARN),
    GateResult("rows", "row_count", GateStatus.PASS, 12345, ">= 100", "12345 rows"),
    GateResult("drift", "drift", GateStatus.FAIL, 0.25, "no column drifts (auto, alpha 0.05)",
               "1 of 4 columns drifted"),
]  # fmt: skip


def _run_with_gates(tracker: mlops.Tracker, gates: list[GateResult]) -> str:
    with mlops.start_run(experiment="gated") as run:
        run.log_metric("acc", 0.64)
    tracker.store.save_gate_results(run.id, gates)
    return run.id


def test_gates_come_failed_first_with_values_in_their_unit(tracker: mlops.Tracker) -> None:
    detail = views.run_detail(tracker, _run_with_gates(tracker, GATES))
    assert detail.gate_outcome == "failed"
    lines = [(g.gate, g.status.value, g.observed_text) for g in detail.gate_results]
    assert lines == [
        ("fresh", "fail", "9d1h"),  # next to its "<= 7d", not 781200.5 seconds
        ("drift", "fail", "25%"),
        ("nulls", "warn", "4.17%"),
        ("acc", "pass", "0.6434"),
        ("rows", "pass", "12,345"),
    ]
    assert detail.gate_results[0].observed == 9 * 86400 + 3600.5  # the raw number stays
    body = views.to_jsonable(detail)
    assert body["gate_outcome"] == "failed" and body["gate_results"][0]["observed_text"] == "9d1h"
    # The CLI's table says the same.
    table = format_gate_table(detail.gate_results)
    assert "9d1h" in table and "0.6434" in table and "0.6433566" not in table


@pytest.mark.parametrize(
    "statuses, outcome",
    [((GateStatus.PASS, GateStatus.WARN), "warned"), ((GateStatus.PASS,), "passed"), ((), None)],
)
def test_gate_outcome(tracker: mlops.Tracker, statuses: tuple[GateStatus, ...], outcome) -> None:
    gates = [GateResult(f"g{i}", "metric", s, 1.0, ">= 0") for i, s in enumerate(statuses)]
    assert views.run_detail(tracker, _run_with_gates(tracker, gates)).gate_outcome == outcome


def test_freshness_in_the_future() -> None:
    from jupyter_mlops.validation.report import observed_text

    ahead = GateResult("f", "freshness", GateStatus.PASS, -90.0, "<= 7d")
    assert observed_text(ahead) == "1m30s in the future"


@pytest.mark.parametrize(
    "n, text",
    [(0, "0 B"), (999, "999 B"), (1000, "1 kB"), (12_345, "12.3 kB"), (999_499, "999 kB"),
     (999_500, "1 MB"), (4_560_000, "4.56 MB"), (3 * 10**9, "3 GB")],
)  # fmt: skip
def test_format_size(n: int, text: str) -> None:
    assert format_size(n) == text


def _artifacts_run(tmp_path: Path) -> str:
    files = {
        "plot.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
        "report.html": b"<html><body><h1>Report</h1><script>alert(1)</script></body></html>",
        "notes.txt": "".join(f"line {i}\n" for i in range(100)).encode(),
        "wide.csv": (
            ",".join(f"c{i}" for i in range(40)) + "\n"
            + "".join(",".join(str(r * i) for i in range(40)) + "\n" for r in range(5000))
        ).encode(),
        "model.bin": bytes(range(256)) * 10,
    }  # fmt: skip
    with mlops.start_run(experiment="arts") as run:
        for name, data in files.items():
            (tmp_path / name).write_bytes(data)
            run.log_artifact(tmp_path / name)
        table = pa.table({"a": list(range(50)), "b": [f"x{i}" for i in range(50)]})
        pq.write_table(table, tmp_path / "head.parquet", row_group_size=20)
        run.log_artifact(tmp_path / "head.parquet")
    return run.id


def test_artifact_previews(tracker: mlops.Tracker, tmp_path: Path) -> None:
    run_id = _artifacts_run(tmp_path)
    image = artifact_preview(tracker, run_id, "plot.png")
    assert (image.preview, image.media_type, image.size_text) == ("image", "image/png", "108 B")
    assert artifact_preview(tracker, run_id, "report.html").preview == "html"
    text = artifact_preview(tracker, run_id, "notes.txt")
    assert text.preview == "text" and text.truncated
    assert text.text is not None and text.text.splitlines() == [
        f"line {i}" for i in range(MAX_LINES)
    ]
    csv = artifact_preview(tracker, run_id, "wide.csv", rows=5)
    assert csv.preview == "table" and len(csv.columns) == MAX_COLUMNS and csv.truncated
    assert csv.rows[1][:3] == ("0", "1", "2") and len(csv.rows) == 5
    assert csv.size > 64 * 1024 and csv.total_rows is None  # only the head was read
    parquet = artifact_preview(tracker, run_id, "head.parquet", rows=3)
    assert parquet.columns == ("a", "b") and parquet.rows == (("0", "x0"), ("1", "x1"), ("2", "x2"))
    assert parquet.total_rows == 50 and parquet.truncated
    binary = artifact_preview(tracker, run_id, "model.bin")
    assert binary.preview == "none" and "download" in binary.note and binary.size_text == "2.56 kB"


def test_previews_refuse_bad_names_and_sizes(tracker: mlops.Tracker, tmp_path: Path) -> None:
    run_id = _artifacts_run(tmp_path)
    for name in ("../mlops.db", "/etc/passwd", "nope.csv", ""):
        with pytest.raises(NotFoundError):
            artifact_preview(tracker, run_id, name)
        with pytest.raises(NotFoundError):
            inline_artifact(tracker, run_id, name)
    for rows in (0, 101, -1):
        with pytest.raises(ValidationError, match="rows must be between 1 and 100"):
            artifact_preview(tracker, run_id, "wide.csv", rows=rows)
    with pytest.raises(ValidationError, match="only images and HTML are shown inline"):
        inline_artifact(tracker, run_id, "notes.txt")
    shown = inline_artifact(tracker, run_id, "report.html")
    with shown.file.file as f:
        assert shown.media_type == "text/html" and f.read().startswith(b"<html>")
