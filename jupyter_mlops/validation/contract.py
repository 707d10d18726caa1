"""The input contract: checking a batch against a model version's :class:`Signature`.

``enforce(signature, X, policy)`` returns ``(X, violations)`` or raises
:class:`ContractError`, whose one-line message names every violation. The policy decides:

- ``reject`` (the default): any violation raises;
- ``coerce``: converts what it can (types, column order, unknown columns dropped) and raises
  for what it cannot (a missing column, an unseen category, a null where training had none);
- ``warn``: returns X unchanged with the violations, logged once per batch.

A version's signature is recorded at registration (:mod:`.registration`); one registered
before that has it inferred on first use (:func:`signature_of`). ``mlops.predict`` and the model
server call :func:`contract_check`/:func:`enforce` before scoring.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from dataclasses import dataclass
from typing import Any

from ..entities import ModelVersion
from ..exceptions import MLOpsError, ValidationError
from ..store.sql_signatures import SignatureTables
from .coercion import check_frame
from .signature import Signature
from .signature_inference import infer_signature

log = logging.getLogger(__name__)

POLICIES = ("reject", "coerce", "warn")
DEFAULT_POLICY = "reject"
PROBLEMS = (
    "missing_column",
    "unknown_column",
    "wrong_type",
    "unseen_category",
    "null_not_allowed",
    "wrong_shape",
)


@dataclass(frozen=True)
class Violation:
    """One way a batch breaks the contract: the column (None for the batch as a whole), a
    problem code from :data:`PROBLEMS` and a one-line message."""

    column: str | None
    problem: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "problem": self.problem, "message": self.message}


class ContractError(ValidationError):
    """A batch breaks a model's input contract; ``violations`` lists every way it does."""

    def __init__(self, violations: tuple[Violation, ...] | list[Violation], what: str = "") -> None:
        self.violations = tuple(violations)
        about = f" of {what}" if what else ""
        listed = "; ".join(v.message for v in self.violations)
        super().__init__(
            f"The input breaks the contract{about} ({len(self.violations)} violation(s)): "
            f"{listed}; fix the input, or change the policy with `jupyter-mlops models contract "
            f"{what or 'NAME@VERSION'} --policy coerce|warn`"
        )


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise ValidationError(
            f"Unknown contract policy {policy!r}; use one of {', '.join(POLICIES)}"
        )
    return policy


def enforce(
    signature: Signature | None, X: Any, policy: str, what: str = ""
) -> tuple[Any, list[Violation]]:
    """``X`` checked against ``signature`` under ``policy`` (see the module docstring):
    the batch to score and the violations found. No signature: no contract."""
    check_policy(policy)
    if signature is None:
        return X, []
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(X, pd.DataFrame):
        fixed, found, fatal = check_frame(signature, X, coerce=policy == "coerce")
    else:
        fixed, found, fatal = X, _check_array(signature, X), set()
    violations = [Violation(c, p, m) for c, p, m in found]
    if not violations:
        return fixed, []
    if policy == "warn":
        log.warning("%s", ContractError(violations, what))
        return X, violations
    if policy == "reject" or fatal:
        kept = (
            violations
            if policy == "reject"
            else [v for i, v in enumerate(violations) if i in fatal]
        )
        raise ContractError(kept, what)
    return fixed, violations


def _check_array(signature: Signature, X: Any) -> list[tuple[str | None, str, str]]:
    """An array's width against the signature (its columns have no names to check)."""
    shape = getattr(X, "shape", None)
    if shape is None or not isinstance(shape, tuple):
        return []
    want = len(signature.columns)
    if len(shape) != 2:
        return [(None, "wrong_shape", f"the batch has {len(shape)} dimension(s), expected 2")]
    if int(shape[1]) != want:
        return [(None, "wrong_shape", f"the batch has {shape[1]} column(s), expected {want}")]
    return []


def _recorded(store: Any, mv: ModelVersion) -> tuple[str, str] | None:
    if not isinstance(store, SignatureTables):
        return None
    return store.model_signature(mv.name, mv.version)


def signature_of(store: Any, mv: ModelVersion, model: Any = None) -> Signature | None:
    """The signature of ``mv``: the one recorded, else inferred from what its run recorded
    (and from ``model``, loaded if not given and allowed), else None: no contract."""
    row = _recorded(store, mv)
    if row is not None:
        found = json.loads(row[0])
        return None if found is None else Signature.from_dict(found)
    return infer_signature(store, mv, model)


def policy_of(store: Any, mv: ModelVersion) -> str:
    """The contract policy of ``mv`` (``reject`` unless set)."""
    row = _recorded(store, mv)
    return DEFAULT_POLICY if row is None else row[1]


_LOCK = threading.Lock()
_CONTRACTS: dict[tuple[str, str, int], tuple[Signature | None, str]] = {}


def contract_of(store: Any, mv: ModelVersion, model: Any = None) -> tuple[Signature | None, str]:
    """(signature, policy) of ``mv``, found once per version and process."""
    key = (str(getattr(store, "location", id(store))), mv.name, mv.version)
    with _LOCK:
        found = _CONTRACTS.get(key)
    if found is None:
        try:
            found = (signature_of(store, mv, model), policy_of(store, mv))
        except (MLOpsError, ValueError, KeyError, OSError) as e:  # unreadable: never stops scoring
            log.warning("model %s: no input contract (%s)", mv.ref, e)
            found = (None, DEFAULT_POLICY)
        with _LOCK:
            found = _CONTRACTS.setdefault(key, found)
    return found


def forget_contract(store: Any, name: str, version: int) -> None:
    """Drop the cached contract of ``name@version`` (its policy or signature changed)."""
    with _LOCK:
        _CONTRACTS.pop((str(getattr(store, "location", id(store))), name, version), None)


def contract_check(store: Any, mv: ModelVersion, X: Any, model: Any = None) -> Any:
    """``X`` as ``mv``'s contract lets it be scored (raises :class:`ContractError`)."""
    signature, policy = contract_of(store, mv, model)
    if signature is None:
        return X
    return enforce(signature, X, policy, mv.ref)[0]
