"""How a model is stored: a framework's own format for the frameworks we support (XGBoost
UBJSON, LightGBM text, CatBoost ``.cbm``, safetensors, ``.keras``), skops for scikit-learn
estimators, and cloudpickle for everything else.

Unpickling runs whatever code the pickle names, so in a store a team shares (an S3 bucket, a
PostgreSQL server) a model file is a code-execution path for anyone who can write one. skops
stores an estimator as data plus a list of the types it holds, and loading it refuses types
nobody vouched for; cloudpickle stays for what skops cannot represent (a class or function
defined in the notebook, which cloudpickle stores by value so that another process can load it).

The format is read from the bytes, not from a column: a skops file is a zip archive
(``PK\\x03\\x04``), a pickle is not. Old stores' models (all cloudpickle) load as before, and
mislabelled bytes cannot reach the unpickler: only what is not a zip is unpickled, and only when
trusted.

A framework's file is wrapped in a small envelope: :data:`NATIVE_MAGIC`, the length of a JSON
header (4 bytes, big-endian), the header (``{"flavor": "xgboost", ...}``, whatever the flavor
needs to rebuild the model) and the framework's own bytes. Those formats are data: they load
without trust, since no code runs but the framework's own loader.
"""

from __future__ import annotations

import json
import pickle
import sys
from typing import Any

from .exceptions import StoreError, UntrustedModelError, ValidationError

SKOPS = "skops"
CLOUDPICKLE = "cloudpickle"
NATIVE = "native"
_ZIP_MAGIC = b"PK\x03\x04"
# No pickle starts with this (a pickle starts with b"\x80"), nor does a zip.
NATIVE_MAGIC = b"JMLOPS-MODEL\x00\x01"
_MAX_HEADER = 1 << 20
# A model goes to skops when every type skops does not trust by default comes from these
# libraries (e.g. sklearn.tree._tree.Tree, refused by default since a crafted one can read out
# of bounds): any process that loads the model has their code, and a team store asks for trust
# before loading them. A type from anywhere else (a class defined in the notebook) skops would
# store by reference to code another process may lack: cloudpickle stores it by value instead.
_SKOPS_MODULES = ("sklearn", "numpy", "scipy")


def format_of(data: bytes) -> str:
    if data.startswith(NATIVE_MAGIC):
        return NATIVE
    return SKOPS if data.startswith(_ZIP_MAGIC) else CLOUDPICKLE


def native_envelope(header: dict[str, Any], payload: bytes) -> bytes:
    """A framework's own model bytes, wrapped with the header its flavor loads them by."""
    head = json.dumps(header, sort_keys=True).encode()
    return NATIVE_MAGIC + len(head).to_bytes(4, "big") + head + payload


def read_envelope(data: bytes, what: str) -> tuple[dict[str, Any], bytes]:
    """(header, payload) of a framework's model file; a one-line StoreError if damaged."""
    start = len(NATIVE_MAGIC)
    size = int.from_bytes(data[start : start + 4], "big")
    try:
        if size > _MAX_HEADER:
            raise ValueError(f"header of {size} bytes")
        header = json.loads(data[start + 4 : start + 4 + size])
        if not isinstance(header, dict) or not isinstance(header.get("flavor"), str):
            raise ValueError("no flavor named")
    except ValueError as e:
        raise StoreError(f"{what} is not a readable model file ({e}); log it again") from None
    return header, data[start + 4 + size :]


def _native_dumps(model: Any, name: str) -> bytes | None:
    """``model`` in its framework's own format, or None when no flavor saves it."""
    from . import frameworks

    flavor = frameworks.flavor_of(model)
    if flavor is None or flavor.save is None:
        return None
    try:
        saved = flavor.save(model)
    except Exception as e:  # a model the framework cannot save natively: say why
        raise ValidationError(f"Cannot save model {name!r} as {flavor.name}: {e}") from e
    if saved is None:
        return None
    payload, header = saved
    return native_envelope({**header, "flavor": flavor.name}, payload)


def _native_loads(data: bytes, what: str) -> Any:
    from . import frameworks

    header, payload = read_envelope(data, what)
    flavor = frameworks.flavor_named(header["flavor"])
    if flavor is None or flavor.load is None:
        raise StoreError(
            f"{what} was saved by {header['flavor']}, which this installation cannot load; "
            f"install {header['flavor']} (pip install {header['flavor']})"
        )
    return flavor.load(payload, header)


def _is_sklearn(model: Any) -> bool:
    if "sklearn" not in sys.modules:  # not an estimator, and importing sklearn costs 0.5 s
        return False
    from sklearn.base import BaseEstimator

    return isinstance(model, BaseEstimator)


def _skops_dumps(model: Any) -> bytes | None:
    """The skops file of ``model``, or None when skops would store it by reference to code a
    loading process may not have (a transformer class defined in the notebook)."""
    import skops.io  # type: ignore[import-untyped]

    try:
        data: bytes = skops.io.dumps(model)
        untrusted = skops.io.get_untrusted_types(data=data)
    except Exception:  # whatever skops cannot represent is pickled instead
        return None
    if any(t.split(".")[0] not in _SKOPS_MODULES for t in untrusted):
        return None
    return data


def dumps(model: Any, name: str = "model") -> bytes:
    """The bytes to store for ``model``."""
    native = _native_dumps(model, name)
    if native is not None:
        return native
    if _is_sklearn(model):
        data = _skops_dumps(model)
        if data is not None:
            return data
    import cloudpickle

    try:
        out: bytes = cloudpickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as e:
        raise ValidationError(f"Cannot save model {name!r}: {e}; models must be picklable") from e
    return out


def loads(data: bytes, *, what: str, trusted: bool, how_to_trust: str) -> Any:
    """The model in ``data`` (already checked against its recorded sha256).

    ``trusted``: the caller vouches for the file (it is on the local disk this store wrote,
    ``trust=True`` was passed, or its publisher is allow-listed). Otherwise a pickle is refused
    and a skops file loads only if skops trusts every type in it. ``how_to_trust`` ends the
    refusal: what the user can do."""
    fmt = format_of(data)
    if fmt == NATIVE:  # a framework's own data format: no trust needed
        return _native_loads(data, what)
    if fmt == SKOPS:
        import skops.io

        try:
            untrusted = skops.io.get_untrusted_types(data=data)
        except Exception as e:  # a damaged zip or schema: say so in one line
            raise StoreError(f"{what} is not a readable skops file ({e}); log it again") from e
        if untrusted and not trusted:
            raise UntrustedModelError(
                f"Refusing to load {what}: it holds types skops does not trust "
                f"({', '.join(untrusted)}); if you trust them, {how_to_trust}"
            )
        return skops.io.loads(data, trusted=list(untrusted))
    if not trusted:
        raise UntrustedModelError(
            f"Refusing to unpickle {what} from a team store: a pickle runs code when loaded and "
            f"anyone who can write the store could have planted it; if you trust its publisher, "
            f"{how_to_trust}"
        )
    return pickle.loads(data)  # trusted: see the docstring


__all__ = [
    "CLOUDPICKLE",
    "NATIVE",
    "NATIVE_MAGIC",
    "SKOPS",
    "dumps",
    "format_of",
    "loads",
    "native_envelope",
    "read_envelope",
]
