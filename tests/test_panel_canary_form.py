"""The panel's *Start canary* form checks a plan as the server does (labextension/src/canary.ts
mirrors jupyter_mlops/monitoring/canary_spec.py). Both sides read the same cases,
``labextension/src/__tests__/canary_cases.json``, each with the server's one line (or null):
this test holds the lines to the server's parsers, ``canary.spec.ts`` holds the form to the
lines. A change of the server's parsing fails here until the cases and the form follow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.monitoring.canary_spec import parse_guard, parse_interval, parse_steps

CASES = Path(__file__).resolve().parents[1] / "labextension/src/__tests__/canary_cases.json"
PARSERS = {"steps": parse_steps, "guards": parse_guard, "interval": parse_interval}


def _server_error(field: str, text: str) -> str | None:
    try:
        PARSERS[field](text)
    except ValidationError as e:
        return str(e)
    return None


@pytest.mark.parametrize("case", json.loads(CASES.read_text()), ids=lambda c: repr(c["text"]))
def test_each_case_expects_the_servers_line(case: dict[str, str | None]) -> None:
    field, text = str(case["field"]), str(case["text"])
    assert case.get("error") == _server_error(field, text)
