"""The foreground ``jupyter-mlops scheduler`` prints one line per firing as it ends: when, the
pipeline or monitor, the time it was scheduled for, the outcome, the run and the duration. The
core scheduler reports each firing to ``on_event``; the clock is pinned (``tick(now=)``,
``--now``)."""

from __future__ import annotations

import datetime as dt
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import jupyter_mlops as mlops
from jupyter_mlops.cli.schedule import firing_line
from jupyter_mlops.display import display_time
from jupyter_mlops.schedule.scheduler import Scheduler, parse_now
from tests.conftest import python_env
from tests.monitoring.helpers import Threshold, features, register

DAY0 = parse_now("2026-11-23T00:00:00Z")
MONITOR = """\
schedule: "0 0 * * *"
checks:
  - {kind: drift, max_share: 1.0, action: none}
"""


def at(day: int, hours: float = 0.0) -> dt.datetime:
    return DAY0 + dt.timedelta(days=day, hours=hours)


def scheduled_monitor(tracker: mlops.Tracker, root: Path) -> None:
    """Monitor ``churn`` due each midnight, first seen at day 0, with traffic on day 0."""
    (root / "monitors").mkdir()
    (root / "monitors" / "churn.yaml").write_text(MONITOR)
    register(tracker, "churn", Threshold())
    X = features(300, seed=0).drop(columns="region")
    mlops.predict("churn", X, ids=[str(i) for i in range(300)], now=at(0, 12).timestamp())
    assert Scheduler(tracker=tracker).tick(now=at(0, 0.01)) == []  # first sight


def test_each_firing_is_reported_as_it_ends(tracker: mlops.Tracker, tmp_path: Path) -> None:
    scheduled_monitor(tracker, tmp_path)
    heard: list[dict[str, object]] = []
    clock = lambda: at(3, 0.5)  # noqa: E731
    events = Scheduler(tracker=tracker, clock=clock, on_event=heard.append).tick()
    missed, fired = heard
    assert heard == events
    assert (missed["outcome"], missed["at"], "duration" in missed) == ("missed", at(1), False)
    # No traffic since day 0: the drift check cannot judge day 2's window.
    assert (fired["pipeline"], fired["outcome"], fired["at"]) == (
        "monitor:churn", "pending", at(3),
    )  # fmt: skip
    assert fired["ended"] == at(3, 0.5)  # the scheduler's clock
    assert isinstance(fired["duration"], float) and fired["duration"] >= 0
    line = firing_line(fired)
    assert line == (
        f"{display_time(at(3, 0.5))}  monitor churn  scheduled {display_time(at(3))}  pending  "
        f"{fired['duration']:.1f}s  drift:drift pending (no batch in the window)"
    )
    assert firing_line(missed).startswith(f"{display_time(at(1))}  monitor churn  scheduled ")
    run = {"pipeline": "train", "at": at(1), "ended": at(1, 0.1), "outcome": "passed",
           "run_id": "0123456789abcdef", "duration": 12.34, "message": "finished"}  # fmt: skip
    assert firing_line(run) == (
        f"{display_time(at(1, 0.1))}  pipeline train  scheduled {display_time(at(1))}  passed  "
        "run 01234567  12.3s  finished"
    )


def test_the_foreground_scheduler_prints_a_line_per_firing(
    tracker: mlops.Tracker, tmp_path: Path
) -> None:
    scheduled_monitor(tracker, tmp_path)
    cmd = [sys.executable, "-m", "jupyter_mlops", "scheduler", "--now", at(1, 0.01).isoformat()]
    proc = subprocess.Popen(
        [*cmd, "--poll", "0.5"], cwd=tmp_path, env=python_env(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or ()])
    reader.start()
    try:
        line = lines.get(timeout=120)  # a loaded machine may take a while to start Python
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        reader.join()
    expected = f"{display_time(at(1, 0.01))}  monitor churn  scheduled {display_time(at(1))}  ok  "
    assert line.startswith(expected), (line, err)
    assert line.rstrip().endswith("s  1 check(s) ok")
    # The banner (the project's pipelines folder) stays on stderr.
    assert f"scheduler: watching {tmp_path / 'pipelines'}/" in err
