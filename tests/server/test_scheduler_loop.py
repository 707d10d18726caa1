"""The embedded scheduler inside the server: off by default, on with
``c.JupyterMLOps.scheduler = True``, started and stopped with the server."""

from __future__ import annotations

import asyncio
import threading

import pytest

from jupyter_mlops.server.loop import THREAD_NAME
from jupyter_mlops.store import open_store

pytestmark = pytest.mark.usefixtures("project")


def _loops() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


@pytest.fixture
def jp_server_config(request: pytest.FixtureRequest) -> dict:
    from traitlets.config import Config

    config = {"ServerApp": {"jpserver_extensions": {"jupyter_mlops.server": True}}}
    if getattr(request, "param", False):
        config["JupyterMLOps"] = {"scheduler": True, "scheduler_poll": 0.1}
    return Config(config)


@pytest.mark.parametrize("jp_server_config", [True], indirect=True)
async def test_the_loop_starts_and_stops_with_the_server(
    jp_serverapp, isolated_store, tmp_path
) -> None:
    loop = jp_serverapp.web_app.settings["jupyter_mlops_scheduler"]
    assert loop is not None and _loops() == [loop.thread]
    # A scheduled monitor in the project's monitors/ (beside pipelines/) is picked up too.
    (tmp_path / "monitors").mkdir(exist_ok=True)
    (tmp_path / "monitors" / "nightly.yaml").write_text('schedule: "0 0 * * *"\n')
    store = open_store(str(isolated_store))
    wanted = {"train_ok", "monitor:nightly"}
    for _ in range(300):  # its first tick records what is scheduled as first seen
        if wanted <= set(store.schedule_state()):
            break
        await asyncio.sleep(0.1)
    assert wanted <= set(store.schedule_state())
    await jp_serverapp.cleanup_extensions()  # what every server shutdown awaits
    assert not loop.thread.is_alive() and _loops() == []


async def test_the_loop_is_off_by_default(jp_serverapp) -> None:
    assert jp_serverapp.web_app.settings["jupyter_mlops_scheduler"] is None
    assert _loops() == []
