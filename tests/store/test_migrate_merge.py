"""`migrate_store` into a team store several local stores go into: each one's logs (metrics,
model and monitor events, schedule log, monitor batches) join the others' under the target's
ids, both copies verify and stay idempotent and resumable, and a clashing model or pipeline is
refused before anything is copied."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.store.migrate import migrate_store, schema_tables
from jupyter_mlops.store.sql import SQLStore
from tests.conftest import STORE_BACKENDS

from .migration_data import Populated, populate, write_many_runs
from .test_migrate import empty_store, migrate_until_killed, table_rows


@pytest.fixture(params=STORE_BACKENDS)
def team(request: pytest.FixtureRequest, tmp_path: Path) -> SQLStore:
    return empty_store(request, tmp_path / "team")


def local_store(shell: Any, directory: Path, model: str) -> Populated:
    """A person's own local store in ``directory``, with one of everything (model ``model``)."""
    mlops.set_store(str(directory))
    tracker = mlops.default_tracker()
    data = populate(shell, tracker, model=model)
    data.live.end()
    tracker.flush()
    return data


def run_ids(store: SQLStore) -> set[str]:
    with store._read() as conn:
        return {r[0] for r in conn.execute("SELECT id FROM runs")}


def curves(store: SQLStore, runs: set[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every metric row of ``runs``, per run in insertion (id) order, without the ids."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store._read() as conn:
        sql = "SELECT run_id, key, step, value, time FROM metrics ORDER BY run_id, id"
        for row in conn.execute(sql):
            if row[0] in runs:
                out.setdefault(row[0], []).append(tuple(row))
    return out


def counts(store: SQLStore) -> dict[str, int]:
    return {t.name: len(table_rows(store, t)) for t in schema_tables()}


def assert_holds(team: SQLStore, data: Populated) -> None:
    """``team`` holds everything of ``data``'s store, each log as it was there."""
    src, name = data.store, data.model
    runs = run_ids(src)
    assert runs <= run_ids(team)
    assert curves(team, runs) == curves(src, runs)
    pd.testing.assert_frame_equal(
        team.metric_history(data.script_run), src.metric_history(data.script_run)
    )
    assert ModelRegistry(team).events(name) == ModelRegistry(src).events(name)
    assert team.schedule_log(name) == src.schedule_log(name)
    assert team.monitor_batches(name) == src.monitor_batches(name)
    assert team.monitor_events(name) == src.monitor_events(name)
    assert team.labelled_predictions(name) == src.labelled_predictions(name)
    assert team.gate_results(data.pipeline_run) == src.gate_results(data.pipeline_run)


def test_two_local_stores_merge_into_one_team_store(
    shell: Any, tmp_path: Path, team: SQLStore
) -> None:
    ana = local_store(shell, tmp_path / "ana", "churn")
    ben = local_store(shell, tmp_path / "ben", "fraud")
    first = migrate_store(ana.store, team, batch=7)
    second = migrate_store(ben.store, team, batch=7)
    for report in (first, second):
        assert report.ok and report.verified, report.problems
    # ben's logs were all copied next to ana's, renumbered by the team store
    logs = {t.name: t for t in second.tables if t.name in ("metrics", "model_events")}
    assert all(t.copied == t.source_rows > 0 and t.skipped == 0 for t in logs.values())
    assert run_ids(team) == run_ids(ana.store) | run_ids(ben.store)
    assert len(run_ids(team)) == len(run_ids(ana.store)) + len(run_ids(ben.store))
    assert_holds(team, ana)
    assert_holds(team, ben)
    assert {p.name for p in team.list_pipelines()} == {"churn", "fraud"}
    # the same experiment names ("cells", "script", "live") in both: one row each, no conflict
    experiments = {t.name: t for t in second.tables}["experiments"]
    assert experiments.skipped == 3 and experiments.differing == 0

    for data in (ana, ben):  # again, in any order: nothing to copy, still verified
        again = migrate_store(data.store, team)
        assert again.rows_copied == 0 and again.artifacts_copied == 0
        assert again.ok and again.verified, again.problems
    assert_holds(team, ana)
    assert_holds(team, ben)


def test_a_killed_second_merge_resumes(shell: Any, tmp_path: Path, team: SQLStore) -> None:
    ana = local_store(shell, tmp_path / "ana", "churn")
    ben = local_store(shell, tmp_path / "ben", "fraud")
    write_many_runs(ben.store, 1000)
    assert migrate_store(ana.store, team).ok
    before = counts(team)
    ben_metrics = counts(ben.store)["metrics"]
    migrate_until_killed(ben.store, team, "metrics", 1500)
    partial = counts(team)["metrics"] - before["metrics"]
    assert 1500 <= partial < ben_metrics  # whole batches, committed before the kill

    resumed = migrate_store(ben.store, team, batch=50)
    assert resumed.ok and resumed.verified, resumed.problems
    metrics = {t.name: t for t in resumed.tables}["metrics"]
    assert (metrics.skipped, metrics.copied) == (partial, ben_metrics - partial)
    assert counts(team)["metrics"] == before["metrics"] + ben_metrics
    assert_holds(team, ana)
    assert_holds(team, ben)
    assert migrate_store(ben.store, team).rows_copied == 0


def test_a_clashing_model_is_refused_before_anything_is_copied(
    shell: Any, tmp_path: Path, team: SQLStore
) -> None:
    ana = local_store(shell, tmp_path / "ana", "churn")
    assert migrate_store(ana.store, team).ok
    cleo = local_store(shell, tmp_path / "cleo", "churn")  # her own churn@1 and churn@2
    before = {t.name: table_rows(team, t) for t in schema_tables()}
    blobs = sorted((team.workdir / "artifacts").rglob("*"))
    with pytest.raises(ValidationError) as refused:
        migrate_store(cleo.store, team)
    message = str(refused.value)
    assert "\n" not in message
    assert "already has model(s) churn with other versions; nothing was copied" in message
    assert "--rename-model churn=NEW_NAME" in message
    assert {t.name: table_rows(team, t) for t in schema_tables()} == before
    assert sorted((team.workdir / "artifacts").rglob("*")) == blobs

    # under another name, her model joins ana's; the pipeline "churn" has the same spec in
    # both stores, so it is one pipeline
    report = migrate_store(cleo.store, team, rename_models={"churn": "churn_cleo"})
    assert report.ok and report.verified, report.problems
    renamed = ModelRegistry(team).events("churn_cleo")
    assert renamed == [
        replace(e, name="churn_cleo") for e in ModelRegistry(cleo.store).events("churn")
    ]
    assert ModelRegistry(team).events("churn") == ModelRegistry(ana.store).events("churn")
    assert team.monitor_batches("churn_cleo") == [
        replace(b, name="churn_cleo") for b in cleo.store.monitor_batches("churn")
    ]
    again = migrate_store(cleo.store, team, rename_models={"churn": "churn_cleo"})
    assert again.rows_copied == 0 and again.ok
    with pytest.raises(ValidationError, match="names no model of the source: nope"):
        migrate_store(cleo.store, team, rename_models={"nope": "x"})


def test_a_pipeline_with_another_spec_is_refused(
    shell: Any, tmp_path: Path, team: SQLStore
) -> None:
    ana = local_store(shell, tmp_path / "ana", "churn")
    assert migrate_store(ana.store, team).ok
    mlops.set_store(str(tmp_path / "dan"))
    dan = mlops.default_tracker().store
    assert isinstance(dan, SQLStore)
    dan.save_pipeline("churn", {"notebook": "mine.ipynb"}, "mine.ipynb", "cd34", None)
    with pytest.raises(ValidationError, match=r"pipeline\(s\) churn with another spec") as e:
        migrate_store(dan, team)
    assert "\n" not in str(e.value)
    assert [p.notebook for p in team.list_pipelines()] == ["train.ipynb"]
