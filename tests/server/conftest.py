"""A real jupyter_server with the extension loaded, over a store holding real runs: script
runs made with the core API and two runs of a promoted pipeline (tests/notebooks/train_ok)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# pytest-jupyter registers no plugin entry point; its fixtures and async-test hooks come in here.
from pytest_jupyter.jupyter_server import *  # noqa: F403

import jupyter_mlops as mlops
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.runner import run_pipeline
from jupyter_mlops.store import close_stores
from jupyter_mlops.tracking import reset_default_tracker

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
GATES = [
    {"kind": "metric", "metric": "accuracy", "min": 0.8},
    {"kind": "row_count", "dataset": "train", "min": 100},
]


@dataclass
class Project:
    """Ids of what the template project holds."""

    script: list[str]  # experiment "exp-a": acc 0.1 … 0.6 by index, tag team=vision on odd ones
    failed: str
    other: str  # experiment "exp-b"
    pipeline: list[str]  # two finished runs of pipeline train_ok


def _build(root: Path) -> Project:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", root / "train_ok.ipynb")
    (root / "notes.txt").write_text("artifact body\n")
    script = []
    for i in range(6):
        tags = {"team": "vision"} if i % 2 else {"team": "tabular"}
        with mlops.start_run(experiment="exp-a", name=f"try-{i}", seed=i, tags=tags) as run:
            run.log_params({"C": 10.0**i, "solver": "lbfgs" if i < 3 else "saga"})
            for step in range(3):
                run.log_metric("loss", 1.0 / (i + step + 1), step=step)
            run.log_metric("acc", 0.1 * (i + 1))
            if i == 0:
                run.log_artifact(root / "notes.txt")
        script.append(run.id)
    try:
        with mlops.start_run(experiment="exp-a", name="broken", seed=None) as run:
            failed = run.id
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with mlops.start_run(experiment="exp-b", seed=None) as run:
        run.log_metric("acc", 0.99)
    promote(root / "train_ok.ipynb", gates=GATES, timeout="5m", schedule="0 3 * * *")
    first = run_pipeline("train_ok", progress=False, seed=1)
    second = run_pipeline("train_ok", {"C": "0.5"}, progress=False, seed=2)
    assert first.exit_code == 0 and second.exit_code == 0
    return Project(script, failed, run.id, [first.run.id, second.run.id])


@contextlib.contextmanager
def building_in(root: Path) -> Iterator[None]:
    """The default tracker writes to ``root/.mlops``, working in ``root``, for a fixture that
    builds a project there; the tracker and stores are let go after."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_MLOPS_STORE", str(root / ".mlops"))
        mp.chdir(root)
        reset_default_tracker()
        try:
            yield
        finally:
            reset_default_tracker()
            close_stores()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Project]:
    root = tmp_path_factory.mktemp("template")
    with building_in(root):
        project = _build(root)
    return root, project


@pytest.fixture
def project(template: tuple[Path, Project], tmp_path: Path, isolated_store: Path) -> Project:
    """A fresh copy of the template project in this test's tmp_path (its store included)."""
    src, ids = template
    close_stores()
    for item in src.iterdir():
        dest = tmp_path / item.name
        if item.is_dir():
            shutil.copytree(item, dest, dirs_exist_ok=True)
        else:
            shutil.copy2(item, dest)
    reset_default_tracker()
    return ids


@pytest.fixture
def jp_root_dir(tmp_path: Path, project: Project) -> Path:
    # The server's root is the project: its pipelines/ and .mlops/ are the ones above.
    return tmp_path


@pytest.fixture
def jp_server_config() -> dict:
    from traitlets.config import Config

    return Config({"ServerApp": {"jpserver_extensions": {"jupyter_mlops.server": True}}})


@pytest.fixture
def api(jp_fetch):
    """``await api("runs", params={...})`` → (status, parsed JSON) without raising on errors."""
    import json

    async def call(*parts: str, method: str = "GET", body=None, params=None, **kw):
        kw.setdefault("raise_error", False)
        if method == "POST":
            kw["body"] = json.dumps(body or {})
        resp = await jp_fetch("jupyter-mlops", "api", *parts, method=method, params=params, **kw)
        text = resp.body.decode()
        return resp.code, (
            json.loads(text)
            if text and resp.headers.get("Content-Type", "").startswith("application/json")
            else text
        )

    return call


def env_store() -> str:
    return os.environ["JUPYTER_MLOPS_STORE"]
