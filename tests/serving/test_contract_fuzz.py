"""``enforce`` fuzzed over frames: random dtypes, renamed, missing and extra columns, NaNs,
unseen categories. Whatever the batch, the answer is a correct result or a ContractError:
- ``reject`` passes a batch only when it conforms, and then scores it in the contract's order;
- what ``coerce`` returns conforms (``reject`` then passes it unchanged in content);
- ``warn`` never raises, and returns a batch that breaks the contract as it is;
- an untouched training batch passes under every policy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_mlops.validation.contract import PROBLEMS, ContractError, enforce
from jupyter_mlops.validation.signature import Signature, from_frame

ROWS = 6
KINDS = ("int", "float", "bool", "string", "category", "datetime", "datetime_tz")
names = st.text(min_size=1, max_size=8)


def column(kind: str, rng: np.random.Generator, nulls: bool) -> pd.Series:
    if kind == "int":
        s = pd.Series(rng.integers(-5, 5, ROWS), dtype="int64")
    elif kind == "float":
        s = pd.Series(rng.normal(size=ROWS))
    elif kind == "bool":
        s = pd.Series(rng.integers(0, 2, ROWS).astype(bool))
    elif kind in ("string", "category"):
        s = pd.Series(rng.choice(["a", "b", "c"], ROWS)).astype(object)
        s = s.astype("category") if kind == "category" else s
    else:
        s = pd.Series(pd.date_range("2026-01-01", periods=ROWS, freq="D"))
        s = s.dt.tz_localize("UTC") if kind == "datetime_tz" else s
    if nulls and kind in ("float", "string", "category", "datetime", "datetime_tz"):
        s = s.copy()
        s.iloc[0] = None
    return s


@st.composite
def training(draw: Any) -> pd.DataFrame:
    cols = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    data = {c: column(draw(st.sampled_from(KINDS)), rng, draw(st.booleans())) for c in cols}
    return pd.DataFrame(data)


MUTATIONS = ("rename", "drop", "extra", "to_str", "to_float", "nan", "unseen", "shuffle")


def mutate(df: pd.DataFrame, steps: list[tuple[str, int]], extra_name: str) -> pd.DataFrame:
    X = df.copy()
    for what, i in steps:
        if len(X.columns) == 0:
            break
        col = X.columns[i % len(X.columns)]
        if what == "rename" and extra_name not in X.columns:
            X = X.rename(columns={col: extra_name})
        elif what == "drop":
            X = X.drop(columns=col)
        elif what == "extra" and extra_name not in X.columns:
            X[extra_name] = 1.5
        elif what == "to_str":
            X[col] = X[col].astype(str)
        elif what == "to_float" and X[col].dtype.kind in "iub":
            X[col] = X[col].astype(float)
        elif what == "nan":
            X[col] = X[col].astype(object)
            X.iloc[1, X.columns.get_loc(col)] = None
        elif what == "unseen" and X[col].dtype.kind == "O":
            X[col] = X[col].astype(object)
            X.iloc[2, X.columns.get_loc(col)] = "zz-unseen"
        elif what == "shuffle":
            X = X[list(reversed(X.columns))]
    return X


def check(sig: Signature, X: pd.DataFrame, policy: str) -> tuple[Any, list[Any]] | ContractError:
    try:
        return enforce(sig, X, policy)
    except ContractError as e:
        assert e.violations and "\n" not in str(e)
        assert all(v.problem in PROBLEMS for v in e.violations)
        return e


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    training(),
    st.lists(st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 9)), max_size=4),
    names,
)
def test_enforce_answers_correctly_or_raises_contract_error(
    df: pd.DataFrame, steps: list[tuple[str, int]], extra_name: str
) -> None:
    sig = from_frame(df)
    for policy in ("reject", "coerce", "warn"):
        out = enforce(sig, df, policy)  # the training batch itself always passes
        assert out[1] == [] and list(out[0].columns) == list(df.columns)
    X = mutate(df, steps, extra_name)
    rejected = check(sig, X, "reject")
    if not isinstance(rejected, ContractError):
        assert rejected[1] == [] and list(map(str, rejected[0].columns)) == list(sig.names)
    coerced = check(sig, X, "coerce")
    if not isinstance(coerced, ContractError):
        fixed = coerced[0]
        assert list(map(str, fixed.columns)) == list(sig.names)
        again = enforce(sig, fixed, "reject")  # what coerce returns conforms
        assert again[1] == []
    warned = enforce(sig, X, "warn")
    if isinstance(rejected, ContractError):  # the batch as given, with what is wrong with it
        assert warned[0] is X and len(warned[1]) == len(rejected.violations)
    else:
        assert warned[1] == [] and list(warned[0].columns) == list(rejected[0].columns)
