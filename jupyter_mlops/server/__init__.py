"""Jupyter server extension: an authenticated REST API over the store, under
``{base_url}/jupyter-mlops/api/``. Enabled on install by
``etc/jupyter/jupyter_server_config.d/jupyter_mlops.json``. With ``c.JupyterMLOps.scheduler =
True`` it also runs the embedded scheduler in a background thread (:mod:`.loop`).

The handlers (:mod:`.handlers`) only parse a request, make one core call
(:mod:`jupyter_mlops.views`) off the event loop, and write its value as JSON (what
``jupyter-mlops … --json`` prints).
"""

from __future__ import annotations

from typing import Any

API_PREFIX = "jupyter-mlops/api"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyter_mlops.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from pathlib import Path

    from .handlers import ServerContext, route_table

    web_app = serverapp.web_app
    context = ServerContext(Path(serverapp.root_dir))
    web_app.settings["jupyter_mlops"] = context
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(".*$", route_table(base_url, API_PREFIX))
    serverapp.log.info(
        "jupyter-mlops: REST API at %s%s/ (store %s)", base_url, API_PREFIX, context.settings.store
    )
    from .events import start_live
    from .loop import JupyterMLOps, on_server_cleanup, start_loop

    on_server_cleanup(serverapp, context.close)
    # Live updates (GET events) and the panel's first page, prefetched now in the background;
    # the event streams end first, so the server's shutdown never waits on one.
    live = start_live(serverapp, context, JupyterMLOps(config=serverapp.config))
    on_server_cleanup(serverapp, live.hub.close, first=True)
    # The embedded scheduler, when switched on (off by default); it stops before the pool.
    web_app.settings["jupyter_mlops_scheduler"] = start_loop(serverapp, context)


# The name jupyter_server's older loaders look for.
load_jupyter_server_extension = _load_jupyter_server_extension

__all__ = ["API_PREFIX", "load_jupyter_server_extension"]
