"""The contract's fast path (a batch shaped like the signature's last one: only its values are
checked) answers exactly as the full check does, for conforming and breaking batches alike,
under every policy, with columns reordered, and when the shape changes between batches."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_mlops.validation.contract import ContractError, enforce
from jupyter_mlops.validation.contract_plan import plan_for, shape_key
from jupyter_mlops.validation.signature import Signature, from_frame

ROWS = 5


def training(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows).astype("int64"),
            "income": rng.normal(size=rows),
            "score": rng.normal(size=rows),
            "member": rng.integers(0, 2, rows).astype(bool),
            "city": rng.choice(["paris", "rome", "oslo"], rows),
            "plan": pd.Categorical(rng.choice(["a", "b"], rows), categories=["a", "b", "c"]),
            "seen": pd.date_range("2026-01-01", periods=rows, freq="D"),
        }
    )


SIG = from_frame(training(40))


def outcome(sig: Signature, X: pd.DataFrame, policy: str) -> tuple[Any, ...]:
    try:
        out, violations = enforce(sig, X, policy)
    except ContractError as e:
        return ("error", str(e))
    table = out.to_json(orient="split", date_format="iso")  # NaN as null: equal to itself
    return ("ok", table, [v.to_dict() for v in violations])


def slow(X: pd.DataFrame, policy: str) -> tuple[Any, ...]:
    """The full check: a copy of the signature has no plan kept for it."""
    return outcome(dataclasses.replace(SIG), X, policy)


def test_a_conforming_batch_takes_the_fast_path_and_passes_as_it_would() -> None:
    warm = training(seed=1)
    assert outcome(SIG, warm, "reject") == slow(warm, "reject")
    X = training(seed=2)
    assert plan_for(SIG, shape_key(X)) is not None  # the same shape: the plan is kept
    out, violations = enforce(SIG, X, "reject")
    assert out is X and violations == []


def test_a_reordered_batch_is_reordered_on_the_fast_path_too() -> None:
    X = training(seed=3)[["city", "age", "seen", "plan", "income", "score", "member"]]
    first = outcome(SIG, X, "reject")
    again = outcome(SIG, X.copy(), "reject")
    assert first == again == slow(X, "reject")
    assert list(enforce(SIG, X.copy(), "reject")[0].columns) == list(SIG.names)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    null_in=st.sampled_from([None, "income", "age", "city", "plan", "seen", "member"]),
    unseen_in=st.sampled_from([None, "city", "plan"]),
    as_text=st.booleans(),
    policy=st.sampled_from(["reject", "coerce", "warn"]),
)
def test_the_fast_path_answers_as_the_full_check(
    seed: int, null_in: str | None, unseen_in: str | None, as_text: bool, policy: str
) -> None:
    enforce(SIG, training(seed=seed + 1), policy)  # keeps the plan for this shape
    X = training(seed=seed)
    if null_in is not None:
        if X[null_in].dtype.kind in "ib":  # a null makes such a column float/object
            X[null_in] = X[null_in].astype(object)
        X.loc[1, null_in] = None
    if unseen_in is not None:
        X[unseen_in] = X[unseen_in].astype(object)
        X.loc[2, unseen_in] = "never"
    if as_text:  # a new shape (the number sent as text): the slow path, then a new plan
        X["score"] = X["score"].astype(str)
    assert outcome(SIG, X, policy) == slow(X, policy)
    assert outcome(SIG, X.copy(), policy) == slow(X, policy)  # the same shape, again
