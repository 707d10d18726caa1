"""The checks a pipeline spec's fields go through when it is loaded: each names the file and
the field in its error, and an unknown field gets a did-you-mean."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..bounds import MAX_NAME_LENGTH, NAME_PATTERN
from ..cron import parse_duration
from ..exceptions import GateSpecError, PipelineSpecError
from ..validation.gates import GateSpec, parse_gates
from .monitor_spec import MonitorSpec
from .params import Parameter

SPEC_VERSION = 1
_KEYS = (
    "version", "name", "notebook", "notebook_hash", "kernel", "parameters", "schedule",
    "timeout", "retries", "gates", "cell_hashes", "catchup", "max_catchup", "retry_backoff",
    "retry_on", "notify", "retention", "monitor", "register",
)  # fmt: skip
CATCHUP = ("none", "latest", "all")
# bless: a model whose blocking gates pass is blessed; candidate: it is registered only (to be
# put in shadow and promoted on production evidence).
REGISTER = ("bless", "candidate")
_IDENT_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def _check_keys(d: Mapping[str, Any], where: str, path: str | None) -> None:
    for key in d:
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            hint = (
                f"; did you mean '{close[0]}'?" if close else f"; known fields: {', '.join(_KEYS)}"
            )
            raise PipelineSpecError(f"{where}: unknown field '{key}'{hint}", path=path, field=key)
    for key in ("name", "notebook"):
        if key not in d:
            raise PipelineSpecError(
                f"{where}: missing field '{key}'; re-create the file with jupyter-mlops promote",
                path=path,
                field=key,
            )


def _field(
    d: Mapping[str, Any],
    key: str,
    where: str,
    path: str | None,
    check: Callable[[Any], Any],
    *default: Any,
) -> Any:
    value = d.get(key, *default) if default else d[key]
    if value is None and default and default[0] is None:
        return None
    try:
        return check(value)
    except ValueError as e:
        raise PipelineSpecError(f"{where}: field '{key}': {e}", path=path, field=key) from None


def _valid_name(v: Any) -> str:
    if isinstance(v, str) and len(v) > MAX_NAME_LENGTH:
        raise ValueError(f"a pipeline name has at most {MAX_NAME_LENGTH} characters")
    if not isinstance(v, str) or not NAME_PATTERN.match(v):
        raise ValueError(
            f"{v!r} is not a valid pipeline name; use letters, digits, '_', '-' and '.', "
            "starting with a letter or digit"
        )
    return v


def _non_empty(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"expected non-empty text, got {v!r}")
    return v


def _str_list(v: Any) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError(f"expected a list of text, got {v!r}")
    return v


def _catchup(v: Any) -> str:
    if v not in CATCHUP:
        raise ValueError(f"{v!r} is not a catch-up policy; use one of {', '.join(CATCHUP)}")
    return str(v)


def _positive(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ValueError(f"expected a whole number >= 1, got {v!r}")
    return v


def _register(v: Any) -> str:
    if v not in REGISTER:
        raise ValueError(
            f"{v!r} is not a register policy; use bless (bless a model whose gates pass) or "
            "candidate (register it without blessing)"
        )
    return str(v)


def _backoff(v: Any) -> str | float:
    parse_duration(v)
    return v


def _exception_names(v: Any) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) and _IDENT_DOTTED.match(x) for x in v):
        raise ValueError(f"expected a list of exception names such as [TimeoutError], got {v!r}")
    return v


def _retention(v: Any) -> int:
    keep = v.get("keep") if isinstance(v, Mapping) else None
    if not isinstance(v, Mapping) or set(v) != {"keep"}:
        raise ValueError(f"expected {{keep: N}}, got {v!r}")
    return _positive(keep)


def _monitor(v: Any, d: Mapping[str, Any]) -> MonitorSpec:
    """The ``monitor:`` key: a monitor file's schema, for the model this pipeline registers
    (its name) and with this pipeline as what ``retrain`` runs, unless the key says otherwise."""
    name = _valid_name(d.get("name"))
    return MonitorSpec.from_dict(name, v, pipeline=name)


def _timeout(v: Any) -> str | float:
    if parse_duration(v) <= 0:
        raise ValueError(f"timeout must be more than zero, got {v!r}; e.g. 30m or 2h")
    return v


def _retries(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ValueError(f"expected a whole number >= 0, got {v!r}")
    return v


def _version(v: Any) -> int:
    if v != SPEC_VERSION:
        raise ValueError(
            f"version {v!r} is not supported (this jupyter-mlops reads version {SPEC_VERSION}); "
            "upgrade jupyter-mlops or re-promote the notebook"
        )
    return v


def _parameters(items: Any, where: str, path: str | None) -> tuple[Parameter, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise PipelineSpecError(
            f"{where}: 'parameters' must be a list", path=path, field="parameters"
        )
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise PipelineSpecError(
                f"{where}: parameters[{i}] must be a mapping with name, type, default",
                path=path,
                field="parameters",
            )
        try:
            out.append(Parameter.from_dict(item))
        except ValueError as e:
            raise PipelineSpecError(
                f"{where}: parameters[{i}]: {e}", path=path, field="parameters"
            ) from None
    return tuple(out)


def _gates(items: Any, where: str, path: str | None) -> tuple[GateSpec, ...]:
    try:
        return parse_gates(items)
    except GateSpecError as e:
        raise PipelineSpecError(f"{where}: gates: {e}", path=path, field="gates") from None
