"""A dataset version's manifest: the small JSON document that names the column chunks of a frame
(see :mod:`.columns`), with what it takes to rebuild the frame exactly.

Layout (``format`` = ``jupyter-mlops/dataset@1``)::

    {"format": ..., "rows": 1000, "rows_per_chunk": 1048576, "fingerprint": "<xxh3-128>",
     "columns": {"kind": "labels", "labels": [...], "dtype": "str", "names": [null]},
     "index": {"kind": "range", "start": 0, "step": 1, "name": null},
     "data": [{"label": "price", "dtype": {"kind": "dtype", "name": "float64"},
               "chunks": [[digest, sha256, rows, size, nbytes], ...]}]}

**Column labels** are JSON. A string label is the JSON string itself; any other label is a
one-key object naming its type, so that ``0`` and ``"0"`` stay apart: ``{"int": 3}``,
``{"float": "0.5"}`` (the ``repr``, so ``nan`` and ``inf`` survive), ``{"bool": true}``,
``{"none": null}``, ``{"timestamp": "2024-01-01T00:00:00+00:00"}`` and ``{"tuple": [...]}`` (a
MultiIndex's labels, each element encoded the same way). NumPy scalars are stored as the Python
value they equal. Any other label is refused with a ValidationError: rename the column.

A chunk's ``digest`` is the content hash of the chunk's values and dtype (the per-column hash the
fingerprint computes, over the chunk's rows): the key that finds a chunk already stored. Its
``sha256`` names the blob in the artifact store, whose reads are checked against it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..exceptions import StoreError, ValidationError

FORMAT = "jupyter-mlops/dataset@1"


@dataclass(frozen=True)
class ChunkRef:
    """One stored chunk: rows ``[i * rows_per_chunk, i * rows_per_chunk + rows)`` of a column."""

    digest: str  # content hash of the chunk's values + dtype: the dedup key
    sha256: str  # the blob in the artifact store
    rows: int
    size: int  # bytes stored (compressed)
    nbytes: int  # bytes the values hold in memory (hashed), for dedup_stats


@dataclass(frozen=True)
class ColumnEntry:
    """A column (or an index level): its label, its dtype (see ``dtype_spec``) and its chunks."""

    label: Any  # the encoded label (see the module docstring)
    dtype: dict[str, Any]
    chunks: tuple[ChunkRef, ...]


@dataclass(frozen=True)
class Manifest:
    """A dataset version. ``to_json`` is deterministic, so equal versions are one blob."""

    rows: int
    rows_per_chunk: int
    fingerprint: str
    columns: dict[str, Any]  # how to rebuild df.columns
    index: dict[str, Any]  # {"kind": "range", ...} or {"kind": "levels", "levels": [...]}
    data: tuple[ColumnEntry, ...]
    index_levels: tuple[ColumnEntry, ...] = ()

    def chunks(self) -> list[ChunkRef]:
        """Every chunk the version references: index levels' first, then the columns'."""
        return [c for entry in (*self.index_levels, *self.data) for c in entry.chunks]

    def to_dict(self) -> dict[str, Any]:
        index = dict(self.index)
        if self.index_levels:
            index["levels"] = [_entry_dict(e) for e in self.index_levels]
        return {
            "format": FORMAT,
            "rows": self.rows,
            "rows_per_chunk": self.rows_per_chunk,
            "fingerprint": self.fingerprint,
            "columns": self.columns,
            "index": index,
            "data": [_entry_dict(e) for e in self.data],
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @property
    def sha256(self) -> str:
        """The sha256 of the manifest's blob (``to_json``) in the artifact store."""
        return hashlib.sha256(self.to_json()).hexdigest()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise StoreError(
                f"Not a dataset manifest (format {d.get('format') if isinstance(d, dict) else d!r}"
                f"); expected {FORMAT}: the artifact is not a dataset version"
            )
        try:
            index = {k: v for k, v in d["index"].items() if k != "levels"}
            return cls(
                rows=int(d["rows"]),
                rows_per_chunk=int(d["rows_per_chunk"]),
                fingerprint=str(d["fingerprint"]),
                columns=dict(d["columns"]),
                index=index,
                data=tuple(_entry(e) for e in d["data"]),
                index_levels=tuple(_entry(e) for e in d["index"].get("levels", ())),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise StoreError(
                f"Damaged dataset manifest ({type(e).__name__}: {e}); log the dataset again"
            ) from None

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            return cls.from_dict(json.loads(data))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise StoreError(f"Not a dataset manifest: not JSON ({type(e).__name__})") from None


def _entry_dict(e: ColumnEntry) -> dict[str, Any]:
    return {
        "label": e.label,
        "dtype": e.dtype,
        "chunks": [[c.digest, c.sha256, c.rows, c.size, c.nbytes] for c in e.chunks],
    }


def _entry(d: dict[str, Any]) -> ColumnEntry:
    chunks = tuple(
        ChunkRef(str(a), str(b), int(r), int(s), int(n)) for a, b, r, s, n in d["chunks"]
    )
    return ColumnEntry(d["label"], dict(d["dtype"]), chunks)


# --- labels --------------------------------------------------------------------------------------


def encode_label(label: Any) -> Any:
    """A column or index label as JSON (see the module docstring)."""
    import numpy as np
    import pandas as pd

    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, str):
        return label
    if isinstance(label, bool):
        return {"bool": label}
    if isinstance(label, int):
        return {"int": label}
    if isinstance(label, float):
        return {"float": repr(label)}
    if label is None:
        return {"none": None}
    if isinstance(label, tuple):
        return {"tuple": [encode_label(x) for x in label]}
    if isinstance(label, pd.Timestamp):
        return {"timestamp": label.isoformat()}
    raise ValidationError(
        f"Column label {label!r} of type {type(label).__name__} cannot be stored; rename the "
        "column to a str, int, float, bool, None, Timestamp or a tuple of those"
    )


