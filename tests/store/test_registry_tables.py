"""The model registry's tables on every backend: versions numbered without gaps or twins, one
blessed version at a time, rollback along the blessing history; and the same under processes
racing each other (a file lock on SQLite, transactions and row locks on PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from jupyter_mlops.entities import ModelStage
from jupyter_mlops.exceptions import ModelNotFoundError, ValidationError
from jupyter_mlops.store import RunStore
from tests.conftest import PYTHON, python_env


def _register(store: RunStore, run: str = "r") -> int:
    return store.register_model(
        "m", run, "artifacts/x", "0" * 64, 1, {"acc": 1.0}, [], None
    ).version


def test_versions_bless_and_rollback(store: RunStore) -> None:
    assert [_register(store, f"r{i}") for i in range(3)] == [1, 2, 3]
    store.bless_model("m", 1, actor="ann")
    store.bless_model("m", 2, actor="bob")
    assert store.get_model("m").version == 2
    assert store.get_model("m", 1).stage is ModelStage.ARCHIVED
    old, new = store.rollback_model("m", reason="bad")
    assert (old.version, new.version) == (2, 1)
    assert [(e.version, e.action, e.actor) for e in store.model_events("m")][3:] == [
        (1, "bless", "ann"),
        (1, "archive", "bob"),  # blessing 2 archived 1, in the same transaction
        (2, "bless", "bob"),
        (2, "archive", None),
        (1, "rollback", None),
        (1, "pin", None),  # every rollback pins (tests/store/test_model_pins.py)
    ]
    stages = {m.version: m.stage for m in store.list_models("m")}
    assert stages == {1: ModelStage.BLESSED, 2: ModelStage.ARCHIVED, 3: ModelStage.CANDIDATE}
    with pytest.raises(ValidationError, match="blessed version"):
        store.set_model_stage("m", 1, "shadow")
    with pytest.raises(ModelNotFoundError, match="no version 9"):
        store.get_model("m", 9)


RACER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from jupyter_mlops.store import open_store
    store = open_store(sys.argv[1])
    action, arg, ready = sys.argv[2:5]
    Path(ready).touch()
    while not Path("go").exists():
        time.sleep(0.001)
    if action == "register":
        for i in range(int(arg)):
            store.register_model("m", f"r{i}", "artifacts/x", "0" * 64, 1, {}, [], None)
    elif action == "offer":  # what pipeline runs do: bless each new version unless pinned
        for v in arg.split(","):
            store.offer_model("m", int(v))
    elif action == "pin":  # once the offers are under way: at whatever is blessed then
        while sum(e.action == "bless" for e in store.model_events("m")) < int(arg):
            time.sleep(0.001)
        store.pin_model("m", reason="race")
    else:
        for _ in range(15):
            store.bless_model("m", int(arg))
""")


def _race(tmp_path: Path, jobs: list[tuple[str, str]]) -> None:
    (tmp_path / "racer.py").write_text(RACER)
    location = os.environ["JUPYTER_MLOPS_STORE"]
    procs = [
        subprocess.Popen(
            [PYTHON, "racer.py", location, action, arg, f"ready{i}"],
            cwd=tmp_path,
            env=python_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, (action, arg) in enumerate(jobs)
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{i}").exists() for i in range(len(jobs))):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.05)
    (tmp_path / "go").touch()
    errors = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(jobs), errors


@pytest.mark.slow
def test_processes_registering_at_once_get_distinct_versions(
    store: RunStore, tmp_path: Path
) -> None:
    _race(tmp_path, [("register", "10")] * 4)
    assert [m.version for m in store.list_models("m")] == list(range(1, 41))


@pytest.mark.slow
def test_processes_blessing_at_once_leave_exactly_one_blessed(
    store: RunStore, tmp_path: Path
) -> None:
    for i in range(4):
        _register(store, f"r{i}")
    store.bless_model("m", 1)
    _race(tmp_path, [("bless", str(v)) for v in (1, 2, 3, 4)])
    blessed = [m.version for m in store.list_models("m") if m.stage is ModelStage.BLESSED]
    assert len(blessed) == 1
    # Every blessing archived the one before it: the history replays to the same state.
    current = 1
    for e in store.model_events("m"):
        if e.action == "archive":
            assert e.version == current
        elif e.action == "bless":
            current = e.version
    assert current == blessed[0]
