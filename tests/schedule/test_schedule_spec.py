"""The scheduling fields of a pipeline spec: read, validated, written back."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.exceptions import PipelineSpecError
from jupyter_mlops.pipeline.spec import NotifySpec, PipelineSpec, load_spec, save_spec

BASE = "name: p\nnotebook: p.ipynb\n"


def _load(tmp_path: Path, text: str) -> PipelineSpec:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return load_spec(path)


def test_every_scheduling_field_round_trips(tmp_path: Path) -> None:
    spec = _load(
        tmp_path,
        BASE
        + "schedule: {cron: '30 2 * * *', timezone: Europe/Berlin}\n"
        + "catchup: all\nmax_catchup: 3\nretries: 2\nretry_backoff: 1m\n"
        + "retry_on: [ConnectionError, requests.exceptions.Timeout]\n"
        + "notify: {webhook: 'http://127.0.0.1:9/h', on: [failure]}\nretention: {keep: 5}\n",
    )
    assert (spec.schedule, spec.timezone, spec.catchup, spec.max_catchup) == (
        "30 2 * * *", "Europe/Berlin", "all", 3,
    )  # fmt: skip
    assert spec.retry_backoff_s == 60 and spec.retry_on[1] == "requests.exceptions.Timeout"
    assert spec.notify == NotifySpec(webhook="http://127.0.0.1:9/h", on=("failure",))
    assert spec.retention == 5 and str(spec.cron) == "30 2 * * * (Europe/Berlin)"
    saved = save_spec(spec, tmp_path / "again.yaml")
    assert load_spec(saved) == spec
    plain = _load(tmp_path, BASE + "schedule: '0 3 * * *'\n")
    assert plain.timezone is None and plain.cron is not None and plain.cron.is_utc
    assert plain.catchup == "latest" and plain.notify is None and plain.retention is None
    assert "catchup" not in plain.to_dict()  # short specs stay short


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("catchup: some\n", "field 'catchup': 'some' is not a catch-up policy; use one of none"),
        ("max_catchup: 0\n", "field 'max_catchup': expected a whole number >= 1"),
        ("schedule: {cron: '0 3 * * *', timezone: Mars/Base}\n", "Unknown time zone 'Mars/Base'"),
        ("schedule: {when: '0 3 * * *'}\n", "field 'schedule': expected a cron string or"),
        ("retry_backoff: soon\n", "field 'retry_backoff': Invalid duration 'soon'"),
        ("retry_on: ConnectionError\n", "field 'retry_on': expected a list of exception names"),
        ("notify: {on: [failure]}\n", "field 'notify': give a webhook URL, a command, or both"),
        ("notify: {webhook: 'ftp://x'}\n", "webhook 'ftp://x' must be an http:// or https:// URL"),
        ("notify: {command: x, on: [boom]}\n", "must list events from failure, gate_failed"),
        ("retention: 5\n", "field 'retention': expected {keep: N}, got 5"),
    ],
)
def test_bad_scheduling_fields_are_one_clear_error(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(PipelineSpecError) as info:
        _load(tmp_path, BASE + text)
    assert expected in str(info.value) and "\n" not in str(info.value)
