"""`jupyter-mlops store info` and `jupyter-mlops store migrate`: what they print, their exit
codes, and their one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.store import open_store, schema
from jupyter_mlops.store.sql import SQLStore
from jupyter_mlops.tracking import reset_default_tracker

from .conftest import STORE_BACKENDS, store_location
from .monitoring.helpers import Threshold, register

TARGET_BACKENDS = STORE_BACKENDS  # extended with the PostgreSQL store at merge


@pytest.fixture
def local() -> mlops.Tracker:
    """The tracker of the test's own embedded store: the local store a migration copies."""
    return mlops.default_tracker()


@pytest.fixture(params=TARGET_BACKENDS)
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_location(request.param, tmp_path / "team", request)


def _record(tracker: mlops.Tracker) -> list[str]:
    ids = []
    for i in range(3):
        with tracker.start_run(experiment=f"e{i % 2}", params={"i": i}) as run:
            run.log_metrics({"loss": 1.0 / (i + 1)}, step=i)
            run.log_bytes(f"blob {i}".encode(), "out.bin")
        ids.append(run.id)
    register(tracker, "churn", Threshold())
    return ids


def test_store_info_prints_backend_location_counts_and_sizes(
    tracker: mlops.Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    _record(tracker)
    assert main(["store", "info", "--json"]) == EXIT_OK
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] == tracker.store.dialect.name  # type: ignore[attr-defined]
    assert info["location"] == tracker.store.location
    assert info["schema_version"] == schema.SCHEMA_VERSION
    assert (info["runs"], info["running_runs"], info["experiments"]) == (4, 0, 3)
    assert (info["pipelines"], info["model_versions"]) == (0, 1)
    blobs = {a.sha256: a.size for r in mlops.runs()["id"] for a in mlops.get_run(r).artifacts}
    assert info["artifact_count"] == len(blobs) and info["artifact_bytes"] == sum(blobs.values())
    assert info["database_bytes"] is None or info["database_bytes"] > 0
    assert main(["store", "info"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "schema version  " + str(schema.SCHEMA_VERSION) in out
    assert "runs            4 (0 running)" in out and tracker.store.location in out


def test_store_info_without_a_store_is_one_line_and_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--store", str(tmp_path / "nowhere"), "store", "info"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no jupyter-mlops store at" in err
    assert not (tmp_path / "nowhere").exists()


def test_store_migrate_copies_verifies_and_is_idempotent(
    local: mlops.Tracker, target_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _record(local)
    assert main(["store", "migrate", "--to", target_url, "--batch", "2"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "migrate: runs 4/4" in err  # progress goes to stderr
    assert re.search(r"^runs +4 +4 +0 +0 +0 +4$", out, re.M)
    assert "verification (row counts, artifact hashes): ok" in out
    assert main(["store", "migrate", "--to", target_url, "--json", "-q"]) == EXIT_OK
    out, err = capsys.readouterr()
    again = json.loads(out)
    assert again["rows_copied"] == 0 and again["artifacts_copied"] == 0 and again["ok"]
    assert err == ""
    reset_default_tracker()
    team = mlops.set_store(target_url)
    assert sorted(team.runs()["id"]) == sorted([*ids, ModelRegistry().get("churn@1").run_id])


def test_store_migrate_dry_run_writes_nothing(
    local: mlops.Tracker, target_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _record(local)
    assert main(["store", "migrate", "--to", target_url, "--dry-run", "-q"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "dry run: nothing was written" in out and "rows: " in out
    target = open_store(target_url)
    assert target.runs_frame().empty


def test_store_migrate_puts_artifacts_where_asked(
    local: mlops.Tracker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _record(local)
    blobs = tmp_path / "blobs"
    args = ["store", "migrate", "--to", str(tmp_path / "team"), "--artifacts", str(blobs), "-q"]
    assert main(args) == EXIT_OK
    shas = {a.sha256 for r in mlops.runs()["id"] for a in mlops.get_run(r).artifacts}
    assert {p.name for p in blobs.rglob("*") if p.is_file()} == shas
    out = capsys.readouterr().out
    assert "verification (row counts, artifact hashes): ok" in out
    assert f"artifacts are in {blobs}: set artifact_store" in out


def test_store_migrate_exits_1_when_the_copy_does_not_verify(
    local: mlops.Tracker, target_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _record(local)
    assert main(["store", "migrate", "--to", target_url, "-q"]) == EXIT_OK
    capsys.readouterr()
    target = open_store(target_url)
    art = target.get_run(ids[0]).artifacts[0]
    target.artifacts.resolve(art.uri).write_bytes(b"tampered")
    assert main(["store", "migrate", "--to", target_url, "-q"]) == EXIT_FAILED
    out, err = capsys.readouterr()
    assert "verification (row counts, artifact hashes): FAILED" in out
    assert err.count("\n") == 1
    assert f"artifact {art.sha256[:12]} does not match its sha256" in err


def test_store_migrate_errors_are_one_line(
    local: mlops.Tracker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _record(local)
    here = str(local.store.workdir)
    cases = [
        (["--to", "ftp://host/store"], EXIT_USAGE, "Unknown store URL scheme 'ftp'"),
        (["--to", here], EXIT_USAGE, "the same store"),
        (["--to", str(tmp_path / "t"), "--batch", "0"], EXIT_USAGE, "at least 1"),
        (["--to", "/dev/null/store"], EXIT_FAILED, "Cannot create the store directory"),
    ]
    newer = tmp_path / "newer"
    store = open_store(newer)
    assert isinstance(store, SQLStore)
    store._write(lambda c: c.execute("UPDATE schema_info SET version = 999"))
    cases.append((["--to", str(newer)], EXIT_FAILED, "schema version 999"))
    for args, code, message in cases:
        assert main(["store", "migrate", "-q", *args]) == code, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("jupyter-mlops: error: "), err
        assert message in err, err


def test_store_migrate_update_takes_the_sources_rows(
    local: mlops.Tracker, target_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _record(local)
    assert main(["store", "migrate", "--to", target_url, "-q"]) == EXIT_OK
    target = open_store(target_url)
    assert isinstance(target, SQLStore)
    target._write(lambda c: c.execute("UPDATE params SET value = '7' WHERE run_id = ?", (ids[0],)))
    capsys.readouterr()
    assert main(["store", "migrate", "--to", target_url, "-q"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "params: 1 row(s) differ" in err and "--update" in err
    assert main(["store", "migrate", "--to", target_url, "-q", "--update"]) == EXIT_OK
    assert "rows: 0 copied, 1 updated;" in capsys.readouterr().out
    assert target.get_run(ids[0]).params == {"i": 0}


def test_store_migrate_refuses_a_clashing_model_then_renames_it(
    local: mlops.Tracker, target_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _record(local)
    team = open_store(target_url)
    assert isinstance(team, SQLStore)
    # the team store already has someone else's churn@1
    assert main(["store", "migrate", "--to", target_url, "-q"]) == EXIT_OK
    team._write(lambda c: c.execute("UPDATE model_versions SET run_id = 'another run'"))
    capsys.readouterr()
    assert main(["store", "migrate", "--to", target_url, "-q"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already has model(s) churn with other versions" in err
    assert "--rename-model churn=NEW_NAME" in err
    args = ["store", "migrate", "--to", target_url, "-q", "--rename-model", "churn=churn_local"]
    assert main(args) == EXIT_OK
    assert [v.version for v in ModelRegistry(team).versions("churn_local")] == [1]
    assert main(args) == EXIT_OK and "rows: 0 copied;" in capsys.readouterr().out
    assert main([*args[:-1], "churn"]) == EXIT_USAGE
    assert "--rename-model takes OLD=NEW" in capsys.readouterr().err
