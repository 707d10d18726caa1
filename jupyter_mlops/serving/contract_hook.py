"""The one place the server calls a version's input contract
(:mod:`jupyter_mlops.validation.contract`, the check ``mlops.predict`` makes too): a request
that breaks it is a 422 naming every violation."""

from __future__ import annotations

from typing import Any

from ..entities import ModelVersion
from ..store.base import RunStore
from ..validation.contract import ContractError, contract_of, enforce
from .errors import UnprocessableError


def check_input(store: RunStore, mv: ModelVersion, frame: Any) -> Any:
    """``frame`` as the contract of ``mv`` lets it be scored (coerced, under a ``coerce``
    policy); an ``UnprocessableError`` (422) listing the violations when it breaks it. The
    contract is read once per version and process (the model table forgets it when the
    store's models change: a policy set with ``models contract`` applies without a restart)."""
    signature, policy = contract_of(store, mv)
    if signature is None:
        return frame
    try:
        return enforce(signature, frame, policy, mv.ref)[0]
    except ContractError as e:
        violations = [v.to_dict() for v in e.violations]
        raise UnprocessableError(str(e), {"violations": violations}) from None
