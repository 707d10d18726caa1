"""The embedded scheduler inside the server: off by default, on with
``c.JupyterMLOps.scheduler = True``, started and stopped with the server."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from jupyter_mlops.entities import NotificationStatus
from jupyter_mlops.pipeline.notify import queue_notification
from jupyter_mlops.pipeline.spec import NotifySpec
from jupyter_mlops.server.loop import NOTIFY_THREAD_NAME, THREAD_NAME
from jupyter_mlops.store import open_store
from tests.webhooks import receiver

pytestmark = pytest.mark.usefixtures("project")


def _loops() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


@pytest.fixture
def jp_server_config(request: pytest.FixtureRequest) -> dict:
    from traitlets.config import Config

    config = {"ServerApp": {"jpserver_extensions": {"jupyter_mlops.server": True}}}
    param = getattr(request, "param", False)
    if param == "notify":  # the scheduler off: the server's own notification sender
        config["JupyterMLOps"] = {"notify_poll": 0.1}
    elif param:
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


@pytest.mark.parametrize("jp_server_config", [True, "notify"], indirect=True)
async def test_the_server_delivers_the_notification_outbox(
    jp_serverapp, isolated_store, jp_server_config
) -> None:
    """A notification queued by a run the panel started (or left by a CLI command) is sent by
    the server: by its scheduler between firings, or by its sender thread without one."""
    scheduler = jp_serverapp.web_app.settings["jupyter_mlops_scheduler"]
    sender = jp_serverapp.web_app.settings.get("jupyter_mlops_notify")
    assert (scheduler is None) == (sender is not None)  # one or the other delivers
    store = open_store(str(isolated_store))
    with receiver() as hook:
        target = NotifySpec(webhook=hook.url)
        (queued,) = queue_notification(store, target, "failure", {"run_id": "x"}, time.time())
        for _ in range(1200):
            if store.notifications(NotificationStatus.DELIVERED):
                break
            await asyncio.sleep(0.1)
        assert hook.answered == [queued.id]
        assert [n.id for n in store.notifications(NotificationStatus.DELIVERED)] == [queued.id]
    await jp_serverapp.cleanup_extensions()
    threads = [t for t in threading.enumerate() if t.name in (THREAD_NAME, NOTIFY_THREAD_NAME)]
    assert [t for t in threads if t.is_alive()] == []
