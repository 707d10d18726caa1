"""``jupyter-mlops schedule list | pause | resume | next`` and ``promote --timezone``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jupyter_mlops.cli.app import EXIT_USAGE, main
from jupyter_mlops.pipeline.spec import load_spec

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOW = "2026-03-27T12:00:00Z"


def _promote(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    assert main(["promote", "train_ok.ipynb", *args]) == 0
    capsys.readouterr()


def test_promote_with_a_timezone_and_the_next_firings_across_dst(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _promote(tmp_path, capsys, "--name", "berlin", "--schedule", "30 2 * * *", "--timezone",
             "Europe/Berlin")  # fmt: skip
    spec = load_spec(tmp_path / "pipelines" / "berlin.yaml")
    assert (spec.schedule, spec.timezone) == ("30 2 * * *", "Europe/Berlin")
    text = (tmp_path / "pipelines" / "berlin.yaml").read_text()
    assert "schedule:\n  cron: 30 2 * * *\n  timezone: Europe/Berlin" in text
    assert main(["schedule", "next", "berlin", "-n", "3", "--now", NOW]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "2026-03-28T02:30:00+01:00  (2026-03-28T01:30:00+00:00)",
        "2026-03-29T03:00:00+02:00  (2026-03-29T01:00:00+00:00)",  # the spring-forward day
        "2026-03-30T02:30:00+02:00  (2026-03-30T00:30:00+00:00)",
    ]
    assert main(["promote", "train_ok.ipynb", "--name", "x", "--timezone", "Mars/Olympus"]) == (
        EXIT_USAGE
    )
    err = capsys.readouterr().err.strip()
    assert "Unknown time zone 'Mars/Olympus'" in err and "\n" not in err


def test_list_pause_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _promote(tmp_path, capsys, "--name", "nightly", "--schedule", "0 3 * * *")
    _promote(tmp_path, capsys, "--name", "berlin", "--schedule", "0 3 * * *", "--timezone",
             "Europe/Berlin")  # fmt: skip
    assert main(["schedule", "list", "--now", NOW, "--json"]) == 0
    rows = {r["pipeline"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["nightly"]["timezone"] == "UTC" and rows["berlin"]["timezone"] == "Europe/Berlin"
    assert rows["berlin"]["next"][0] == "2026-03-28T02:00:00.000+00:00"  # 03:00 CET
    assert rows["nightly"]["last_status"] is None and not rows["nightly"]["paused"]
    assert main(["schedule", "pause", "nightly", "--now", NOW]) == 0
    assert capsys.readouterr().out.strip() == "nightly: paused"
    assert main(["schedule", "list", "--now", NOW]) == 0
    lines = capsys.readouterr().out.splitlines()
    nightly = next(line for line in lines if line.startswith("nightly"))
    berlin = next(line for line in lines if line.startswith("berlin"))
    assert "next paused" in nightly and "never ran" in nightly
    assert "Europe/Berlin" in berlin and "2026-03-28 03:00 CET" in berlin
    # The pause is in the store: the scheduler (another process, later) does not fire it.
    assert main(["scheduler", "--status", "--now", NOW, "--json"]) == 0
    assert list(json.loads(capsys.readouterr().out)["next"]) == ["berlin"]
    assert main(["schedule", "resume", "nightly", "--now", NOW]) == 0
    assert "resumed" in capsys.readouterr().out
    assert main(["schedule", "list", "--now", NOW, "--json"]) == 0
    rows = {r["pipeline"]: r for r in json.loads(capsys.readouterr().out)}
    assert not rows["nightly"]["paused"] and rows["nightly"]["next"][0].startswith("2026-03-28T03")
    assert main(["schedule", "pause", "nightlly", "--now", NOW]) == EXIT_USAGE
    assert "did you mean 'nightly'" in capsys.readouterr().err
