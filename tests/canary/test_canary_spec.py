"""The plan a user types: steps and guardrails parse strictly, and any other text is refused
with one line (fuzzed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.monitoring.canary_spec import (
    CanaryPlan,
    Guard,
    make_plan,
    parse_guard,
    parse_steps,
)


def test_steps_and_guards_parse() -> None:
    assert parse_steps("2,5,10,25,50,100") == (2, 5, 10, 25, 50, 100)
    assert parse_steps("50%, 100%") == (50, 100)
    assert parse_guard("error_rate<1%") == Guard("error_rate", 0.01)
    assert parse_guard("p99 < 50ms") == Guard("p99", 0.05)
    assert parse_guard("p50<0.2s") == Guard("p50", 0.2)
    plan = make_plan("10,100", ["p99<50ms"], "30m", effect=0.01)
    assert CanaryPlan.from_dict(plan.to_dict()) == plan


@given(st.text(max_size=30))
def test_any_steps_text_parses_or_is_one_line(text: str) -> None:
    try:
        steps = parse_steps(text)
    except ValidationError as e:
        assert "\n" not in str(e)
    else:
        assert steps[-1] == 100 and list(steps) == sorted(set(steps))


@given(st.text(max_size=30))
def test_any_guard_text_parses_or_is_one_line(text: str) -> None:
    try:
        guard = parse_guard(text)
    except ValidationError as e:
        assert "\n" not in str(e)
    else:
        assert guard.kind in ("error_rate", "p50", "p99") and guard.limit >= 0


@pytest.mark.parametrize("interval", ["0s", "90d", "soon", -5])
def test_a_bad_interval_is_refused(interval) -> None:
    with pytest.raises(ValidationError):
        make_plan("100", (), interval)
