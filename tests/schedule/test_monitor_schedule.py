"""Monitors with a ``schedule:`` are evaluated by the scheduler itself, at their firing time,
under a lease of their own, logged like pipeline firings; ``schedule list | next | pause |
resume`` show and steer them. The clock is injected (``tick(now=...)``, ``--now``)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import EXIT_USAGE, main
from jupyter_mlops.exceptions import MLOpsError
from jupyter_mlops.monitoring import load_monitor, predict
from jupyter_mlops.monitoring.spec import MonitorSpec
from jupyter_mlops.schedule.scheduler import Scheduler, parse_now
from jupyter_mlops.store import RunStore
from tests.monitoring.helpers import Threshold, features, register

DAY0 = parse_now("2026-11-23T00:00:00Z")
SCHEDULED = """\
schedule: "0 0 * * *"
cooldown: 1h
checks:
  - {kind: drift, max_share: 0.0, action: notify}
"""


def at(day: int, hours: float = 0.0) -> dt.datetime:
    return DAY0 + dt.timedelta(days=day, hours=hours)


def monitor(root: Path, name: str, text: str) -> None:
    (root / "monitors").mkdir(exist_ok=True)
    (root / "monitors" / f"{name}.yaml").write_text(text)


def serve(day: int, shift: float = 0.0) -> None:
    """A batch of ``churn`` traffic at noon of ``day``."""
    X = features(300, seed=day, shift=shift).drop(columns="region")
    ids = [f"{day}-{i}" for i in range(300)]
    predict("churn", X, ids=ids, now=at(day, 12).timestamp())


def evaluations(store: RunStore, model: str = "churn") -> list[float]:
    return [e.time for e in store.monitor_events(model) if e.kind == "evaluation"]


def test_the_schedule_field_reads_like_a_pipelines() -> None:
    spec = MonitorSpec.from_dict("m", {"schedule": "@daily"})
    assert (spec.schedule, spec.timezone) == ("@daily", None)
    assert spec.cron is not None and spec.cron.timezone == "UTC"
    zoned = MonitorSpec.from_dict(
        "m", {"schedule": {"cron": "0 6 * * 1", "timezone": "Europe/Berlin"}}
    )
    assert (zoned.schedule, zoned.timezone) == ("0 6 * * 1", "Europe/Berlin")
    first = zoned.cron.next_after(parse_now("2026-11-23T00:00:00Z"))  # type: ignore[union-attr]
    assert first == parse_now("2026-11-23T05:00:00Z")  # Monday 06:00 CET
    assert MonitorSpec.from_dict("m", {}).cron is None  # absent: not scheduled
    assert MonitorSpec.from_dict("m", {"schedule": "@daily"}).to_dict() == {"schedule": "@daily"}
    for bad, needle in [
        ("61 * * * *", "monitor 'm': schedule: Invalid cron expression"),
        ({"cron": "@daily", "tz": "UTC"}, "monitor 'm': schedule: expected a cron string"),
        ({"cron": "@daily", "timezone": "Mars/Olympus"}, "Unknown time zone 'Mars/Olympus'"),
    ]:
        with pytest.raises(MLOpsError, match=needle) as err:
            MonitorSpec.from_dict("m", {"schedule": bad})
        assert "\n" not in str(err.value)


def test_a_scheduled_monitor_is_evaluated_at_its_firing_and_not_before(
    tracker: mlops.Tracker, tmp_path: Path
) -> None:
    monitor(tmp_path, "churn", SCHEDULED)
    register(tracker, "churn", Threshold())
    store = tracker.store
    scheduler = Scheduler(tracker=tracker)
    assert scheduler.tick(now=at(0, 0.01)) == []  # first sight: counting starts now
    serve(0)
    assert scheduler.tick(now=at(0, 23.99)) == [] and evaluations(store) == []  # not before
    (quiet,) = scheduler.tick(now=at(1, 0.01))
    assert (quiet["pipeline"], quiet["outcome"], quiet["message"]) == (
        "monitor:churn", "ok", "1 check(s) ok",
    )  # fmt: skip
    assert evaluations(store) == [at(1).timestamp()]  # as of the firing, not the tick
    assert scheduler.tick(now=at(1, 0.02)) == []  # that firing is done

    serve(2, shift=2.0)  # the inputs drift on day 2; the scheduler is down at day 2's midnight
    missed, breach = scheduler.tick(now=at(3, 0.5))
    assert missed["outcome"] == "missed" and missed["at"] == at(2)
    assert missed["message"].endswith("; evaluating the latest")
    assert (breach["outcome"], breach["at"]) == ("breach", at(3))
    # No notify target in this project: said so, not "done".
    assert breach["message"] == (
        "breached drift:drift; notify: no target configured, not delivered"
    )
    assert [a["action"] for a in breach["actions"]] == ["notify"]
    log = store.schedule_log("monitor:churn")
    assert [(e.outcome, e.scheduled_for) for e in log] == [
        ("breach", at(3)), ("missed", at(2)), ("ok", at(1)),
    ]  # fmt: skip
    assert store.schedule_log("churn") == []  # a pipeline named churn would have its own rows
    assert evaluations(store) == [at(1).timestamp(), at(3).timestamp()]


def test_a_monitor_without_schedule_is_left_alone(tracker: mlops.Tracker, tmp_path: Path) -> None:
    monitor(tmp_path, "churn", SCHEDULED.replace('schedule: "0 0 * * *"\n', ""))
    register(tracker, "churn", Threshold())
    scheduler = Scheduler(tracker=tracker)
    for day in range(3):
        serve(day, shift=2.0)
        assert scheduler.tick(now=at(day + 1, 0.01)) == []
    assert evaluations(tracker.store) == [] and scheduler.next_fire() == {}


def test_a_broken_monitor_is_logged_once_and_the_others_go_on(
    tracker: mlops.Tracker, tmp_path: Path
) -> None:
    monitor(tmp_path, "churn", SCHEDULED)
    monitor(tmp_path, "badcron", 'schedule: "0 25 * * *"\n')
    monitor(tmp_path, "notyaml", "schedule: [0 0\n")
    monitor(tmp_path, "ghost", 'schedule: "0 0 * * *"\n')  # loads, but there is no model ghost
    register(tracker, "churn", Threshold())
    store = tracker.store
    scheduler = Scheduler(tracker=tracker)
    first = scheduler.tick(now=at(0, 0.01))
    errors = {e["pipeline"]: e["message"] for e in first if e["outcome"] == "error"}
    assert set(errors) == {"monitor:badcron", "monitor:notyaml"}
    assert "monitor 'badcron': schedule: Invalid cron expression" in errors["monitor:badcron"]
    assert "notyaml.yaml: not valid YAML at line 2" in errors["monitor:notyaml"]
    assert all("\n" not in m for m in errors.values())
    serve(0, shift=2.0)
    events = scheduler.tick(now=at(1, 0.01))  # the same errors are not logged again
    assert sorted((e["pipeline"], e["outcome"]) for e in events) == [
        ("monitor:churn", "breach"), ("monitor:ghost", "error"),
    ]  # fmt: skip
    ghost = next(e for e in events if e["pipeline"] == "monitor:ghost")
    assert "ghost" in ghost["message"] and "\n" not in ghost["message"]
    assert len(store.schedule_log("monitor:badcron")) == 1
    assert evaluations(store) == [at(1).timestamp()]  # churn was evaluated all the same


def test_two_schedulers_evaluate_each_firing_once(tracker: mlops.Tracker, tmp_path: Path) -> None:
    names = [f"m{i}" for i in range(6)]
    for name in names:
        monitor(tmp_path, name, "model: churn\n" + SCHEDULED)
    register(tracker, "churn", Threshold())
    schedulers = [Scheduler(tracker=tracker, holder=h) for h in ("a", "b")]
    schedulers[0].tick(now=at(0, 0.01))
    serve(0)
    start = threading.Barrier(2)
    found: list[list[dict[str, object]]] = [[], []]

    def run(i: int) -> None:
        start.wait()
        found[i] = schedulers[i].tick(now=at(1, 0.01))
        tracker.store.release_thread()

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fired = sorted(str(e["pipeline"]) for e in found[0] + found[1])
    assert fired == [f"monitor:{n}" for n in names]  # each by one of the two
    evaluated = [
        e.detail["monitor"] for e in tracker.store.monitor_events("churn") if e.kind == "evaluation"
    ]
    assert sorted(evaluated) == names
    assert all(len(tracker.store.schedule_log(f"monitor:{n}")) == 1 for n in names)


STEADY = """\
version: 1
name: steady
notebook: steady.ipynb
schedule: "0 3 * * *"
monitor:
  schedule: {cron: "0 6 * * *", timezone: Europe/Berlin}
  checks:
    - {kind: drift, action: notify}
