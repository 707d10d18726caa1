"""Live updates: the store's change marks, the change log's revisions, the one poller, and
``GET events`` / ``GET changes`` on a real server over HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.server.events import FIRST_PAGE, SETTINGS_KEY, EventHub, FirstPage
from jupyter_mlops.store.monitor_store import MonitorEvent
from jupyter_mlops.views.changes import ChangeKind, ChangeLog, changed_kinds, parse_revision
from tests.conftest import run_fresh

RECORD_RUN = (
    "import jupyter_mlops as mlops\n"
    "with mlops.start_run(experiment='live', name='from-elsewhere', seed=None) as r:\n"
    "    r.log_metric('acc', 0.5)\n"
    "print(r.id)\n"
)


# -- the store's marks and the change log (both backends) ----------------------------------------
def test_marks_see_runs_models_and_monitors_change(tracker) -> None:
    store = tracker.store
    before = store.change_marks()
    assert store.change_marks() == before  # nothing changed: the same marks
    with tracker.start_run(experiment="e", seed=None) as run:
        running = store.change_marks()
        assert changed_kinds(before, running) == [ChangeKind.RUNS]
        run.log_metric("acc", 0.9)
    ended = store.change_marks()
    assert changed_kinds(running, ended) == [ChangeKind.RUNS]  # it left the running runs
    version = store.register_model("clf", run.id, "uri", "0" * 64, 1, {}, [], None, "me")
    registered = store.change_marks()
    assert changed_kinds(ended, registered) == [ChangeKind.MODELS]
    ModelRegistry(store).bless(f"clf@{version.version}", reason="ok")
    assert changed_kinds(registered, store.change_marks()) == [ChangeKind.MODELS]
    marks = store.change_marks()
    store.log_monitor_event(MonitorEvent("clf", 1.0, "evaluation", "breach", {"psi": 0.4}))
    assert changed_kinds(marks, store.change_marks()) == [ChangeKind.MONITORS]


def test_a_pipeline_run_is_a_pipelines_change_too() -> None:
    old = {"runs": ((("a", "cell", 1.0),), ())}
    new = {"runs": ((("b", "pipeline", 2.0),), (("b", "pipeline"),))}
    assert changed_kinds(old, new) == [ChangeKind.RUNS, ChangeKind.PIPELINES]
    assert changed_kinds(None, new) == list(ChangeKind)  # the store appeared
    assert changed_kinds(None, None) == []


def test_revisions_number_changes_and_answer_since() -> None:
    log = ChangeLog(clock=lambda: 1000.0, history=3)
    first = log.revision
    assert first == 1_000_000
    assert log.observe({"models": 1}) is None  # the first look is the baseline
    assert log.since(first).kinds == []
    change = log.observe({"models": 2})
    assert change is not None and (change.revision, change.since) == (first + 1, first)
    assert change.kinds == [ChangeKind.MODELS]
    assert log.observe({"models": 2}) is None
    log.observe({"models": 2, "monitors": 1})
    assert log.since(first).kinds == [ChangeKind.MODELS, ChangeKind.MONITORS]
    assert log.since(first + 1).kinds == [ChangeKind.MONITORS]
    assert log.since(first + 2).kinds == []
    # Unknown revisions (none, an earlier server's, a later one) get every kind, never nothing.
    for since in (None, first - 5, first + 99):
        assert log.since(since).kinds == list(ChangeKind)
    for i in range(3):  # the log keeps 3 changes: the first one is let go
        log.observe({"models": 10 + i})
    assert log.since(first).kinds == list(ChangeKind)
    assert log.since(log.revision - 1).kinds == [ChangeKind.MODELS]


@pytest.mark.parametrize("bad", ["x", "-1", "1.5", "9" * 30, " 1"])
def test_a_bad_since_is_a_validation_error(bad: str) -> None:
    with pytest.raises(ValidationError, match="since must be a revision"):
        parse_revision(bad)
    assert parse_revision("") is None and parse_revision("42") == 42


async def test_the_poller_looks_once_per_tick_and_stops_without_listeners(
    jp_serverapp, project
) -> None:
    """The hub's one poller with an injected sleep: each tick is released by the test."""
    ticks: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(_: float) -> None:
        await ticks.get()

    ctx = jp_serverapp.web_app.settings["jupyter_mlops"]
    hub = EventHub(lambda: ctx, sleep=sleep, clock=lambda: 5.0)
    a, b = hub.subscribe(), hub.subscribe()
    assert hub.polling
    await _until(lambda: hub.looks == 1)
    await asyncio.to_thread(run_fresh, RECORD_RUN)
    ticks.put_nowait(None)
    await _until(lambda: hub.looks == 2)
    change = a.get_nowait()
    assert change is b.get_nowait() and ChangeKind.RUNS in change.kinds
    assert change.revision == 5001
    hub.unsubscribe(a)
    hub.unsubscribe(b)
    ticks.put_nowait(None)
    await _until(lambda: not hub.polling)  # nobody listens: nothing polls
    assert hub.looks == 2


