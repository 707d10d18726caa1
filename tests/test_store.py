from __future__ import annotations

import base64
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.entities import GateResult, GateStatus, RunStatus
from jupyter_mlops.exceptions import (
    ConfigError,
    SchemaVersionError,
    StoreUnavailableError,
    ValidationError,
)
from jupyter_mlops.store import RunStore, close_stores, open_store, parse_location
from jupyter_mlops.store.dialect import SQLITE
from jupyter_mlops.store.schema import SCHEMA_VERSION
from jupyter_mlops.tracking import reset_default_tracker
from jupyter_mlops.tracking.tracker import MAX_TAG_VALUE

from .conftest import PYTHON, python_env

WRITER = textwrap.dedent("""
    import sys
    import jupyter_mlops as mlops
    n, worker = int(sys.argv[1]), sys.argv[2]
    for i in range(n):
        with mlops.start_run(experiment="stress", seed=None) as run:
            run.log_params({"worker": worker, "i": i})
            run.log_metrics({"acc": i / n, "loss": 1 - i / n})
    print("done", worker)
""")


@pytest.mark.slow
def test_eight_processes_writing_at_once_lose_nothing(store: RunStore, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    mlops.default_tracker()  # the store exists before the reader starts: reads never create it
    procs = [
        subprocess.Popen(
            [PYTHON, str(script), "200", str(w)],
            env=python_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(8)
    ]
    # A reader listing runs while they are written sees consistent snapshots, never an error.
    reads = 0
    while any(p.poll() is None for p in procs):
        frame = mlops.runs()  # all experiments: "stress" is unknown until a writer starts
        assert frame["id"].is_unique
        reads += 1
    results = [p.communicate(timeout=240) for p in procs]
    assert reads > 0
    for p, (_out, err) in zip(procs, results, strict=False):
        assert p.returncode == 0, err
        assert "locked" not in err.lower() and "Traceback" not in err
    frame = mlops.runs(experiment="stress")
    assert len(frame) == 1600
    assert (frame["status"] == "finished").all()
    pairs = set(zip(frame["params.worker"], frame["params.i"], strict=False))
    assert len(pairs) == 1600
    assert frame["metrics.acc"].notna().all()


KILLED = textwrap.dedent("""
    import time
    import jupyter_mlops as mlops
    run = mlops.start_run(experiment="k")
    run.__enter__()
    run.log_params({"a": 1})
    run.flush()
    print(run.id, flush=True)
    time.sleep(60)
""")


@pytest.mark.slow
def test_killed_process_leaves_store_intact_and_run_marked_interrupted(
    store: RunStore, tmp_path: Path
) -> None:
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    p = subprocess.Popen([PYTHON, str(script)], env=python_env(), stdout=subprocess.PIPE, text=True)
    run_id = p.stdout.readline().strip()
    assert mlops.get_run(run_id).status is RunStatus.RUNNING
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=120)
    reset_default_tracker()
    close_stores()  # "next open" of the store in this process
    run = mlops.get_run(run_id)
    assert run.status is RunStatus.INTERRUPTED
    assert "killed or crashed" in run.error
    assert run.params == {"a": 1}
    if store.dialect.name == "sqlite":  # type: ignore[attr-defined]
        con = sqlite3.connect(store.workdir / "mlops.db")
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_live_runs_of_other_processes_are_not_marked(store: RunStore) -> None:
    run = mlops.start_run()
    close_stores()
    reset_default_tracker()
    store = open_store(os.environ["JUPYTER_MLOPS_STORE"])
    assert store.get_run(run.id).status is RunStatus.RUNNING  # our own process is alive
    run.tracker.store = store
    run.end()


def test_newer_schema_is_refused(store: RunStore) -> None:
    store._write(  # type: ignore[attr-defined]
        lambda c: c.execute("UPDATE schema_info SET version = ?", (SCHEMA_VERSION + 1,))
    )
    close_stores()
    with pytest.raises(SchemaVersionError, match="upgrade jupyter-mlops") as e:
        open_store(os.environ["JUPYTER_MLOPS_STORE"])
    assert f"schema version {SCHEMA_VERSION + 1}" in str(e.value)


def test_store_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailableError, match="JUPYTER_MLOPS_STORE"):
        open_store(blocker / ".mlops")