"""


def test_schedule_list_next_pause_resume_show_monitors(
    tracker: mlops.Tracker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monitor(tmp_path, "churn", SCHEDULED)
    register(tracker, "churn", Threshold())
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "steady.yaml").write_text(STEADY)
    now = ["--now", DAY0.isoformat()]
    assert main(["schedule", "list", *now]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["churn", "monitor", "0"], ["steady", "pipeline", "0"], ["steady", "monitor", "0"],
    ]  # fmt: skip
    assert "Europe/Berlin" in lines[2] and "2026-11-23 06:00 CET" in lines[2]
    assert main(["schedule", "list", "--json", *now]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["pipeline"], r["kind"], r["catchup"]) for r in rows] == [
        ("churn", "monitor", "latest"), ("steady", "pipeline", "latest"),
        ("steady", "monitor", "latest"),
    ]  # fmt: skip

    assert main(["schedule", "next", "churn", "-n", "2", *now]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "2026-11-24T00:00:00+00:00  (2026-11-24T00:00:00+00:00)",
        "2026-11-25T00:00:00+00:00  (2026-11-25T00:00:00+00:00)",
    ]
    assert main(["schedule", "next", "steady", *now]) == EXIT_USAGE  # both have a schedule
    err = capsys.readouterr().err.strip()
    assert "--kind pipeline or --kind monitor" in err and "\n" not in err
    assert main(["schedule", "next", "steady", "--kind", "monitor", "-n", "1", *now]) == 0
    assert capsys.readouterr().out.strip() == (
        "2026-11-23T06:00:00+01:00  (2026-11-23T05:00:00+00:00)"
    )

    scheduler = Scheduler(tracker=tracker)
    scheduler.tick(now=at(0, 0.01))
    assert main(["schedule", "pause", "churn", *now]) == 0
    assert capsys.readouterr().out.strip() == "monitor churn: paused"
    assert "monitor:churn" not in scheduler.next_fire()
    serve(0, shift=2.0)
    churn = lambda events: [e for e in events if e["pipeline"] == "monitor:churn"]  # noqa: E731
    assert churn(scheduler.tick(now=at(1, 0.01))) == []  # paused: not evaluated
    assert main(["schedule", "resume", "churn", "--now", at(1, 1).isoformat()]) == 0
    assert "monitor churn: resumed" in capsys.readouterr().out
    assert churn(scheduler.tick(now=at(1, 2))) == []  # missed while paused: not caught up
    (event,) = churn(scheduler.tick(now=at(2, 0.01)))
    assert event["pipeline"] == "monitor:churn" and event["at"] == at(2)
    assert evaluations(tracker.store) == [at(2).timestamp()]

    monitor(tmp_path, "manual", "model: churn\nchecks: []\n")
    assert main(["schedule", "pause", "manual", *now]) == EXIT_USAGE
    assert "Monitor 'manual' has no schedule" in capsys.readouterr().err
    assert load_monitor("manual").cron is None