def decode_label(data: Any) -> Any:
    import pandas as pd

    if isinstance(data, str):
        return data
    (kind, value), *_ = data.items()
    if kind == "tuple":
        return tuple(decode_label(x) for x in value)
    decoders: dict[str, Any] = {
        "bool": bool,
        "int": int,
        "float": float,
        "none": lambda _: None,
        "timestamp": pd.Timestamp,
    }
    if kind not in decoders:
        raise StoreError(f"Damaged dataset manifest: unknown label kind {kind!r}")
    return decoders[kind](value)


# --- dtypes --------------------------------------------------------------------------------------


def dtype_spec(dtype: Any) -> dict[str, Any]:
    """A pandas dtype as JSON. ``str(dtype)`` names most; not a categorical's categories (they
    are in every chunk, beside the codes) nor a string dtype's storage and missing value."""
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype_spec(dtype.categories.dtype)
        return {"kind": "category", "ordered": bool(dtype.ordered), "categories": categories}
    if isinstance(dtype, pd.StringDtype):
        na = "nan" if dtype.na_value is not pd.NA else "NA"
        return {"kind": "string", "storage": dtype.storage, "na": na}
    return {"kind": "dtype", "name": str(dtype)}


def dtype_of(spec: dict[str, Any]) -> Any:
    """The dtype ``spec`` describes; None for a categorical (its chunks carry the categories)."""
    import numpy as np
    import pandas as pd

    kind = spec.get("kind")
    if kind == "category":
        return None
    if kind == "string":
        return pd.StringDtype(spec["storage"], na_value=np.nan if spec["na"] == "nan" else pd.NA)
    try:
        return pd.api.types.pandas_dtype(spec["name"])
    except (TypeError, KeyError) as e:
        raise StoreError(
            f"The dtype {spec!r} of a stored column is unknown to this pandas ({e}); load the "
            "dataset with the pandas version that stored it"
        ) from None
