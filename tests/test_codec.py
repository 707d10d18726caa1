"""The one codec: one form of a time, and msgspec kept off the ``%%track`` path."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from jupyter_mlops.codec import epoch, iso_time, parse_time, utc
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.monitoring.report import _period

UTC = dt.timezone.utc


def test_a_time_has_one_json_form_and_parses_from_every_form_it_had() -> None:
    at = dt.datetime(2026, 11, 23, 10, 2, 0, 250000, tzinfo=UTC)
    text = "2026-11-23T10:02:00.250+00:00"
    assert iso_time(at) == iso_time(at.timestamp()) == text
    assert iso_time(at.astimezone(dt.timezone(dt.timedelta(hours=1)))) == text  # always UTC
    for form in (text, "2026-11-23T10:02:00.25Z", at.timestamp(), str(at.timestamp()), at):
        assert parse_time(form) == at, form
    assert parse_time("2026-11-23T10:02:00.25") == at  # naive: UTC, the store's convention
    assert utc(epoch(at)) == at and utc(None) is None and epoch(None) is None
    with pytest.raises(ValueError):
        parse_time("later")


def test_the_monitor_api_takes_now_as_iso_or_epoch_seconds() -> None:
    def clock() -> float:
        return 0.0  # not the answer: ``now`` is given

    at = dt.datetime(2026, 11, 23, 10, tzinfo=UTC)
    iso = _period("1h", "2026-11-23T10:00:00Z", clock)
    assert iso == _period("1h", str(at.timestamp()), clock) == at.timestamp() - 3600
    with pytest.raises(ValidationError, match="ISO-8601 time or epoch seconds .0 or more."):
        _period("1h", "later", clock)


def test_plain_values_are_encoded_without_importing_msgspec() -> None:
    """msgspec costs ~20 ms to import: ``import jupyter_mlops`` and encoding the plain values a
    tracked cell records must not pay it; the first record does."""
    code = (
        "import sys, numpy as np, datetime as dt, jupyter_mlops\n"
        "from jupyter_mlops.codec import to_jsonable\n"
        "to_jsonable({'a': [1, 2.5, np.float64(3), dt.datetime(2026, 1, 1)], 'b': (None,)})\n"
        "assert 'msgspec' not in sys.modules, 'imported early'\n"
        "from jupyter_mlops.entities import GitState\n"
        "assert to_jsonable(GitState('abc'))['commit'] == 'abc'\n"
        "assert 'msgspec' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
