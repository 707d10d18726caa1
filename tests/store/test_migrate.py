"""`migrate_store`: a real local store copied into another store, then used there; a second
copy copies nothing; a killed copy resumes; a bad copy says so."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import SchemaVersionError, ValidationError
from jupyter_mlops.registry import ModelRegistry, load_model
from jupyter_mlops.store import open_store, schema
from jupyter_mlops.store.dialect import SQLITE
from jupyter_mlops.store.migrate import EXCLUDED_TABLES, TableSpec, migrate_store, schema_tables
from jupyter_mlops.store.sql import SQLStore
from tests.conftest import ROOT, STORE_BACKENDS, python_env, store_location
from tests.monitoring.helpers import features

from .migration_data import CELL, populate, write_many_runs

# The backends a local store is migrated to: every store backend the suite knows (the
# PostgreSQL store adds its name to STORE_BACKENDS, and these tests run against it).
TARGET_BACKENDS = STORE_BACKENDS
STORE_DIR = Path(mlops.__file__).parent / "store"


def empty_store(request: pytest.FixtureRequest, directory: Path) -> SQLStore:
    """A fresh store of the backend ``request.param``, its blobs apart from the source's, as on
    a team store (a PostgreSQL store's default directory is the project's: the source's here)."""
    location = store_location(request.param, directory, request)
    store = open_store(location, artifacts=str(directory / "artifacts"))
    assert isinstance(store, SQLStore)
    return store


@pytest.fixture(params=TARGET_BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> SQLStore:
    return empty_store(request, tmp_path / "target")


@pytest.fixture
def local() -> mlops.Tracker:
    """The tracker of the test's own embedded store: the local store a migration copies."""
    return mlops.default_tracker()


@pytest.fixture
def source(local: mlops.Tracker) -> SQLStore:
    store = local.store
    assert isinstance(store, SQLStore)
    return store


def url_of(store: SQLStore) -> str:
    """What opens ``store`` again: its URL, or the embedded store's directory."""
    return store.location if "://" in store.location else str(store.workdir)


def table_rows(store: SQLStore, spec: TableSpec) -> list[tuple[Any, ...]]:
    with store._read() as conn:
        found = conn.execute(f"SELECT * FROM {spec.name}").fetchall()
    return sorted((tuple(r) for r in found), key=repr)


def test_the_tables_copied_are_the_schemas_with_their_keys() -> None:
    tables = {t.name: t for t in schema_tables()}
    for name in ("runs", "params", "metrics", "latest_metrics", "tags", "data", "artifacts"):
        assert name in tables
    for name in ("environments", "code", "pipelines", "gate_results", "model_versions"):
        assert name in tables
    for name in ("model_events", "schedule_state", "schedule_log", "monitor_batches"):
        assert name in tables
    assert not set(EXCLUDED_TABLES) & set(tables)  # its version row; live leases
    assert all(t.key for t in tables.values())
    assert tables["params"].key == ("run_id", "key") and not tables["params"].serial
    assert tables["model_events"].key == ("id",) and tables["model_events"].serial
    assert tables["metrics"].serial  # schema 7 gave the last keyless table its id
    # a serial table's rows are looked up in a target by their NOT NULL columns, not their id
    assert tables["metrics"].natural == ("run_id", "key", "step", "time")
    assert tables["model_events"].natural == ("name", "version", "action", "time")
    assert tables["schedule_log"].natural == ("pipeline", "scheduled_for", "outcome", "time")
    assert all(t.natural and "id" not in t.natural for t in tables.values() if t.serial)
    assert all(not t.natural for t in tables.values() if not t.serial)


def test_the_replayed_schema_is_the_tables_a_new_store_has(isolated_store: Path) -> None:
    open_store(isolated_store)
    con = sqlite3.connect(isolated_store / "mlops.db")
    found = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    con.close()
    assert {t.name for t in schema_tables()} == found - set(EXCLUDED_TABLES)


def test_a_migrated_store_is_used_like_the_original(
    shell: Any, local: mlops.Tracker, source: SQLStore, target: SQLStore
) -> None:
    data = populate(shell, local)
    report = migrate_store(source, target, batch=7)
    assert report.ok and report.verified, report.problems
    assert report.running_runs == [data.live.id]  # copied as it is, and said so
    copied = {t.name: t for t in report.tables}
    for spec in schema_tables():
        rows = table_rows(source, spec)
        assert table_rows(target, spec) == rows, spec.name
        assert copied[spec.name].copied == copied[spec.name].source_rows == len(rows)
    assert copied["runs"].copied == len(mlops.runs()) + 0  # every run, the live one too
    assert report.artifacts_copied == report.artifacts_referenced > 0
    assert not report.artifacts_missing_in_source

    before = {
        "frame": mlops.runs(),
        "model": load_model("churn"),
        "events": [(e.version, e.action, e.time) for e in ModelRegistry().events("churn")],
        "run": mlops.get_run(data.cell_run),
        "history": mlops.metric_history(data.script_run),
    }
    original = mlops.get_run(data.cell_run)
    code = source.get_code(list(original.history))
    mlops.set_store(url_of(target))
    after_store = mlops.default_tracker().store
    assert after_store is target
    pd.testing.assert_frame_equal(mlops.runs(), before["frame"])
    X = features(30, seed=9).drop(columns="region")
    assert np.array_equal(load_model("churn").predict(X), before["model"].predict(X))
    assert load_model("churn").w == 0.5  # the rollback re-blessed version 1
    events = [(e.version, e.action, e.time) for e in ModelRegistry().events("churn")]
    assert events == before["events"] and [e[1] for e in events[-2:]] == ["rollback", "pin"]
    assert target.model_pin("churn") == source.model_pin("churn") is not None  # pins copied
    run = mlops.get_run(data.cell_run)
    assert run.code == before["run"].code and "score" in (run.code or "")
    assert target.get_code(list(run.history)) == code and code
    assert target.get_environment(run.environment_id or "") == source.get_environment(
        original.environment_id or ""
    )
    pd.testing.assert_frame_equal(mlops.metric_history(data.script_run), before["history"])
    assert target.gate_results(data.pipeline_run) == source.gate_results(data.pipeline_run)
    assert target.schedule_log("churn") == source.schedule_log("churn")
    assert target.monitor_batches("churn") == source.monitor_batches("churn")
    assert target.labelled_predictions("churn") == source.labelled_predictions("churn")
    assert target.list_pipelines() == source.list_pipelines()

    # the copy is a working store: a tracked cell records there, next to its copied previous
    # run; new rows get new ids after the copied ones
    shell.run(CELL)
    mlops.flush()
    cells = mlops.runs(experiment="cells")
    assert len(cells) == 2 and data.cell_run in set(cells["id"])
    assert len(source.runs_frame(experiment="cells")) == 1
    ModelRegistry().unpin("churn")  # the rollback's pin came along
    ModelRegistry().bless("churn@2", reason="after the move")
    events = ModelRegistry().events("churn")
    assert [e.action for e in events][-2:] == ["archive", "bless"]
    data.live.end()


def test_a_second_migration_copies_nothing(
    shell: Any, local: mlops.Tracker, source: SQLStore, target: SQLStore
) -> None:
    data = populate(shell, local)
    first = migrate_store(source, target)
    again = migrate_store(source, target)
    assert first.rows_copied > 0 and first.artifacts_copied > 0
    assert again.rows_copied == 0 and again.artifacts_copied == 0 and again.artifact_bytes == 0
    assert again.ok and again.verified
    assert all(t.skipped == t.source_rows == t.target_rows for t in again.tables)
    data.live.end()


def test_a_dry_run_writes_nothing_and_says_what_it_would_copy(
    shell: Any, local: mlops.Tracker, source: SQLStore, target: SQLStore
) -> None:
    data = populate(shell, local)
    report = migrate_store(source, target, dry_run=True)
    assert report.verified is None and report.ok
    assert report.rows_copied == sum(t.source_rows for t in report.tables) > 0
    assert report.artifacts_copied == report.artifacts_referenced > 0
    assert all(table_rows(target, t) == [] for t in schema_tables())
    data.live.end()


_KILLER = """
import os, signal, sys
from jupyter_mlops.store import open_store
from jupyter_mlops.store.migrate import migrate_store

source, target, table, rows, blobs = sys.argv[1:4] + [int(sys.argv[4]), sys.argv[5]]

def progress(what, done, total):
    if what == table and done >= rows:  # killed outright, as by kill -9, mid-table
        os.kill(os.getpid(), signal.SIGKILL)

migrate_store(open_store(source), open_store(target, artifacts=blobs), batch=50, progress=progress)
"""


def migrate_until_killed(source: SQLStore, target: SQLStore, table: str, kill_at: int) -> None:
    """Migrate ``source`` into ``target`` in a child process SIGKILLed once ``kill_at`` rows
    of ``table`` are copied."""
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILLER,
            url_of(source),
            url_of(target),
            table,
            str(kill_at),
            str(target.artifacts.location),
        ],
        cwd=ROOT,
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr


@pytest.mark.parametrize("table", ["runs", "artifacts", "metrics"])
def test_a_killed_migration_resumes_and_verifies(
    source: SQLStore, target: SQLStore, table: str
) -> None:
    write_many_runs(source, 3000)
    total = {t.name: len(table_rows(source, t)) for t in schema_tables()}
    kill_at = total[table] // 2
    migrate_until_killed(source, target, table, kill_at)
    spec = {t.name: t for t in schema_tables()}
    partial = {name: len(table_rows(target, s)) for name, s in spec.items()}
    assert partial[table] == kill_at  # whole batches of 50, committed before the kill
    assert partial["experiments"] == total["experiments"]  # copied before the killed table
    # a committed row never lacks its artifact: blobs go in before their rows
    for _run, _name, _kind, sha, _size, uri in table_rows(target, spec["artifacts"]):
        assert target.artifacts.resolve(uri).is_file(), sha

    report = migrate_store(source, target, batch=50)
    assert report.ok and report.verified, report.problems
    for t in report.tables:
        assert t.copied == total[t.name] - partial[t.name], t.name
        assert t.skipped == partial[t.name] and t.target_rows == total[t.name]
    assert report.artifacts_referenced == 300
    assert migrate_store(source, target).rows_copied == 0


def test_a_corrupt_artifact_in_the_target_fails_verification(
    local: mlops.Tracker, source: SQLStore, target: SQLStore
) -> None:
    with local.start_run(experiment="e") as run:
        run.log_bytes(b"good bytes", "a")
        run.log_bytes(b"other bytes", "b")
    assert migrate_store(source, target).verified
    art = mlops.get_run(run.id).artifacts[0]
    target.artifacts.resolve(art.uri).write_bytes(b"flipped bits")
    report = migrate_store(source, target)
    assert report.verified is False and not report.ok
    assert report.problems == [
        f"artifact {art.sha256[:12]} does not match its sha256 in the target"
    ]


def test_a_row_that_differs_in_the_target_is_reported_not_overwritten(
    local: mlops.Tracker, source: SQLStore, target: SQLStore
) -> None:
    with local.start_run(experiment="e", name="mine") as run:
        run.log_params({"a": 1})
    migrate_store(source, target)
    target._write(lambda c: c.execute("UPDATE runs SET name = 'theirs' WHERE id = ?", (run.id,)))
    report = migrate_store(source, target)
    runs = next(t for t in report.tables if t.name == "runs")
    assert (runs.differing, runs.copied) == (1, 0)
    assert not report.ok and report.verified is False
    assert re.match(rf"runs: 1 row\(s\) differ .*id='{run.id}'", report.problems[0])
    assert target.get_run(run.id).name == "theirs"


def test_a_run_that_ended_after_the_copy_is_updated_on_request(
    local: mlops.Tracker, source: SQLStore, target: SQLStore
) -> None:
    live = local.start_run(experiment="e")
    live.log_metrics({"loss": 0.9}, step=0)
    live.flush()
    local.flush()
    first = migrate_store(source, target)
    assert first.running_runs == [live.id] and first.ok
    live.log_metrics({"loss": 0.1}, step=1)
    live.end()
    local.flush()
    stale = migrate_store(source, target)
    assert not stale.ok and stale.problems[0].startswith("runs: 1 row(s) differ")
    assert "--update takes the source's" in stale.problems[0]
    assert target.get_run(live.id).status.value == "running"
    fresh = migrate_store(source, target, update=True)
    assert fresh.ok and fresh.verified, fresh.problems
    updated = {t.name: t.updated for t in fresh.tables if t.updated}
    assert updated == {"runs": 1, "latest_metrics": 1}
    assert stale.rows_copied == 1 and fresh.rows_copied == 0  # the new step, copied at once
    assert target.get_run(live.id) == source.get_run(live.id)
    assert migrate_store(source, target).ok


def test_a_log_entry_with_the_same_id_joins_the_targets_log(
    local: mlops.Tracker, source: SQLStore, target: SQLStore
) -> None:
    source.log_schedule("p", 1.0, "exit 0")
    target.log_schedule("q", 2.0, "missed")  # another store's entry, id 1 there too
    report = migrate_store(source, target, update=True)
    log = next(t for t in report.tables if t.name == "schedule_log")
    assert (log.copied, log.differing, log.updated) == (1, 0, 0)
    assert report.ok and report.verified, report.problems
    assert sorted(e.pipeline for e in target.schedule_log()) == ["p", "q"]
    again = migrate_store(source, target)
    assert again.rows_copied == 0 and again.ok
    assert len(target.schedule_log()) == 2


def test_an_artifact_already_gone_from_the_source_is_reported(
    local: mlops.Tracker, source: SQLStore, target: SQLStore
) -> None:
    with local.start_run(experiment="e") as run:
        art = run.log_bytes(b"an old output notebook", "out.ipynb", kind="notebook")
    source.artifacts.resolve(art.uri).unlink()  # as `gc` deletes old outputs
    report = migrate_store(source, target)
    assert report.artifacts_missing_in_source == [art.sha256]
    assert report.ok and report.verified  # the copy has everything the source had
    assert target.get_run(run.id).artifacts[0].sha256 == art.sha256


def test_stores_at_another_schema_version_or_the_same_store_are_refused(
    local: mlops.Tracker, source: SQLStore, target: SQLStore
) -> None:
    with pytest.raises(ValidationError, match="same store"):
        migrate_store(source, source)
    with pytest.raises(ValidationError, match="at least 1"):
        migrate_store(source, target, batch=0)
    newer = schema.SCHEMA_VERSION + 1
    target._write(lambda c: c.execute("UPDATE schema_info SET version = ?", (newer,)))
    with pytest.raises(SchemaVersionError, match=f"schema version {newer}"):
        migrate_store(source, target)


def test_a_version_6_store_numbers_its_metrics_in_insertion_order(tmp_path: Path) -> None:
    path = tmp_path / "v6"
    path.mkdir()
    con = sqlite3.connect(path / "mlops.db")
    for stmt in schema.render(SQLITE.types):
        con.execute(stmt)
    for version in range(1, 6):
        for stmt in schema.render_migration(version, SQLITE.types):
            con.execute(stmt)
    con.execute("INSERT INTO schema_info (version) VALUES (6)")
    con.execute(
        "INSERT INTO runs (id, experiment, kind, status, started) VALUES "
        "('aaaa1111', 'old', 'script', 'finished', 1.0)"
    )
    metrics = [("aaaa1111", "loss", 2, 0.5, 3.0), ("aaaa1111", "loss", 1, 0.7, 3.0)]
    metrics += [("aaaa1111", "loss", 0, 0.9, 1.0)]
    con.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)", metrics)
    con.commit()
    con.close()
    store = open_store(path)
    assert list(store.metric_history("aaaa1111")["value"]) == [0.9, 0.7, 0.5]
    con = sqlite3.connect(path / "mlops.db")
    got = con.execute("SELECT id, step FROM metrics ORDER BY id").fetchall()
    assert got == [(1, 0), (2, 2), (3, 1)]  # by time, then insertion order
    assert con.execute("SELECT version FROM schema_info").fetchone()[0] == schema.SCHEMA_VERSION
    assert con.execute("SELECT 1 FROM sqlite_master WHERE name = 'metrics_run_key'").fetchone()


def test_the_migration_names_no_backend_of_its_own() -> None:
    """Generic over SQLStore: a PostgreSQL target needs a dialect, not edits here."""
    sqlite_only = re.compile(
        r"\browid\b|json_type|group_concat|sqlite_master|BEGIN IMMEDIATE|INSERT OR|\bsqlite3\b"
        r"|SQLiteStore|PRAGMA"
    )
    for name in ("migrate.py", "info.py"):
        assert not sqlite_only.findall((STORE_DIR / name).read_text()), name
