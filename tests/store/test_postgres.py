"""What only the PostgreSQL store has to prove: credentials from libpq's sources and never a
password in a message, concurrent first opens, a server that dies mid-run, and filters that
use indexes. (Everything else runs on both backends through the ``store`` fixture.)"""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.entities import RunKind, RunStatus
from jupyter_mlops.exceptions import StoreNotFoundError, StoreUnavailableError
from jupyter_mlops.store import RunStart, RunUpdate, close_stores, open_store, schema
from jupyter_mlops.store.postgres import PgConnection, PostgresStore, masked, without_password
from jupyter_mlops.tracking import reset_default_tracker
from tests.conftest import PYTHON, python_env
from tests.pgserver import PASSWORD, PASSWORD_USER, PGServer, server_bindir

pytestmark = pytest.mark.skipif(server_bindir() is None, reason="PostgreSQL not installed")


@pytest.fixture
def pg_url(pg_server: PGServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database as the default store of this test (and of its subprocesses)."""
    url = pg_server.create_database()
    monkeypatch.setenv("JUPYTER_MLOPS_STORE", url)
    reset_default_tracker()
    return url


def _password_db(server: PGServer) -> tuple[str, str]:
    """A database owned by the password-only role: (its name, host:port)."""
    name = f"pw{os.getpid()}_{time.monotonic_ns()}"
    server.sql(f"CREATE DATABASE {name} TEMPLATE template0 OWNER {PASSWORD_USER}")
    return name, f"127.0.0.1:{server.port}"


# -- locations and credentials ---------------------------------------------------------------------
def test_a_location_never_shows_the_password() -> None:
    url = "postgresql://ann:pa%40ss@db.example:5432/team?sslmode=require&password=other"
    assert masked(url) == "postgresql://ann:***@db.example:5432/team?sslmode=require&password=***"
    assert without_password(url) == "postgresql://ann@db.example:5432/team?sslmode=require"
    assert masked("postgresql:///?service=team") == "postgresql:///?service=team"


def test_credentials_from_the_url_pgpassword_pgpass_and_a_service(
    pg_server: PGServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, where = _password_db(pg_server)
    for var in ("PGPASSWORD", "PGPASSFILE", "PGSERVICEFILE", "PGSERVICE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))  # not the user's own ~/.pgpass
    bare = f"postgresql://{PASSWORD_USER}@{where}/{name}"

    store = open_store(f"postgresql://{PASSWORD_USER}:{PASSWORD}@{where}/{name}")
    assert PASSWORD not in store.location and "***" in store.location
    assert PASSWORD not in repr(store) and PASSWORD not in store.child_location
    store.create_run(RunStart("ab" * 16, "cred", RunKind.SCRIPT, 1.0))
    close_stores()

    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    assert open_store(bare).experiments() == ["cred"]
    close_stores()
    monkeypatch.delenv("PGPASSWORD")

    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_server.port}:{name}:{PASSWORD_USER}:{PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert open_store(bare).experiments() == ["cred"]
    close_stores()
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))

    services = tmp_path / "services.conf"
    services.write_text(
        f"[team]\nhost=127.0.0.1\nport={pg_server.port}\ndbname={name}\n"
        f"user={PASSWORD_USER}\npassword={PASSWORD}\n"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    assert open_store("postgresql:///?service=team").experiments() == ["cred"]


def test_a_password_in_pyproject_is_refused_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_mlops.config import load_settings
    from jupyter_mlops.exceptions import ConfigError

    monkeypatch.delenv("JUPYTER_MLOPS_STORE")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.jupyter_mlops]\nstore = "postgresql://ann:hunter22@db/team"\n')
    with pytest.raises(ConfigError, match="PGPASSWORD") as e:
        load_settings(start=tmp_path)
    assert "hunter22" not in str(e.value) and "ann:***@db" in str(e.value)
    pyproject.write_text('[tool.jupyter_mlops]\nstore = "postgresql://ann@db/team"\n')
    assert load_settings(start=tmp_path).store == "postgresql://ann@db/team"


def test_a_wrong_password_is_one_line_that_does_not_show_it(pg_server: PGServer) -> None:
    name, where = _password_db(pg_server)
    wrong = "Wr0ng-Pa55-9911"
    with pytest.raises(StoreUnavailableError) as e:
        open_store(f"postgresql://{PASSWORD_USER}:{wrong}@{where}/{name}")
    msg = str(e.value)
    assert wrong not in msg and "\n" not in msg
    assert f"{PASSWORD_USER}:***@" in msg and "password authentication failed" in msg
    assert "PGPASSWORD" in msg and ".pgpass" in msg
    assert e.value.__cause__ is None  # the driver's error (and its URL) is not chained


def test_the_cli_reports_an_unreachable_server_in_one_line_without_the_password(
    pg_server: PGServer, tmp_path: Path
) -> None:
    secret = "Sh0uld-N0t-Appear"
    url = f"postgresql://ann:{secret}@127.0.0.1:{pg_server.port + 1}/nowhere"  # nobody listens
    out = subprocess.run(
        [PYTHON, "-m", "jupyter_mlops", "--store", url, "runs"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=python_env(),
        timeout=120,
    )
    err = out.stderr
    assert out.returncode == 1 and err.count("\n") == 1, err
    assert secret not in err + out.stdout and "ann:***@" in err
    assert "server is up" in err


def test_a_read_of_an_empty_database_does_not_create_the_store(pg_server: PGServer) -> None:
    url = pg_server.create_database()
    with pytest.raises(StoreNotFoundError, match="no jupyter-mlops store"):
        open_store(url, create=False)
    assert open_store(url).experiments() == []


def test_a_missing_database_says_what_to_check(pg_server: PGServer) -> None:
    with pytest.raises(StoreUnavailableError, match="database exists") as e:
        open_store(f"postgresql://postgres@127.0.0.1:{pg_server.port}/no_such_db")
    assert "no_such_db" in str(e.value)


def test_local_files_live_in_the_project_and_children_get_the_url(
    pg_url: str, tmp_path: Path
) -> None:
    store = open_store(pg_url)
    assert isinstance(store, PostgresStore)
    assert store.workdir == tmp_path / ".mlops"
    assert store.artifacts.root == tmp_path / ".mlops" / "artifacts"
    assert store.child_location == pg_url


# -- schema ---------------------------------------------------------------------------------------
OPEN = "import sys; from jupyter_mlops.store import open_store; open_store(sys.argv[1])"


def test_processes_opening_a_new_database_at_once_create_the_schema_once(
    pg_server: PGServer,
) -> None:
    url = pg_server.create_database()
    procs = [
        subprocess.Popen([PYTHON, "-c", OPEN, url], env=python_env(), stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    store = open_store(url)
    with store._read() as c:
        assert c.execute("SELECT version FROM schema_info").fetchall() == [(schema.SCHEMA_VERSION,)]


def test_identity_columns_continue_after_rows_copied_with_their_ids(pg_url: str) -> None:
    store = open_store(pg_url)
    reset = store.dialect.reset_identity("model_events", "id")
    assert reset is not None

    def copy(c: Any) -> None:
        c.execute(
            "INSERT INTO model_events (id, name, version, action, time) VALUES (41, 'm', 1,"
            " 'register', 1.0)"
        )
        c.execute(reset)
        c.execute("INSERT INTO model_events (name, version, action, time) VALUES ('m', 1, 'x', 2)")

    store._write(copy)
    with store._read() as c:
        assert c.execute("SELECT id FROM model_events ORDER BY id").fetchall() == [(41,), (42,)]


def test_text_with_a_nul_character_is_recorded(pg_url: str) -> None:
    with mlops.start_run(experiment="nul", seed=None) as run:
        run.log_params({"sep": "a\x00b"})
    assert mlops.flush()
    got = mlops.get_run(run.id)
    assert got.status is RunStatus.FINISHED and got.params == {"sep": "a\x00b"}  # JSON escapes
    store = open_store(pg_url)
    store.set_schedule_state("p\x00q", 1.0)
    assert store.schedule_state() == {"p\ufffdq": 1.0}


def test_a_value_too_big_for_an_index_fails_only_its_own_run(pg_url: str) -> None:
    import psycopg

    from jupyter_mlops.store.writer import StoreWriter

    store = open_store(pg_url)
    big, small = "b" * 32, "c" * 32
    for rid in (big, small):
        store.create_run(RunStart(rid, "big", RunKind.SCRIPT, 1.0))
    # A tag key no b-tree entry can hold, even compressed (a value can: the index hashes it).
    huge = os.urandom(8000).hex()
    with pytest.raises(psycopg.errors.ProgramLimitExceeded):  # not a StoreError: see below
        store.write_batch([(big, RunUpdate(tags={huge: "t"})), (small, RunUpdate(tags={"t": "s"}))])
    writer = StoreWriter(store)  # isolates a record the store refuses from the rest of a batch
    writer.update(big, RunUpdate(tags={huge: "t"}))
    writer.update(small, RunUpdate(tags={"t": "s"}))
    assert writer.wait(timeout=60)
    assert "index row" in (writer.take_error(big) or "") and writer.take_error(small) is None
    assert store.get_run(small).tags == {"t": "s"}
    writer.stop()


def test_a_literal_percent_reaches_the_server_as_one(pg_url: str) -> None:
    store = open_store(pg_url)
    with store._read() as c:
        assert c.execute("SELECT '50%' || ?", ("!",)).fetchone() == ("50%!",)
        assert c.execute("SELECT '100%'").fetchone() == ("100%",)


# -- a server that goes away mid-run ------------------------------------------------------------
CRASHING = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import jupyter_mlops as mlops
    from jupyter_mlops.store import postgres
    postgres.RECONNECT_SECONDS = float(sys.argv[1])
    run = mlops.start_run(experiment="crash", seed=None)
    run.__enter__()
    run.log_params({"a": 1})
    run.flush()
    print(run.id, flush=True)
    while not Path("go").exists():
        time.sleep(0.05)
    run.log_metrics({"acc": 0.9})
    run.__exit__(None, None, None)
    print("ended", flush=True)
""")


