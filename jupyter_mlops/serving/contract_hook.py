"""The one place the server calls the model's input contract
(:mod:`jupyter_mlops.validation.contract`, built beside this package): a request that breaks it
is a 422 naming every violation. Where that module is not installed yet, rows pass unchecked."""

from __future__ import annotations

import importlib
import threading
from typing import Any

from ..entities import ModelVersion
from ..store.base import RunStore
from .errors import UnprocessableError

_SIGNATURES: dict[tuple[str, str, int], Any] = {}  # (store, name, version) -> its signature
_LOCK = threading.Lock()


def _contract() -> Any:
    try:
        return importlib.import_module("jupyter_mlops.validation.contract")
    except ImportError:
        return None


def available() -> bool:
    return _contract() is not None


def check_input(store: RunStore, mv: ModelVersion, frame: Any) -> Any:
    """``frame`` as the contract of ``mv`` lets it be scored (coerced, under a ``coerce``
    policy); an ``UnprocessableError`` (422) listing the violations when it breaks it."""
    contract = _contract()
    if contract is None:
        return frame
    key = (store.location, mv.name, mv.version)
    with _LOCK:
        found = key in _SIGNATURES
        sig = _SIGNATURES.get(key)
    if not found:
        sig = contract.signature_of(store, mv)
        with _LOCK:
            _SIGNATURES[key] = sig
    if sig is None:
        return frame
    try:
        frame, _violations = contract.enforce(sig, frame, contract.policy_of(store, mv))
    except contract.ContractError as e:
        violations = [v.to_dict() for v in getattr(e, "violations", ())]
        raise UnprocessableError(str(e), {"violations": violations}) from None
    return frame
