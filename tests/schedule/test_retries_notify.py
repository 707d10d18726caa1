"""Retries as attempts of one firing, and notifications to a real local HTTP server and command."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import nbformat
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.runner import PipelineRunner
from jupyter_mlops.pipeline.spec import NotifySpec, PipelineSpec, load_spec, save_spec
from jupyter_mlops.schedule.scheduler import Scheduler

pytestmark = pytest.mark.slow
UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 23, 10, 2, tzinfo=UTC)

# Fails with `error` until the marker file exists (it creates it), then logs a metric.
FLAKY = """\
import os
if fail_times > 0:
    count = int(open(marker).read()) if os.path.exists(marker) else 0
    if count < fail_times:
        open(marker, "w").write(str(count + 1))
        raise {error}("flaky upstream")
import jupyter_mlops as mlops
mlops.log_metric("accuracy", accuracy)
"""


def _pipeline(
    tmp_path: Path, name: str, fail_times: int = 0, error: str = "ConnectionError", **fields: Any
) -> PipelineSpec:
    """A scheduled pipeline whose notebook fails ``fail_times`` times (by default) first."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell(
        f'fail_times = {fail_times}\nmarker = "{tmp_path / (name + ".count")}"\naccuracy = 0.9'
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(FLAKY.format(error=error))]
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    result = promote(path, name=name, schedule="* * * * *", timeout="2m")
    save_spec(dataclasses.replace(load_spec(result.path), **fields), result.path)
    return load_spec(result.path)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_retry_is_an_attempt_of_the_same_firing_with_backoff(tmp_path: Path) -> None:
    _pipeline(tmp_path, "flaky", 2, retries=2, retry_backoff="10s", retry_on=("ConnectionError",))
    waits: list[float] = []
    clock = Clock(T0)
    scheduler = Scheduler(clock=clock, sleep=waits.append)
    scheduler.tick()
    clock.now = T0 + dt.timedelta(minutes=1)
    (event,) = scheduler.tick()
    assert event["outcome"] == "passed" and event["attempts"] == 3
    assert waits == [10.0, 20.0]  # retry_backoff, doubling
    runs = mlops.runs(experiment="flaky", order_by="started")
    assert list(runs["name"]) == ["attempt 1/3", "attempt 2/3", "attempt 3/3"]
    assert list(runs["status"]) == ["failed", "failed", "finished"]
    tags = [mlops.get_run(r).tags for r in runs["id"]]
    assert [t["attempt"] for t in tags] == ["1/3", "2/3", "3/3"]
    assert {t["scheduled_for"] for t in tags} == {"2026-11-23T10:03:00+00:00"}  # one firing
    (row,) = mlops.default_tracker().store.schedule_log("flaky")  # logged once, as passed
    assert row.outcome == "passed" and row.message == "finished after 3 attempts"
    assert row.run_id == runs["id"].iloc[-1]


def test_an_error_not_in_retry_on_is_not_retried(tmp_path: Path) -> None:
    spec = _pipeline(
        tmp_path, "strict", error="ValueError", retries=2, retry_on=("ConnectionError",)
    )
    waits: list[float] = []
    result = PipelineRunner(progress=False, sleep=waits.append).run(spec, {"fail_times": "1"})
    assert result.exit_code == 1 and result.attempts == 1 and waits == []
    assert "ValueError: flaky upstream" in (result.run.error or "")


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Any:
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Hook.received
    server.shutdown()
    server.server_close()


def test_failure_gate_failure_and_recovery_reach_the_webhook_and_the_command(
    tmp_path: Path, webhook: Any
) -> None:
    url, received = webhook
    out = tmp_path / "notified.txt"
    command = f'echo "$JUPYTER_MLOPS_EVENT $JUPYTER_MLOPS_STATUS $JUPYTER_MLOPS_RUN_ID" >> {out}'
    spec = _pipeline(
        tmp_path,
        "watched",
        notify=NotifySpec(webhook=url, command=command),
        gates=(),
    )
    from jupyter_mlops.validation.gates import parse_gates

    runner = PipelineRunner(progress=False, sleep=lambda s: None, notify_sleep=lambda s: None)
    gated = dataclasses.replace(
        spec, gates=parse_gates([{"kind": "metric", "metric": "accuracy", "min": 0.5}])
    )
    failed = runner.run(gated, {"fail_times": "1"})
    gate_failed = runner.run(gated, {"accuracy": "0.1"})
    recovered = runner.run(gated)
    quiet = runner.run(gated)  # a success after a success: nothing to say
    assert [r.outcome.value for r in (failed, gate_failed, recovered, quiet)] == [
        "failed", "gate_failed", "passed", "passed",
    ]  # fmt: skip
    assert [m["event"] for m in received] == ["failure", "gate_failed", "recovery"]
    first, second, third = received
    assert first["run_id"] == failed.run.id and first["pipeline"] == "watched"
    assert first["status"] == "failed" and "ConnectionError" in first["error"]
    assert second["gates"][0]["status"] == "fail" and second["gates"][0]["observed"] == 0.1
    assert second["link"] == gate_failed.report.resolve().as_uri()
    assert Path(second["link"].removeprefix("file://")).is_file()
    assert third["run_id"] == recovered.run.id and third["status"] == "passed"
    assert out.read_text().splitlines() == [
        f"failure failed {failed.run.id}",
        f"gate_failed gate_failed {gate_failed.run.id}",
        f"recovery passed {recovered.run.id}",
    ]


def test_a_failed_delivery_is_retried_logged_and_never_fails_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = _pipeline(
        tmp_path, "unheard", notify=NotifySpec(webhook=f"http://127.0.0.1:{port}/hook")
    )
    waits: list[float] = []
    runner = PipelineRunner(progress=False, notify_sleep=waits.append)
    with caplog.at_level(logging.WARNING, logger="jupyter_mlops.pipeline.notify"):
        result = runner.run(spec, {"fail_times": "1"})
    assert result.outcome.value == "failed" and result.run.status.value == "failed"
    assert waits == [1.0, 2.0]  # three attempts, backing off
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "delivery failed after 3 attempts" in errors[0]
    assert f"127.0.0.1:{port}" in errors[0]