def test_corrupt_database_is_reported_not_overwritten(tmp_path: Path) -> None:
    store = tmp_path / "bad"
    store.mkdir()
    (store / "mlops.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailableError, match="mlops.db"):
        open_store(store)
    assert (store / "mlops.db").read_bytes().startswith(b"this is not")


def test_store_locations(tmp_path: Path) -> None:
    assert parse_location(f"sqlite:///{tmp_path}/s") == ("sqlite", str(tmp_path / "s"))
    assert parse_location(f"sqlite:///{tmp_path}/s/mlops.db") == ("sqlite", str(tmp_path / "s"))
    assert parse_location("postgresql://u@localhost/db") == (
        "postgresql",
        "postgresql://u@localhost/db",
    )
    assert parse_location("postgres:///db?service=team")[0] == "postgresql"
    with pytest.raises(ConfigError, match="scheme 'mysql'") as e:
        parse_location("mysql://u:hunter2@localhost/db")
    assert "hunter2" not in str(e.value)
    with pytest.raises(ConfigError, match="scheme"):
        parse_location("s3://bucket")


def test_history_and_code_are_deduplicated(store: RunStore) -> None:
    from jupyter_mlops.store import RunUpdate

    for _ in range(3):
        with mlops.start_run() as run:
            run.attach(
                RunUpdate(code={"aa": "x = 1", "bb": "y = 2"}, code_sha="bb", history=["aa", "bb"])
            )
    got = mlops.get_run(run.id)
    assert got.history == ("aa", "bb") and got.code == "y = 2"
    with store._read() as conn:  # type: ignore[attr-defined]
        assert conn.execute("SELECT COUNT(*) FROM code").fetchone()[0] == 2
    assert store.get_code(["aa"]) == {"aa": "x = 1"}


def test_import_does_not_pull_heavy_modules() -> None:
    code = (
        "import sys, jupyter_mlops.tracking, jupyter_mlops; "
        "bad = [m for m in ('IPython', 'pandas', 'numpy', 'ipywidgets', 'tornado', "
        "'jupyter_server') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=python_env(), check=True
    )
    assert out.stdout.strip() == "[]"


def test_unflushed_run_is_visible_as_running(store: RunStore) -> None:
    run = mlops.start_run()
    assert mlops.get_run(run.id).status is RunStatus.RUNNING
    time.sleep(0.01)
    run.end()
    assert mlops.get_run(run.id).status is RunStatus.FINISHED


def test_a_version_1_store_is_migrated_forward_keeping_its_runs(tmp_path: Path) -> None:
    from jupyter_mlops.store import schema

    store_dir = tmp_path / "old"
    store_dir.mkdir()
    con = sqlite3.connect(store_dir / "mlops.db")
    for stmt in schema.render(SQLITE.types):
        con.execute(stmt)
    con.execute("INSERT INTO schema_info (version) VALUES (1)")
    con.execute(
        "INSERT INTO runs (id, experiment, kind, status, started) VALUES "
        "('aaaa1111', 'old', 'script', 'finished', 1.0)"
    )
    con.commit()
    con.close()
    store = open_store(store_dir)
    assert store.get_run("aaaa1111").experiment == "old"
    store.set_schedule_state("p", 5.0)  # a table the migration added
    assert store.schedule_state() == {"p": 5.0}
    con = sqlite3.connect(store_dir / "mlops.db")
    assert con.execute("SELECT version FROM schema_info").fetchone()[0] == SCHEMA_VERSION == 13
    assert con.execute("SELECT 1 FROM sqlite_master WHERE name = 'tags_key_value'").fetchone()


# --- what runs() says about pipeline runs: gate outcome and registered model --------------------


def _pipeline_run(tracker: mlops.Tracker, statuses: list[str], model: bool = True) -> str:
    """A pipeline run as the runner records it: gate results, then its logged model registered."""
    from jupyter_mlops.entities import RunKind
    from jupyter_mlops.registry import ModelRegistry

    with tracker.start_run(experiment="wine", kind=RunKind.PIPELINE, seed=1) as run:
        if model:
            run.log_model({"weights": statuses}, "model")
    gates = [GateResult(f"g{i}", "metric", GateStatus(s)) for i, s in enumerate(statuses)]
    tracker.store.save_gate_results(run.id, gates)
    if model:
        ModelRegistry(tracker.store).register("wine", tracker.get_run(run.id), "model")
    return run.id


def test_runs_frame_shows_gate_outcome_and_registered_model(tracker: mlops.Tracker) -> None:
    from jupyter_mlops.registry import ModelRegistry

    warned = _pipeline_run(tracker, ["pass", "warn", "skip"])  # wine@1
    passed = _pipeline_run(tracker, ["pass", "pass"])  # wine@2
    failed = _pipeline_run(tracker, ["pass", "fail", "warn"])  # wine@3
    no_model = _pipeline_run(tracker, ["fail"], model=False)
    with tracker.start_run(experiment="wine") as plain:
        pass
    registry = ModelRegistry(tracker.store)
    registry.bless("wine@1")
    registry.bless("wine@2")  # archives wine@1
    for frame in (
        tracker.runs(),
        tracker.runs(experiment="wine"),
        tracker.runs(where="status == 'finished'", order_by="started", limit=50),
    ):
        rows = frame.set_index("id")
        assert list(frame.columns[9:12]) == ["gates", "model", "model_stage"]
        cols = ["gates", "model", "model_stage"]
        got = {
            rid: tuple(None if pd.isna(v) else v for v in rows.loc[rid, cols])
            for rid in (warned, passed, failed, no_model, plain.id)
        }
        assert got == {
            warned: ("warned", "wine@1", "archived"),
            passed: ("passed", "wine@2", "blessed"),
            failed: ("failed", "wine@3", "candidate"),
            no_model: ("failed", None, None),
            plain.id: (None, None, None),
        }


def test_model_logged_by_a_cell_of_a_pipeline_run_shows_on_both(tracker: mlops.Tracker) -> None:
    from jupyter_mlops.entities import RunKind
    from jupyter_mlops.registry import ModelRegistry

    with (
        tracker.start_run(experiment="p", kind=RunKind.PIPELINE) as parent,
        tracker.start_run(experiment="p", kind=RunKind.CELL) as cell,
    ):
        cell.log_model([1, 2], "model")
    assert tracker.get_run(cell.id).parent_id == parent.id
    ModelRegistry(tracker.store).register("p", tracker.get_run(cell.id), "model")
    rows = tracker.runs().set_index("id")
    assert rows.at[parent.id, "model"] == rows.at[cell.id, "model"] == "p@1"


def test_runs_frame_with_gates_is_one_query_per_table(
    tracker: mlops.Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outcome and model come from the runs query itself: no per-run lookups."""
    from jupyter_mlops.store.postgres import PgConnection
    from jupyter_mlops.store.sqlite import SQLiteStore

    for _ in range(3):
        _pipeline_run(tracker, ["pass"])
    statements: list[str] = []
    if isinstance(tracker.store, SQLiteStore):
        conn = tracker.store._conn()
        conn.set_trace_callback(statements.append)
        try:
            tracker.runs()
        finally:
            conn.set_trace_callback(None)
    else:
        execute = PgConnection.execute

        def traced(self: PgConnection, sql: str, params: object = ()) -> object:
            statements.append(sql)
            return execute(self, sql, params)  # type: ignore[arg-type]

        monkeypatch.setattr(PgConnection, "execute", traced)
        tracker.runs()
    lookups = [s for s in statements if "gate_results" in s or "model_versions" in s]
    assert len(lookups) == 1


def test_order_by_a_key_no_run_has_is_refused(tracker: mlops.Tracker) -> None:
    from jupyter_mlops.exceptions import ValidationError

    with tracker.start_run(experiment="e", tags={"team": "a"}) as run:
        run.log_params({"alpha": 1, "beta": 2})
        run.log_metrics({"accuracy": 0.5})
    with pytest.raises(ValidationError, match=r"metrics\.acuracy.*did you mean metrics\.accuracy"):
        tracker.runs(order_by="metrics.acuracy DESC")
    with pytest.raises(ValidationError, match=r"no run .* has param 'gamma'.*params\.alpha"):
        tracker.runs(order_by="-params.gamma")
    with pytest.raises(ValidationError, match=r"has tag 'owner'"):
        tracker.runs(order_by="tags.owner", limit=3)
    # Known keys still order, even in an experiment where no run has them.
    assert tracker.runs(order_by="metrics.accuracy DESC")["id"].tolist() == [run.id]
    with tracker.start_run(experiment="other"):
        pass
    assert len(tracker.runs(experiment="other", order_by="-params.alpha")) == 1


def test_unknown_experiment_is_an_error_listing_the_known_ones(tracker: mlops.Tracker) -> None:
    from jupyter_mlops.exceptions import ExperimentNotFoundError

    for exp in ("wine", "diabetes"):
        with tracker.start_run(experiment=exp):
            pass
    with pytest.raises(ExperimentNotFoundError) as info:
        tracker.runs(experiment="wines", where="metrics.acc > 1")
    assert info.value.known == ["diabetes", "wine"]
    assert "did you mean 'wine'?" in str(info.value)
    assert "known experiments: diabetes, wine" in str(info.value)
    assert tracker.runs(experiment="wine", where="status == 'failed'").empty  # known: no error


def test_a_read_never_creates_a_store(tmp_path: Path) -> None:
    from jupyter_mlops.exceptions import StoreNotFoundError

    where = tmp_path / "nowhere"
    with pytest.raises(StoreNotFoundError, match=f"no jupyter-mlops store at {where}"):
        open_store(where, create=False)
    assert not where.exists()
    open_store(where).close()
    close_stores()
    assert open_store(where, create=False).experiments() == []


def test_a_100_kb_tag_value_is_stored_and_found_by_it_through_the_tags_index(
    store: RunStore,
) -> None:
    from jupyter_mlops.store.query import compile_query

    value = base64.b64encode(os.urandom(75_000)).decode()  # random: nothing to compress
    with mlops.start_run(experiment="tags", tags={"blob": value, "team": "x"}) as run:
        pass
    with mlops.start_run(experiment="tags", tags={"blob": value[:-1] + "!"}):
        pass
    assert mlops.flush()
    assert mlops.get_run(run.id).tags["blob"] == value
    where = f"tags.blob == {value!r}"
    assert store.search_run_ids(where=where) == [run.id]
    assert list(mlops.runs(where=f"tags.blob in [{value!r}, 'other']")["id"]) == [run.id]
    with pytest.raises(ValidationError, match="at most 1,000,000"):
        mlops.start_run(tags={"blob": "x" * (MAX_TAG_VALUE + 1)})

    # The lookup the filter compiles to can use the tags (key, value) index: on PostgreSQL,
    # whose index holds the md5 of the value, it must compare that too.
    q = compile_query(where, dialect=store.dialect)
    sql = f"SELECT r.id FROM runs r {' '.join(q.joins)} WHERE {q.where}"
    with store._read() as conn:  # type: ignore[attr-defined]
        if store.dialect.name == "postgresql":  # type: ignore[attr-defined]
            conn.execute("SET LOCAL enable_seqscan = off")  # two rows: it would rather scan
            plan = [r[0] for r in conn.execute("EXPLAIN " + sql, q.args).fetchall()]
            at = next(i for i, line in enumerate(plan) if "using tags_key_value" in line)
            assert "md5(value) = " in plan[at + 1], plan  # the Index Cond, not a Filter
        else:
            plan = [str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql, q.args)]
            assert any("tags_key_value (key=? AND value=?)" in line for line in plan), plan
