"""Aliases, tags and descriptions of model versions on every backend, each change an event;
``NAME@ALIAS`` wherever ``NAME@VERSION`` works; a bless of a version whose gates failed is
refused unless overridden with a reason; and a store at the previous schema version migrates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jupyter_mlops as mlops
from jupyter_mlops.entities import GateResult, GateStatus, ModelStage
from jupyter_mlops.exceptions import (
    FailedGatesError,
    ModelNotFoundError,
    NotFoundError,
    ValidationError,
)
from jupyter_mlops.model_metadata import MAX_TAGS, check_alias
from jupyter_mlops.registry import ModelRegistry, split_ref
from jupyter_mlops.store import RunStore, open_store, schema
from jupyter_mlops.store.dialect import SQLITE
from tests.store.test_registry_tables import _register


def _events(store: RunStore) -> list[tuple[int, str, str | None]]:
    return [(e.version, e.action, e.reason) for e in store.model_events("m")]


def test_an_alias_names_one_version_and_moves(store: RunStore) -> None:
    for i in range(3):
        _register(store, f"r{i}")
    registry = ModelRegistry(store)
    assert registry.set_alias("m@1", "champion").aliases == ("champion",)
    registry.set_alias("m@2", "challenger")
    assert registry.get("m@champion").version == 1
    # Set again: it moves, and the old version no longer carries it.
    moved = registry.set_alias("m@challenger", "champion")
    assert moved.version == 2 and moved.aliases == ("challenger", "champion")
    assert store.get_model("m", 1).aliases == ()
    assert {m.version: m.aliases for m in store.list_models("m")}[2] == ("challenger", "champion")
    assert registry.lookup("m@champion")[0].version == 2
    registry.set_alias("m@2", "champion")  # no change: no event
    assert _events(store)[-2:] == [
        (2, "alias", "challenger"),
        (2, "alias", "champion (moved from v1)"),
    ]
    # Removed, with a guard against removing an alias someone just moved.
    with pytest.raises(ValidationError, match="points at v2, not v1"):
        registry.delete_alias("m@1", "champion")
    assert registry.delete_alias("m", "champion") == 2
    assert _events(store)[-1] == (2, "unalias", "champion")
    with pytest.raises(ModelNotFoundError, match="no alias 'champion' .*aliases: challenger"):
        registry.get("m@champion")
    with pytest.raises(ModelNotFoundError, match="No model named 'nope'"):
        registry.get("nope@champion")
    with pytest.raises(ModelNotFoundError, match="no version 9"):
        registry.set_alias("m@9", "champion")


def test_tags_and_description_are_set_deleted_and_recorded(store: RunStore) -> None:
    _register(store)
    registry = ModelRegistry(store)
    m = registry.set_tags("m@1", {"owner": "ana", "data/split": "2026-q4"})
    assert m.tags == {"data/split": "2026-q4", "owner": "ana"}
    assert registry.set_tags("m@1", {"owner": "bob"}).tags["owner"] == "bob"
    assert registry.delete_tags("m@1", ["data/split"]).tags == {"owner": "bob"}
    with pytest.raises(NotFoundError, match="no tag 'team' .*tags: owner"):
        registry.delete_tags("m@1", ["team"])
    text = "Trained on the Q4 data.\nBeats v0 on recall."
    assert registry.describe("m@1", text).description == text
    assert store.list_models("m")[0].description == text
    assert registry.describe("m@1", "  ").description is None  # blank clears
    assert [e[1:] for e in _events(store)[1:]] == [
        ("tag", "data/split=2026-q4, owner=ana"),
        ("tag", "owner=bob"),
        ("untag", "data/split"),
        ("describe", text),
        ("describe", "(description cleared)"),
    ]
    # Bounded: no more than MAX_TAGS per version, however they arrive.
    registry.set_tags("m@1", {f"k{i}": "v" for i in range(MAX_TAGS - 1)})
    with pytest.raises(ValidationError, match=f"the limit is {MAX_TAGS}"):
        registry.set_tags("m@1", {"one": "more", "and": "another"})


def test_a_gate_failed_version_is_blessed_only_when_overridden_with_a_reason(
    store: RunStore,
) -> None:
    _register(store, "passed")
    _register(store, "failed")
    store.save_gate_results(
        "passed", [GateResult("metric:accuracy", "metric", GateStatus.PASS, 0.9, ">= 0.8")]
    )
    store.save_gate_results(
        "failed",
        [
            GateResult("metric:accuracy", "metric", GateStatus.FAIL, 0.61, ">= 0.8"),
            GateResult("latency", "meta", GateStatus.WARN, 12.0, "<= 10"),
        ],
    )
    registry = ModelRegistry(store)
    assert [g.gate for g in registry.failed_gates("m", 2)] == ["metric:accuracy"]
    assert registry.failed_gates("m", 1) == []
    registry.bless("m@1")
    with pytest.raises(FailedGatesError) as refused:
        registry.bless("m@2", "looks fine")
    message = str(refused.value)
    assert "\n" not in message
    assert "m@2 failed its gates: metric:accuracy 0.61 (needs >= 0.8)" in message
    assert "--override-gates" in message
    with pytest.raises(ValidationError, match="say why"):
        registry.bless("m@2", override_gates=True)
    assert store.get_model("m").version == 1
    blessed = registry.bless("m@2", "the gate's data was stale", override_gates=True)
    assert blessed.stage is ModelStage.BLESSED
    assert _events(store)[-1] == (
        2,
        "bless",
        "the gate's data was stale [gates overridden: m@2 failed its gates: metric:accuracy 0.61"
        " (needs >= 0.8)]",
    )


def test_a_version_logged_by_a_child_run_is_judged_by_its_parents_gates(store: RunStore) -> None:
    tracker = mlops.default_tracker()
    with tracker.start_run(experiment="p", seed=None) as parent:  # noqa: SIM117 (needs parent.id)
        with tracker.start_run(experiment="p", seed=None, parent_id=parent.id) as child:
            pass
    tracker.flush()
    store.register_model("m", child.id, "artifacts/x", "0" * 64, 1, {}, [], None)
    store.save_gate_results(
        parent.id, [GateResult("rows", "row_count", GateStatus.FAIL, 50, ">= 100")]
    )
    assert [g.gate for g in ModelRegistry(store).failed_gates("m", 1)] == ["rows"]
    # The version's own run ran gates too: those judge it, not the parent's.
    store.save_gate_results(
        child.id, [GateResult("rows", "row_count", GateStatus.PASS, 500, ">= 100")]
    )
    assert ModelRegistry(store).failed_gates("m", 1) == []


def test_an_alias_can_never_be_read_as_a_version() -> None:
    assert split_ref("m@12") == ("m", 12)
    assert split_ref("m@champion") == ("m", "champion")
    for bad in ("12", "v3", "V12", "latest", "-x", "a b", "é", "x" * 65, "", "1e3", "0x1"):
        with pytest.raises(ValidationError):
            check_alias(bad)
    for bad_ref in ("m@", "@3", "m@v3", "m@a b", "m@99999999999999"):
        with pytest.raises(ValidationError):
            split_ref(bad_ref)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(max_size=80))
def test_any_alias_text_is_accepted_or_refused_in_one_line(text: str) -> None:
    try:
        alias = check_alias(text)
    except ValidationError as e:
        assert "\n" not in str(e)
        return
    assert not alias.isdigit() and not alias[0].isdigit() and len(alias) <= 64
    assert split_ref(f"m@{alias}") == ("m", alias)


def _store_at_version_10(path: Path) -> None:
    """A real SQLite store file as jupyter-mlops wrote it before this schema change: version
    10, with a registered model, a bless and its events."""
    path.mkdir()
    con = sqlite3.connect(path / "mlops.db")
    for stmt in schema.render(SQLITE.types):
        con.execute(stmt)
    for version in range(1, 10):
        for stmt in schema.render_migration(version, SQLITE.types):
            con.execute(stmt)
    con.execute("INSERT INTO schema_info (version) VALUES (10)")
    con.execute(
        "INSERT INTO model_versions (name, version, run_id, artifact_uri, artifact_sha, size,"
        " stage, created, updated, metrics, data, pipeline) VALUES ('old', 1, 'aaaa1111',"
        " 'artifacts/x', ?, 1, 'blessed', 1.0, 2.0, '{\"acc\": 0.9}', '[]', NULL)",
        ("0" * 64,),
    )
    con.execute(
        "INSERT INTO model_events (name, version, action, actor, reason, time) VALUES"
        " ('old', 1, 'bless', 'ana', 'first', 2.0)"
    )
    con.commit()
    con.close()


def test_a_store_at_the_previous_schema_version_migrates(tmp_path: Path) -> None:
    assert schema.SCHEMA_VERSION >= 11  # this test builds a store at version 10
    path = tmp_path / "v10"
    _store_at_version_10(path)
    store = open_store(path)
    old = store.get_model("old")
    assert (old.version, old.metrics, old.description, old.aliases, old.tags) == (
        1, {"acc": 0.9}, None, (), {}
    )  # fmt: skip
    registry = ModelRegistry(store)
    registry.set_alias("old@1", "champion")
    registry.set_tags("old@champion", {"owner": "ana"})
    assert registry.describe("old@champion", "kept from v10").tags == {"owner": "ana"}
    assert [e.action for e in store.model_events("old")] == ["bless", "alias", "tag", "describe"]
    con = sqlite3.connect(path / "mlops.db")
    assert con.execute("SELECT version FROM schema_info").fetchone()[0] == schema.SCHEMA_VERSION
    con.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    key=st.text(max_size=140),
    value=st.text(max_size=1100),
    text=st.text(max_size=200) | st.text(min_size=4990, max_size=5010),
)
def test_any_tag_or_description_is_stored_exactly_or_refused_in_one_line(
    store: RunStore, key: str, value: str, text: str
) -> None:
    """Whatever text arrives (NUL, lone surrogates, newlines, over-long), the store keeps it
    exactly or refuses it with one line; a database error is never what the caller sees."""
    if not store.list_models("m"):
        _register(store)
    registry = ModelRegistry(store)
    try:
        tags = registry.set_tags("m@1", {key: value}).tags
    except ValidationError as e:
        assert "\n" not in str(e)
    else:
        assert tags[key] == value
        registry.delete_tags("m@1", [key])
    try:
        described = registry.describe("m@1", text).description
    except ValidationError as e:
        assert "\n" not in str(e)
    else:
        assert described == (text if text.strip() else None)
