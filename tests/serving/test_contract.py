"""The input contract: a signature's round trip for every dtype kind, each violation named,
and what each policy does with a batch that breaks it."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.validation.contract import ContractError, Violation, enforce
from jupyter_mlops.validation.profiles import profile
from jupyter_mlops.validation.signature import (
    MAX_CATEGORIES,
    ColumnSpec,
    Signature,
    from_frame,
    from_profile,
)


def training() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": np.array([31, 45, 27, 60], dtype="int64"),
            "income": [1.5, np.nan, 3.0, 2.2],
            "member": [True, False, True, True],
            "city": ["paris", "rome", "paris", "oslo"],
            "plan": pd.Categorical(["a", "b", "a", "b"]),
            "seen": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]),
            "seen_utc": pd.to_datetime(["2026-01-01"] * 4).tz_localize("UTC"),
        }
    )


@pytest.fixture
def sig() -> Signature:
    return from_frame(training(), np.array([0, 1, 0, 1]))


def test_every_dtype_kind_round_trips(sig: Signature) -> None:
    kinds = {c.name: (c.kind, c.tz, c.nullable) for c in sig.columns}
    assert kinds == {
        "age": ("int", None, False),
        "income": ("float", None, True),
        "member": ("bool", None, False),
        "city": ("string", None, False),
        "plan": ("category", None, False),
        "seen": ("datetime", None, False),
        "seen_utc": ("datetime", "UTC", False),
    }
    assert sig.columns[3].categories == ("oslo", "paris", "rome")
    assert (sig.output_kind, sig.output_width) == ("int", None)
    back = Signature.from_dict(json.loads(json.dumps(sig.to_dict())))
    assert back == sig


def test_many_categories_are_not_checked() -> None:
    df = pd.DataFrame({"id": [f"u{i}" for i in range(MAX_CATEGORIES + 1)]})
    (col,) = from_frame(df).columns
    assert col.kind == "string" and col.categories is None
    assert enforce(from_frame(df), pd.DataFrame({"id": ["new"]}), "reject")[1] == []


def test_a_conforming_batch_passes_untouched(sig: Signature) -> None:
    X = training().tail(2)
    out, violations = enforce(sig, X, "reject")
    assert out is X and violations == []
    # In another column order: scored in the signature's order (what scikit-learn needs).
    shuffled = X[list(reversed(X.columns))]
    out, violations = enforce(sig, shuffled, "reject")
    assert list(out.columns) == list(X.columns) and violations == []


def _broken() -> pd.DataFrame:
    X = training().drop(columns=["income"]).rename(columns={"member": "is_member"})
    X["age"] = X["age"].astype(str)
    X.loc[0, "city"] = "lima"
    X.loc[1, "plan"] = np.nan
    return X


def test_reject_names_every_violation_in_one_line(sig: Signature) -> None:
    with pytest.raises(ContractError) as err:
        enforce(sig, _broken(), "reject", "churn@2")
    found = {(v.column, v.problem) for v in err.value.violations}
    assert found == {
        ("income", "missing_column"),
        ("member", "missing_column"),
        ("is_member", "unknown_column"),
        ("age", "wrong_type"),
        ("city", "unseen_category"),
        ("plan", "null_not_allowed"),
    }
    text = str(err.value)
    assert "\n" not in text and isinstance(err.value, ValidationError)
    assert text.startswith("The input breaks the contract of churn@2 (6 violation(s)): ")
    for v in err.value.violations:
        assert v.message in text
    assert "column 'age' is string, expected int" in text
    assert "column 'city' has 1 value(s) unseen in training ('lima')" in text
    assert "column 'plan' has 1 null(s); training had none" in text
    assert Violation("a", "missing_column", "m").to_dict() == {
        "column": "a",
        "problem": "missing_column",
        "message": "m",
    }


def test_coerce_converts_what_it_can(sig: Signature) -> None:
    X = training()[list(reversed(training().columns))].assign(extra=1)
    X["age"] = X["age"].astype(str)  # "31" -> 31
    X["income"] = X["income"].astype("float32")  # float is float
    X["member"] = X["member"].astype(int)  # 0/1 -> bool
    X["seen"] = X["seen"].astype(str)  # ISO text -> datetime
    out, violations = enforce(sig, X, "coerce")
    assert list(out.columns) == list(training().columns)
    assert out["age"].dtype == "int64" and out["member"].dtype == bool
    assert out["seen"].dtype.kind == "M"
    pd.testing.assert_series_equal(out["age"], training()["age"])
    assert {(v.column, v.problem) for v in violations} == {
        ("age", "wrong_type"),
        ("member", "wrong_type"),
        ("seen", "wrong_type"),
        ("extra", "unknown_column"),
    }


def test_coerce_raises_for_what_it_cannot(sig: Signature) -> None:
    with pytest.raises(ContractError) as err:
        enforce(sig, _broken(), "coerce")
    # The age converts and the unknown column is dropped; the rest cannot be fixed.
    assert {(v.column, v.problem) for v in err.value.violations} == {
        ("income", "missing_column"),
        ("member", "missing_column"),
        ("city", "unseen_category"),
        ("plan", "null_not_allowed"),
    }
    X = training().assign(age=["31", "x", "27", "60"])
    with pytest.raises(ContractError, match="column 'age' is string, expected int"):
        enforce(sig, X, "coerce")


def test_warn_returns_the_batch_unchanged_and_logs_once(
    sig: Signature, caplog: pytest.LogCaptureFixture
) -> None:
    X = _broken()
    with caplog.at_level(logging.WARNING, logger="jupyter_mlops.validation.contract"):
        out, violations = enforce(sig, X, "warn", "churn@2")
    assert out is X and len(violations) == 6
    (record,) = caplog.records
    assert "churn@2 (6 violation(s))" in record.getMessage()


def test_no_signature_no_contract_and_a_bad_policy_is_refused(sig: Signature) -> None:
    X = _broken()
    assert enforce(None, X, "reject") == (X, [])
    with pytest.raises(ValidationError, match="Unknown contract policy 'strict'; use one of"):
        enforce(sig, X, "strict")


def test_arrays_are_checked_for_width() -> None:
    sig = from_frame(np.zeros((3, 4)))
    assert not sig.named and sig.names == ("0", "1", "2", "3")
    assert enforce(sig, np.ones((2, 4)), "reject")[1] == []
    with pytest.raises(ContractError, match="the batch has 3 column"):
        enforce(sig, np.ones((2, 3)), "reject")
    with pytest.raises(ContractError, match="wrong_shape|dimension"):
        enforce(sig, np.ones(4), "reject")
    with pytest.raises(ContractError, match="the batch has 5 column"):
        enforce(sig, pd.DataFrame(np.ones((1, 5))), "reject")


def test_a_profiled_signature_is_open_to_other_columns() -> None:
    """A training profile may hold more or other columns than the model takes: unless the
    model names its features, columns beyond the profile pass (checked: those it has)."""
    prof = profile(training()[["income", "city"]]).to_dict()
    sig = from_profile(prof)
    assert not sig.closed and sig.source == "profile"
    X = training().tail(2)
    out, violations = enforce(sig, X, "reject")
    assert out is X and violations == []
    # A column it lacks is not asked for (the model may not take it), one it has is checked.
    assert enforce(sig, X.drop(columns="income"), "reject")[1] == []
    with pytest.raises(ContractError, match="unseen in training"):
        enforce(sig, X.assign(city="lima"), "reject")
    out, violations = enforce(sig, X.assign(income=["1", "2"]), "coerce")
    assert list(out.columns) == list(X.columns) and out["income"].dtype == "float64"


def test_column_spec_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValidationError, match="Unknown column kind 'blob'"):
        ColumnSpec.from_dict({"name": "x", "kind": "blob"})
    with pytest.raises(ValidationError, match="needs a 'columns' list"):
        Signature.from_dict({"columns": "x"})