@pytest.fixture
def own_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[PGServer]:
    """A server of this test's own, to crash."""
    server = PGServer()
    monkeypatch.setenv("JUPYTER_MLOPS_STORE", server.create_database())
    reset_default_tracker()
    yield server
    close_stores()
    server.stop()


def _crashing_run(tmp_path: Path, reconnect: float) -> tuple[subprocess.Popen[str], str]:
    (tmp_path / "crash.py").write_text(CRASHING)
    proc = subprocess.Popen(
        [PYTHON, "crash.py", str(reconnect)],
        cwd=tmp_path,
        env=python_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.communicate(timeout=60)[1]
    return proc, run_id


@pytest.mark.slow
def test_a_server_back_within_the_retry_window_gets_the_whole_run(
    own_server: PGServer, tmp_path: Path
) -> None:
    proc, run_id = _crashing_run(tmp_path, reconnect=60)
    own_server.stop_now()
    (tmp_path / "go").touch()  # the run ends (and writes) while the server is down
    time.sleep(1.5)
    assert proc.poll() is None  # still waiting for the server
    own_server.start()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "ended" in out, err
    assert "not recorded" not in err
    run = mlops.get_run(run_id)
    assert run.status is RunStatus.FINISHED
    assert run.params == {"a": 1} and run.metrics == {"acc": 0.9}


@pytest.mark.slow
def test_a_run_whose_end_never_reached_the_server_is_marked_interrupted(
    own_server: PGServer, tmp_path: Path
) -> None:
    proc, run_id = _crashing_run(tmp_path, reconnect=0.5)
    own_server.stop_now()
    (tmp_path / "go").touch()
    out, err = proc.communicate(timeout=120)
    # The process says so (once, without a traceback) and exits; the row still says running.
    assert proc.returncode == 0 and "ended" in out, err
    assert f"run {run_id[:8]} was not recorded" in err and "server is up" in err
    own_server.start()
    run = mlops.get_run(run_id)  # the first open after the outage sweeps dead processes' runs
    assert run.status is RunStatus.INTERRUPTED
    assert "store was unreachable" in (run.error or "")
    assert run.params == {"a": 1}  # what reached the server before the crash is kept


def test_a_store_error_mid_read_is_one_line(own_server: PGServer) -> None:
    store = open_store(os.environ["JUPYTER_MLOPS_STORE"])
    own_server.stop_now()
    try:
        with pytest.raises(StoreUnavailableError, match="server is up") as e:
            store.experiments()
        assert "\n" not in str(e.value)
    finally:
        own_server.start()
    assert store.experiments() == []  # a new connection once it is back


def test_runs_of_other_hosts_are_judged_by_their_heartbeat(pg_url: str) -> None:
    store = open_store(pg_url)
    now = time.time()
    for rid, beat in (("a" * 32, now - 5), ("b" * 32, now - 3600)):
        store.create_run(
            RunStart(rid, "h", RunKind.SCRIPT, beat, host="elsewhere", pid=1, pid_start="1")
        )
        store.heartbeat([rid], beat)
    assert store.mark_interrupted_runs() == ["b" * 32]
    assert store.get_run("a" * 32).status is RunStatus.RUNNING


# -- indexes --------------------------------------------------------------------------------------
def _fill(store: Any, n: int) -> dict[str, str]:
    """``n`` runs over 40 experiments; a handful of each selective value. Returns a parent id."""
    writes: list[Any] = []
    parent = "f" * 32
    for i in range(n):
        rid = f"{i:032x}"
        writes.append(
            RunStart(
                rid,
                f"exp{i % 40}",
                RunKind.CELL,
                1000.0 + i,
                parent_id=parent if i % 997 == 0 else None,
            )
        )
        rare = i % 499 == 0
        update = RunUpdate(
            params={"C": i % 5, "solver": "rare" if rare else "lbfgs", "i": i},
            metrics=[("acc", (i * 7919 % n) / n, 0, 1.0), ("loss", i / n, 0, 1.0)],
            tags={"team": "x" if rare else "y"},
            status=RunStatus.FAILED if i % 401 == 0 else RunStatus.FINISHED,
            ended=1001.0 + i,
            duration=1.0,
        )
        writes.append((rid, update))
    store.write_batch(writes)
    store._write(lambda c: c.execute("ANALYZE"))  # as autovacuum would, after a bulk load
    return {"parent": parent}


def test_common_filters_use_indexes_not_a_scan_of_runs(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(pg_url)
    ids = _fill(store, 5000)
    seen: list[tuple[str, tuple[Any, ...]]] = []
    execute = PgConnection.execute

    def record(self: PgConnection, sql: str, params: Any = ()) -> Any:
        seen.append((sql, tuple(params)))
        return execute(self, sql, params)

    queries: list[dict[str, Any]] = [
        {"experiment": "exp3"},
        {"limit": 50},
        {"where": "status == 'failed'"},
        {"where": "metrics.acc > 0.998"},
        {"where": "params.solver == 'rare'"},
        {"where": "tags.team == 'x'"},
        {"where": f"parent_id == '{ids['parent']}'"},
        {"order_by": "-metrics.acc", "limit": 10},
        {"experiment": "exp3", "where": "metrics.loss < 0.1", "order_by": "-started"},
    ]
    explained = 0
    for query in queries:
        seen.clear()
        monkeypatch.setattr(PgConnection, "execute", record)
        frame = store.runs_frame(**query)
        monkeypatch.setattr(PgConnection, "execute", execute)
        assert len(frame) > 0, query
        for sql, params in seen:
            if " runs " not in f"{sql} " or not sql.lstrip().upper().startswith("SELECT"):
                continue
            with store._read() as c:
                plan = "\n".join(r[0] for r in execute(c, "EXPLAIN " + sql, params).fetchall())
            assert "Seq Scan on runs" not in plan, (query, sql, plan[:2000])
            explained += 1
    assert explained >= 2 * len(queries)  # the id query and the listing of each, at least
