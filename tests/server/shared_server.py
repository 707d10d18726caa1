"""One Jupyter server per test module, for the modules whose tests do not change the server's
settings: ``from tests.server.shared_server import *`` there overrides pytest-jupyter's
per-test fixtures (a new ServerApp, HTTP server, client and event loop for every test) with
module-scoped ones of the same names, so the tests keep using ``jp_fetch``/``api`` as they are.

Each test still gets a fresh copy of the module's project (``server_template``) in the
server's root, and after it the server's store connections and worker threads are let go, so
what one test writes or plants is not seen by the next."""

from __future__ import annotations

import os
import shutil
import urllib.parse
from binascii import hexlify
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import jupyter_core.paths
import pytest
import tornado.httpserver
import tornado.testing
from jupyter_core.utils import ensure_event_loop
from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import url_path_join
from pytest_jupyter.pytest_tornasync import AsyncHTTPServerClient
from tornado.escape import url_escape
from traitlets.config import Config

from jupyter_mlops.server.handlers import ServerContext
from jupyter_mlops.store import close_stores
from jupyter_mlops.tracking import reset_default_tracker
from tests.server.conftest import Project


@pytest.fixture(scope="module")
def jp_asyncio_loop() -> Iterator[Any]:
    loop = ensure_event_loop(prefer_selector_loop=True)
    yield loop
    loop.close()


@pytest.fixture(scope="module", autouse=True)
def jp_server_cleanup(jp_asyncio_loop: Any) -> Iterator[None]:
    yield
    app = ServerApp.instance()
    try:
        jp_asyncio_loop.run_until_complete(app._cleanup())
    except (RuntimeError, SystemExit) as e:
        print("ignoring cleanup error", e)
    if hasattr(app, "kernel_manager"):
        app.kernel_manager.context.destroy()
    ServerApp.clear_instance()


@pytest.fixture(scope="module")
def server_template(template: tuple[Path, Project]) -> tuple[Path, Any]:
    """The folder each test's project is copied from, and what the tests learn about it."""
    return template


@pytest.fixture(scope="module")
def jp_root_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-root")


@pytest.fixture(scope="module")
def jp_base_url() -> str:
    return "/a%40b/"


@pytest.fixture(scope="module")
def http_server_port() -> Any:
    return tornado.testing.bind_unused_port()