def test_the_first_page_is_served_once_and_only_while_current(tracker, tmp_path) -> None:
    from jupyter_mlops.server.base import ServerContext

    with tracker.start_run(experiment="e", seed=None):
        pass
    ctx = ServerContext(tmp_path)
    try:
        first = FirstPage()
        first.prefetch(ctx)
        assert first.take(ctx, FIRST_PAGE) is not None
        assert first.take(ctx, FIRST_PAGE) is None  # once
        first.prefetch(ctx)
        assert first.take(ctx, type(FIRST_PAGE)(limit=10)) is None  # another query
        first.prefetch(ctx)
        with tracker.start_run(experiment="e", seed=None):
            pass
        assert first.take(ctx, FIRST_PAGE) is None  # the store changed since
    finally:
        ctx.close()


# -- a real server over HTTP -------------------------------------------------------------------
@pytest.fixture
def jp_server_config() -> Any:
    from traitlets.config import Config

    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"jupyter_mlops.server": True}},
            "JupyterMLOps": {"events_keepalive": 0.2},
        }
    )


class Stream:
    """An open ``GET events`` response, its events parsed as they arrive."""

    def __init__(self) -> None:
        self.text = ""
        self.done: asyncio.Future[Any] | None = None

    def feed(self, chunk: bytes) -> None:
        self.text += chunk.decode()

    @property
    def events(self) -> list[dict[str, Any]]:
        out = []
        for block in self.text.split("\n\n"):
            data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
            if data:
                out.append(json.loads(data[0]))
        return out


async def _open(jp_fetch, **params: str) -> Stream:
    stream = Stream()
    stream.done = asyncio.ensure_future(
        jp_fetch(
            "jupyter-mlops",
            "api",
            "events",
            params=params,
            streaming_callback=stream.feed,
            request_timeout=120,
        )
    )
    await _until(lambda: stream.events)
    return stream


async def _until(cond, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not met in time"
        await asyncio.sleep(0.02)


def _hub(jp_serverapp) -> EventHub:
    return jp_serverapp.web_app.settings[SETTINGS_KEY].hub


async def test_events_need_authentication(jp_fetch, project) -> None:
    for path in ("events", "changes"):
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch("jupyter-mlops", "api", path, headers={"Authorization": ""})
        assert refused.value.code == 403


async def test_a_bad_since_is_a_400(jp_fetch, project) -> None:
    for path in ("events", "changes"):
        with pytest.raises(HTTPClientError) as bad:
            await jp_fetch("jupyter-mlops", "api", path, params={"since": "yesterday"})
        assert bad.value.code == 400
        assert "since must be a revision" in json.loads(bad.value.response.body)["error"]


async def test_a_run_recorded_elsewhere_is_pushed(jp_fetch, jp_serverapp, project) -> None:
    stream = await _open(jp_fetch)
    hello = stream.events[0]
    assert hello["since"] is None and set(hello["kinds"]) == {k.value for k in ChangeKind}
    await _until(lambda: ": keep-alive" in stream.text)  # idle: comments keep it open
    run_id = (await asyncio.to_thread(run_fresh, RECORD_RUN)).strip()
    await _until(lambda: len(stream.events) > 1)
    change = stream.events[1]
    assert "runs" in change["kinds"] and change["since"] == hello["revision"]
    assert change["revision"] > hello["revision"]
    assert f"id: {change['revision']}\nevent: changes\n" in stream.text
    # A client without event streams asks the same question over plain REST.
    resp = await jp_fetch(
        "jupyter-mlops", "api", "changes", params={"since": str(hello["revision"])}
    )
    body = json.loads(resp.body)
    assert body["revision"] == change["revision"] and "runs" in body["kinds"]
    resp = await jp_fetch(
        "jupyter-mlops", "api", "changes", params={"since": str(body["revision"])}
    )
    assert json.loads(resp.body)["kinds"] == []
    runs = json.loads((await jp_fetch("jupyter-mlops", "api", "runs")).body)["runs"]
    assert run_id in [r["id"] for r in runs]
    _hub(jp_serverapp).close()
    await stream.done


async def test_a_reconnecting_client_gets_what_it_missed(jp_fetch, jp_serverapp, project) -> None:
    stream = await _open(jp_fetch)
    revision = stream.events[0]["revision"]
    hub = _hub(jp_serverapp)
    await _until(lambda: hub.looks >= 1)
    await asyncio.to_thread(run_fresh, RECORD_RUN)
    await _until(lambda: len(stream.events) > 1)
    again = await _open(jp_fetch, since=str(revision))
    assert "runs" in again.events[0]["kinds"] and again.events[0]["since"] == revision
    hub.close()
    await asyncio.gather(stream.done, again.done)


async def test_the_streams_and_the_poller_stop_with_the_server(
    jp_fetch, jp_serverapp, project
) -> None:
    streams = [await _open(jp_fetch), await _open(jp_fetch)]
    hub = _hub(jp_serverapp)
    assert hub.polling
    await jp_serverapp.cleanup_extensions()  # what every server shutdown awaits
    for stream in streams:
        await asyncio.wait_for(stream.done, 30)  # each response ended cleanly
    await _until(lambda: not hub.polling)
    assert hub.closed
