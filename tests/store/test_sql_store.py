"""The SQL store through its interface (every backend), and the SQLite-only migration to explicit
row ids."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

import jupyter_mlops.store as store_pkg
from jupyter_mlops.codec import to_jsonable
from jupyter_mlops.entities import (
    GateResult,
    GateStatus,
    PipelineRecord,
    RunKind,
    RunStatus,
    ScheduleEvent,
    Severity,
)
from jupyter_mlops.exceptions import ExperimentNotFoundError, ValidationError
from jupyter_mlops.store import RunStart, RunStore, RunUpdate, open_store, schema
from jupyter_mlops.store.dialect import SQLITE

STORE_DIR = Path(store_pkg.__file__).parent


def _run(store: RunStore, rid: str, started: float, exp: str = "e", **metrics: float) -> None:
    store.create_run(RunStart(id=rid, experiment=exp, kind=RunKind.SCRIPT, started=started))
    update = RunUpdate(
        params={"i": rid},
        metrics=[(k, v, 0, started) for k, v in metrics.items()],
        status=RunStatus.FINISHED,
        ended=started + 1,
        duration=1.0,
    )
    store.update_run(rid, update)


def _walk(store: RunStore, **query: object) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = store.runs_page(cursor=cursor, **query)  # type: ignore[arg-type]
        pages.append([r.id for r in page.rows])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_pages_list_every_run_once_in_the_order_of_runs_frame(store: RunStore) -> None:
    # Equal start times: the keyset must break ties by id, as runs_frame orders them.
    for n, started in enumerate([5.0, 5.0, 5.0, 4.0, 3.0, 3.0, 1.0]):
        _run(store, f"{n:02x}aa{7 - n:02x}", started, acc=n / 10)
    pages = _walk(store, limit=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [rid for p in pages for rid in p] == store.runs_frame()["id"].tolist()
    query = {"where": "metrics.acc > 0.15", "order_by": "metrics.acc DESC"}
    pages = _walk(store, limit=2, **query)
    assert [len(p) for p in pages] == [2, 2, 1]
    listed = store.runs_frame(**query)["id"].tolist()  # type: ignore[arg-type]
    assert [rid for p in pages for rid in p] == listed


def test_a_page_row_says_what_the_frame_says(store: RunStore) -> None:
    _run(store, "ab01", 2.0, acc=0.5)
    store.save_gate_results("ab01", [GateResult("g", "metric", GateStatus.WARN)])
    (row,) = store.runs_page().rows
    frame = store.runs_frame().iloc[0]
    assert row.gates == frame["gates"] == "warned"
    assert (row.id, row.status, row.params, row.metrics) == (
        frame["id"],
        RunStatus.FINISHED,
        {"i": frame["params.i"]},
        {"acc": frame["metrics.acc"]},
    )
    assert to_jsonable(row)["started"] == "1970-01-01T00:00:02.000+00:00"


def test_the_newest_first_listing_pages_by_keyset(store: RunStore) -> None:
    """A run recorded while someone pages through does not shift the pages (an offset would
    show the last run of page 1 again on page 2)."""
    for n in range(4):
        _run(store, f"cd0{n}", float(n))
    first = store.runs_page(limit=2)
    _run(store, "cdff", 10.0)
    second = store.runs_page(limit=2, cursor=first.next_cursor)
    assert [r.id for r in first.rows + second.rows] == ["cd03", "cd02", "cd01", "cd00"]
    assert second.next_cursor is None


def test_a_cursor_of_another_listing_is_refused(store: RunStore) -> None:
    for n in range(3):
        _run(store, f"ef0{n}", float(n))
    cursor = store.runs_page(limit=1).next_cursor
    assert cursor
    with pytest.raises(ValidationError, match="without a cursor"):
        store.runs_page(limit=1, cursor=cursor, where="status == 'failed'")
    with pytest.raises(ValidationError, match="without a cursor"):
        store.runs_page(cursor="not-a-cursor")
    with pytest.raises(ExperimentNotFoundError):
        store.runs_page(experiment="nope")


def test_the_store_returns_entities(store: RunStore) -> None:
    store.save_pipeline("train", {"notebook": "t.ipynb", "gates": []}, "t.ipynb", "h1", "@daily")
    (pipeline,) = store.list_pipelines()
    assert isinstance(pipeline, PipelineRecord)
    assert (pipeline.name, pipeline.spec, pipeline.schedule) == (
        "train",
        {"notebook": "t.ipynb", "gates": []},
        "@daily",
    )
    _run(store, "0123", 1.0)
    results = [
        GateResult("acc", "metric", GateStatus.PASS, 0.93, ">= 0.9", "ok"),
        GateResult("rows", "row_count", GateStatus.WARN, 12, ">= 100", "few", Severity.WARN),
    ]
    store.save_gate_results("0123", results)
    assert store.gate_results("0123") == results
    store.log_schedule("train", 100.0, "missed", None, "1 firing missed")
    store.log_schedule("train", 160.0, "exit 0", "0123")
    log = store.schedule_log("train")
    assert all(isinstance(e, ScheduleEvent) for e in log)
    assert [(e.scheduled_for.timestamp(), e.outcome, e.run_id) for e in log] == [
        (160.0, "exit 0", "0123"),
        (100.0, "missed", None),
    ]


def test_a_version_2_store_gets_explicit_row_ids_keeping_its_order(tmp_path: Path) -> None:
    """Same-time events kept their insertion order through SQLite's rowid; the migration
    numbers them in that order, so the registry and scheduler logs read as before."""
    path = tmp_path / "v2"
    path.mkdir()
    con = sqlite3.connect(path / "mlops.db")
    for stmt in schema.render(SQLITE.types) + schema.render_migration(1, SQLITE.types):
        con.execute(stmt)
    con.execute("INSERT INTO schema_info (version) VALUES (2)")
    events = [("m", 1, "register", 5.0), ("m", 2, "register", 5.0), ("m", 2, "bless", 5.0)]
    events += [("m", 1, "bless", 5.0), ("m", 2, "archive", 5.0), ("m", 1, "rollback", 4.0)]
    con.executemany(
        "INSERT INTO model_events (name, version, action, time) VALUES (?, ?, ?, ?)", events
    )
    log = [("p", 1.0, "missed", 9.0), ("p", 2.0, "skipped", 9.0), ("p", 3.0, "exit 0", 9.0)]
    con.executemany(
        "INSERT INTO schedule_log (pipeline, scheduled_for, outcome, time) VALUES (?, ?, ?, ?)",
        log,
    )
    con.commit()
    con.close()
    store = open_store(path)
    got = [(e.version, e.action) for e in store.model_events("m")]
    assert got == [
        (1, "rollback"),  # the earliest time comes first
        (1, "register"),
        (2, "register"),
        (2, "bless"),
        (1, "bless"),
        (2, "archive"),
    ]
    assert [e.outcome for e in store.schedule_log("p")] == ["exit 0", "skipped", "missed"]
    store.log_schedule("p", 4.0, "exit 1")  # new rows continue the numbering
    assert store.schedule_log("p")[0].outcome == "exit 1"
    con = sqlite3.connect(path / "mlops.db")
    assert con.execute("SELECT version FROM schema_info").fetchone()[0] == schema.SCHEMA_VERSION
    assert [r[0] for r in con.execute("SELECT id FROM schedule_log ORDER BY id")] == [1, 2, 3, 4]
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_backend_specific_sql_lives_in_the_dialect_only() -> None:
    """The shared SQL names no SQLite-only construct and no sqlite3 type; a second backend
    then needs a dialect and connections, not edits all over the store."""
    sqlite_only = re.compile(
        r"\browid\b|json_type|group_concat|sqlite_master|BEGIN IMMEDIATE|INSERT OR|\bsqlite3\b"
    )
    shared = ("sql.py", "sql_common.py", "sql_registry.py", "sql_schedule.py", "sql_monitor.py")
    shared += ("sql_writes.py", "sql_search.py", "sql_pipelines.py", "sql_notify.py")
    for name in (*shared, "query.py", "query_limits.py", "rows.py", "base.py", "schema.py"):
        text = (STORE_DIR / name).read_text()
        assert not sqlite_only.findall(text), name
    assert not (STORE_DIR / "registry_sql.py").exists()
    assert not (STORE_DIR / "schedule_sql.py").exists()


def test_registry_and_schedule_tables_are_mixins_of_the_sql_store(store: RunStore) -> None:
    from jupyter_mlops.store.sql import SQLStore
    from jupyter_mlops.store.sql_registry import RegistryTables
    from jupyter_mlops.store.sql_schedule import ScheduleTables

    assert isinstance(store, SQLStore)
    assert isinstance(store, RegistryTables) and isinstance(store, ScheduleTables)
    assert SQLStore.bless_model is RegistryTables.bless_model
    assert SQLStore.schedule_log is ScheduleTables.schedule_log
