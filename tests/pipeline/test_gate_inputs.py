"""How the meta gates' latency is measured: warm predictions, the fastest of a few, within a
budget, on an injected clock (so the tests do not depend on the machine's speed or load)."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_mlops.pipeline.gate_inputs import (
    LATENCY_BUDGET_S,
    LATENCY_REPEATS,
    _latency_ms_per_row,
)


class ScriptedModel:
    """A model whose n-th ``predict`` takes ``costs[n]`` seconds on the fake clock."""

    def __init__(self, costs: list[float]) -> None:
        self.costs = costs
        self.calls = 0
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def predict(self, X: Any) -> list[int]:
        self.now += self.costs[self.calls]
        self.calls += 1
        return [0] * len(X)


ROWS = [[0.0]] * 100


def test_latency_is_the_fastest_warm_prediction() -> None:
    # A cold first call and one call stretched by a busy machine do not count.
    model = ScriptedModel([5.0, 0.3, 0.01, 0.2])
    assert _latency_ms_per_row(model, (ROWS, None), model.clock) == pytest.approx(
        0.01 * 1e3 / len(ROWS)
    )
    assert model.calls == 1 + LATENCY_REPEATS


def test_latency_of_a_slow_model_stops_at_the_budget() -> None:
    model = ScriptedModel([LATENCY_BUDGET_S * 0.75] * 10)
    assert _latency_ms_per_row(model, (ROWS, None), model.clock) == pytest.approx(
        LATENCY_BUDGET_S * 0.75 * 1e3 / len(ROWS)
    )
    assert model.calls == 3  # the warm-up and two timed calls, then the budget is spent
    model = ScriptedModel([LATENCY_BUDGET_S * 3, LATENCY_BUDGET_S] + [0.0] * 10)
    assert _latency_ms_per_row(model, (ROWS, None), model.clock) == pytest.approx(
        LATENCY_BUDGET_S * 1e3 / len(ROWS)
    )
    assert model.calls == 2  # one warm call is always timed


def test_no_latency_without_rows_or_a_predict() -> None:
    assert _latency_ms_per_row(ScriptedModel([1.0]), ([], None)) is None
    assert _latency_ms_per_row(object(), (ROWS, None)) is None
    assert _latency_ms_per_row(ScriptedModel([1.0]), None) is None
