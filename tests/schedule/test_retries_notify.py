"""Retries as attempts of one firing, and notifications (through the outbox) to a real local
HTTP server and command."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.outbox import Sender
from jupyter_mlops.pipeline.runner import PipelineRunner
from jupyter_mlops.pipeline.spec import NotifySpec, PipelineSpec, load_spec, save_spec
from jupyter_mlops.schedule.scheduler import Scheduler
from tests.conftest import python_env
from tests.notebook_files import write_python_notebook
from tests.webhooks import closed_port_url, hanging_endpoint, receiver

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
    path = write_python_notebook(
        tmp_path / f"{name}.ipynb",
        FLAKY.format(error=error),
        parameters=f'fail_times = {fail_times}\nmarker = "{tmp_path / (name + ".count")}"\n'
        "accuracy = 0.9",
    )
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


def _deliver() -> Any:
    """One delivery pass over the outbox, as the scheduler runs between firings."""
    return Sender(mlops.default_tracker().store).deliver_due()


def test_failure_gate_failure_and_recovery_reach_the_webhook_and_the_command(
    tmp_path: Path,
) -> None:
    out = tmp_path / "notified.txt"
    command = (
        'echo "$JUPYTER_MLOPS_EVENT $JUPYTER_MLOPS_STATUS $JUPYTER_MLOPS_RUN_ID'
        f' $JUPYTER_MLOPS_NOTIFICATION_ID" >> {out}'
    )
    from jupyter_mlops.validation.gates import parse_gates

    runner = PipelineRunner(progress=False, sleep=lambda s: None)
    with receiver() as hook:
        spec = _pipeline(
            tmp_path, "watched", notify=NotifySpec(webhook=hook.url, command=command), gates=()
        )
        gated = dataclasses.replace(
            spec, gates=parse_gates([{"kind": "metric", "metric": "accuracy", "min": 0.5}])
        )
        results = []
        for params in ({"fail_times": "1"}, {"accuracy": "0.1"}, {}, {}):
            results.append(runner.run(gated, params))
            # Queued by the run, not sent: only the earlier runs' notifications arrived.
            assert len(hook.received) == sum(bool(r.notifications) for r in results[:-1])
            _deliver()
        failed, gate_failed, recovered, quiet = results
        assert [r.outcome.value for r in results] == ["failed", "gate_failed", "passed", "passed"]
        # A success after a success: nothing to say, nothing queued.
        assert quiet.notifications == [] and len(failed.notifications) == 2  # webhook, command
        received = [body for _, body in hook.received]
        assert [m["event"] for m in received] == ["failure", "gate_failed", "recovery"]
        keys = [k for k, _ in hook.received]
        assert [m["notification_id"] for m in received] == keys
        assert [r.notifications[0] for r in results[:3]] == keys  # the webhook's row of each run
    first, second, third = received
    assert first["run_id"] == failed.run.id and first["pipeline"] == "watched"
    assert first["status"] == "failed" and "ConnectionError" in first["error"]
    assert second["gates"][0]["status"] == "fail" and second["gates"][0]["observed"] == 0.1
    assert second["link"] == gate_failed.report.resolve().as_uri()
    assert Path(second["link"].removeprefix("file://")).is_file()
    assert third["run_id"] == recovered.run.id and third["status"] == "passed"
    assert out.read_text().splitlines() == [
        f"failure failed {failed.run.id} {failed.notifications[1]}",
        f"gate_failed gate_failed {gate_failed.run.id} {gate_failed.notifications[1]}",
        f"recovery passed {recovered.run.id} {recovered.notifications[1]}",
    ]
    store = mlops.default_tracker().store
    assert {n.status.value for n in store.notifications()} == {"delivered"}


def test_a_failed_delivery_is_kept_logged_and_never_fails_or_holds_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = _pipeline(tmp_path, "unheard", notify=NotifySpec(webhook=closed_port_url()))
    result = PipelineRunner(progress=False).run(spec, {"fail_times": "1"})
    assert result.outcome.value == "failed" and result.run.status.value == "failed"
    store = mlops.default_tracker().store
    (queued,) = store.notifications()
    assert [queued.id] == result.notifications and queued.attempts == 0  # not tried by the run
    with caplog.at_level(logging.WARNING, logger="jupyter_mlops.pipeline.outbox"):
        report = _deliver()
    assert report.failed == {queued.id: "Connection refused"}
    (row,) = store.notifications()
    assert row.status.value == "pending" and row.attempts == 1
    assert row.last_error == "Connection refused" and row.event == "failure"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "failed (attempt 1): Connection refused" in warnings[0]
    assert f"127.0.0.1:{spec.notify.webhook.split(':')[2].split('/')[0]}" in warnings[0]


def test_a_hanging_webhook_adds_little_to_jupyter_mlops_run(tmp_path: Path) -> None:
    """The old synchronous delivery added 3 x 10 s time-outs plus backoff (33 s) to the run."""
    _pipeline(tmp_path, "plain", 1)
    with hanging_endpoint() as url:
        _pipeline(tmp_path, "hooked", 1, notify=NotifySpec(webhook=url))
        elapsed, outs = {}, {}
        for name in ("plain", "hooked"):
            started = time.monotonic()
            outs[name] = subprocess.run(
                [sys.executable, "-m", "jupyter_mlops", "run", name, "--no-progress"],
                capture_output=True, text=True, cwd=tmp_path, env=python_env(), timeout=600,
            )  # fmt: skip
            elapsed[name] = time.monotonic() - started
    for out in outs.values():
        assert out.returncode == 1, out.stderr  # the notebook failed once, as asked
    assert "not delivered yet" not in outs["plain"].stderr
    assert (
        "jupyter-mlops: 1 notification not delivered yet (timed out); they are retried in the"
        " background by the scheduler, the Jupyter server or the next command: see"
        " jupyter-mlops notify list"
    ) in outs["hooked"].stderr
    # The wait is 2 s (notify_wait); the bound leaves room for a loaded machine's kernel start.
    assert elapsed["hooked"] - elapsed["plain"] < 12.0, elapsed
    (row,) = mlops.default_tracker().store.notifications()
    assert row.status.value == "pending" and row.last_error == "timed out"