def _isolate_jupyter(mp: pytest.MonkeyPatch, home: Path) -> None:
    """What pytest-jupyter's jp_environ does: no user or system Jupyter config is read."""
    for var, sub in (
        ("HOME", "home"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        mp.setenv(var, str(home / sub))
    for name in (
        "SYSTEM_JUPYTER_PATH",
        "ENV_JUPYTER_PATH",
        "SYSTEM_CONFIG_PATH",
        "ENV_CONFIG_PATH",
    ):
        (home / name).mkdir(exist_ok=True)
        mp.setattr(jupyter_core.paths, name, [str(home / name)])


@pytest.fixture(scope="module")
def jp_serverapp(
    jp_asyncio_loop: Any,
    jp_root_dir: Path,
    jp_base_url: str,
    http_server_port: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerApp]:
    with pytest.MonkeyPatch.context() as mp:
        _isolate_jupyter(mp, tmp_path_factory.mktemp("jupyter"))
        # The extension reads its settings (the store above all) once, when it loads.
        mp.setenv("JUPYTER_MLOPS_STORE", str(jp_root_dir / ".mlops"))
        ServerApp.clear_instance()
        config = Config({"ServerApp": {"jpserver_extensions": {"jupyter_mlops.server": True}}})
        config.NotebookNotary.db_file = ":memory:"
        # No notification sender: it keeps the store it opened at start, and each test replaces
        # the project's files under the server (it opened the first one's before its copy, under
        # load, and the handlers then read that empty store). tests/server/test_scheduler_loop.py
        # tests the sender, on a server of its own.
        config.JupyterMLOps.notify = False
        config.JupyterMLOps.prefetch = False  # the same: it would open the store at start
        config.IdentityProvider.token = hexlify(os.urandom(4)).decode("ascii")
        app = ServerApp.instance(
            log_level="DEBUG",
            port=http_server_port[-1],
            port_retries=0,
            open_browser=False,
            base_url=jp_base_url,
            config=config,
            allow_root=True,
            root_dir=str(jp_root_dir),
        )
        app.init_signal = lambda: None  # type: ignore[method-assign]

        async def initialize() -> None:
            app.initialize(argv=[], new_httpserver=False)

        jp_asyncio_loop.run_until_complete(initialize())
        app.log.propagate = True
        app.log.handlers = []
        app.start_app()
        yield app


@pytest.fixture(scope="module")
def http_server_client(
    jp_asyncio_loop: Any, http_server_port: Any, jp_serverapp: ServerApp
) -> Iterator[Any]:
    async def start() -> Any:
        server = tornado.httpserver.HTTPServer(jp_serverapp.web_app)
        server.add_socket(http_server_port[0])
        return server, AsyncHTTPServerClient(http_server=server)

    server, client = jp_asyncio_loop.run_until_complete(start())
    with closing(client):
        yield client
    server.stop()
    jp_asyncio_loop.run_until_complete(server.close_all_connections())
    http_server_port[0].close()


@pytest.fixture(scope="module")
def jp_auth_header(jp_serverapp: ServerApp) -> dict[str, str]:
    return {"Authorization": f"token {jp_serverapp.identity_provider.token}"}


@pytest.fixture(scope="module")
def jp_fetch(http_server_client: Any, jp_auth_header: dict[str, str], jp_base_url: str) -> Any:
    """pytest-jupyter's jp_fetch, over the module's server."""

    def fetch(*parts: str, headers: Any = None, params: Any = None, **kwargs: Any) -> Any:
        headers = dict(headers or {})
        url = url_path_join(jp_base_url, url_escape(url_path_join(*parts), plus=False))
        url += "?" + urllib.parse.urlencode(params or {})
        for key, value in jp_auth_header.items():
            headers.setdefault(key, value)
        timeout = kwargs.pop("request_timeout", 20)
        return http_server_client.fetch(url, headers=headers, request_timeout=timeout, **kwargs)

    return fetch


def _empty(folder: Path) -> None:
    for item in folder.iterdir():
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()


def _let_go(app: ServerApp) -> None:
    """End the extension's worker threads and close its store: the next test's project is a
    new copy, and a test leaves no thread behind."""
    context = app.web_app.settings["jupyter_mlops"]
    context.close()
    app.web_app.settings["jupyter_mlops"] = ServerContext(context.root, context.project)


@pytest.fixture
def project(
    server_template: tuple[Path, Any],
    jp_root_dir: Path,
    jp_serverapp: ServerApp,
    isolated_store: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    """A fresh copy of the module's project in the server's root, where the test works too."""
    src, ids = server_template
    close_stores()
    _empty(jp_root_dir)
    shutil.copytree(src, jp_root_dir, dirs_exist_ok=True, symlinks=True)
    monkeypatch.setenv("JUPYTER_MLOPS_STORE", str(jp_root_dir / ".mlops"))
    monkeypatch.chdir(jp_root_dir)
    reset_default_tracker()
    yield ids
    _let_go(jp_serverapp)
    reset_default_tracker()
    close_stores()


@pytest.fixture(autouse=True)
def _fresh_project(project: Any) -> None:
    """Every test of the module starts from the project, whether it names it or not."""


__all__ = [
    "_fresh_project",
    "http_server_client",
    "http_server_port",
    "jp_asyncio_loop",
    "jp_auth_header",
    "jp_base_url",
    "jp_fetch",
    "jp_root_dir",
    "jp_server_cleanup",
    "jp_serverapp",
    "project",
    "server_template",
]
