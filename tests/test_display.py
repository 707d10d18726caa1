"""Times read as times in the text front-ends: one local, ISO-like form (display.py), used by
``show``/``%mlops show``, the runs table and the widgets; JSON keeps the stored values."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator

import pandas as pd
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.display import as_time, display_time
from jupyter_mlops.notebook.cells import format_time
from jupyter_mlops.tracking.summary import format_run

T = 1796626466.502  # 2026-12-07 06:54:26 UTC
UTC = dt.timezone.utc
TOKYO = dt.timezone(dt.timedelta(hours=9))


@pytest.fixture
def in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC+9 for this test (TZ, re-read with tzset), then as it was."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_display_time_is_local_and_iso_like(in_tokyo: None) -> None:
    assert display_time(T, UTC) == "2026-12-07 06:54:26"
    assert display_time(T, TOKYO) == "2026-12-07 15:54:26"
    assert display_time(T) == "2026-12-07 15:54:26"  # local by default
    assert display_time(pd.Timestamp(T, unit="s", tz="UTC")) == "2026-12-07 15:54:26"
    assert display_time(dt.datetime(2026, 12, 7, 6, 54, 26)) == "2026-12-07 15:54:26"  # naive: UTC


@pytest.mark.parametrize(
    "key, value, shown",
    [
        ("reproduced_at", "1796626466.502", "2026-12-07 06:54:26"),
        ("time", T, "2026-12-07 06:54:26"),
        ("tags.start_time", int(T), "2026-12-07 06:54:26"),
        ("created", T, "2026-12-07 06:54:26"),
        ("fit_time", 12.5, None),  # a duration, not a moment
        ("reproduced_at", "soon", None),
        ("reproduced_by", "1796626466.502", None),  # not a time key
        ("flat", T, None),
        ("updated", True, None),
    ],
)
def test_as_time_only_for_time_keys_holding_epoch_seconds(
    key: str, value: object, shown: str | None
) -> None:
    assert as_time(key, value, UTC) == shown


def test_show_prints_times_and_json_keeps_numbers(
    in_tokyo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with mlops.start_run(experiment="times") as run:
        run.set_tags({"reproduced_at": "1796626466.502", "reproduced_by": "run"})
        run.log_params({"fit_time": 12.5})
    assert main(["show", run.id[:8]]) == 0
    out = capsys.readouterr().out
    assert "    reproduced_at = 2026-12-07 15:54:26\n" in out
    assert "    fit_time = 12.5\n" in out
    recorded = mlops.get_run(run.id)
    started = display_time(recorded.started)
    assert f"  started      {started}  duration" in out
    assert out == format_run(recorded) + "\n"  # %mlops show prints the same
    assert main(["show", run.id[:8], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tags"]["reproduced_at"] == "1796626466.502"
    assert main(["runs", "-e", "times"]) == 0
    assert started in capsys.readouterr().out
    assert format_time(pd.Timestamp(T, unit="s", tz="UTC")) == "2026-12-07 15:54"  # the grid
