"""Running the app: ``serve`` starts uvicorn in this process (one worker) or uvicorn's worker
processes (``--workers N``), which rebuild the app from the environment."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable

from ..store.base import RunStore
from .options import OPTIONS_ENV, ServeOptions, check_options
from .telemetry import MULTIPROC_ENV


def reopenable(store: RunStore) -> str:
    """What ``open_store`` opens ``store`` again from: an embedded store's folder (its
    ``location`` is the database file), a server store's URL."""
    folder = getattr(store, "directory", None)
    return str(folder) if folder is not None else store.location


def _announce(line: str) -> None:
    print(line, flush=True)  # at once: a supervisor's log shows the address before any request


def serve(
    store: RunStore, options: ServeOptions, announce: Callable[[str], None] = _announce
) -> None:
    """Serve ``store``'s models until interrupted (Ctrl-C or SIGTERM: queued records are
    flushed, for up to ten seconds, before the process ends)."""
    import uvicorn

    check_options(options)
    scheme_host = f"http://{options.host}:{options.port}"
    names = ", ".join(options.names) or "every model with a blessed version"
    auth = "bearer token required" if options.token else "no token (loopback only)"
    announce(f"serving {names} at {scheme_host} ({options.workers} worker(s); {auth})")
    common = {
        "host": options.host,
        "port": options.port,
        "access_log": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": 15,
    }
    if options.workers == 1:
        from .app import create_app

        uvicorn.run(create_app(store, options), **common)  # type: ignore[arg-type]
        return
    folder = tempfile.mkdtemp(prefix="mlops-serve-metrics-")
    saved = {k: os.environ.get(k) for k in (OPTIONS_ENV, MULTIPROC_ENV, "JUPYTER_MLOPS_STORE")}
    os.environ.update(
        {
            OPTIONS_ENV: options.to_env(),
            MULTIPROC_ENV: folder,
            "JUPYTER_MLOPS_STORE": reopenable(store),
        }
    )
    try:
        uvicorn.run(
            "jupyter_mlops.serving.app:app_from_env",
            factory=True,
            workers=options.workers,
            **common,  # type: ignore[arg-type]
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(folder, ignore_errors=True)
