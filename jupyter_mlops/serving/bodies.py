"""A predict request's body as the rows to score and their ids.

Bodies: JSON (a list of records; ``{"records": [...]}``; pandas ``split`` orient
``{"columns": [...], "data": [[...]], "index"?: [...]}``; MLflow's ``dataframe_records`` and
``dataframe_split`` wrappers, so one client serves both), CSV (``text/csv``) or Parquet
(``application/vnd.apache.parquet``, ``application/x-parquet``). Ids: a JSON ``ids`` field
(one per row), or ``?id_column=NAME`` (that column holds them and is not a feature).
Malformed bodies are 400, other content types 415, well formed but unusable ones 422.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import bounds
from .errors import BadBodyError, UnprocessableError, UnsupportedMediaError

JSON_TYPES = ("application/json", "")
CSV_TYPES = ("text/csv", "application/csv")
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet")
_JSON_KEYS = frozenset({"records", "columns", "data", "index", "ids"})
MAX_ID_LENGTH = 1000


@dataclass(frozen=True)
class Rows:
    """The rows to score (a DataFrame with text column names) and their ids, if sent."""

    frame: Any
    ids: list[str] | None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_body(body: bytes, content_type: str | None, id_column: str | None = None) -> Rows:
    """The rows ``body`` holds, by its content type."""
    kind = media_type(content_type)
    if kind in JSON_TYPES or kind.endswith("+json"):
        frame, ids = _from_json(body)
    elif kind in CSV_TYPES:
        frame, ids = _from_csv(body), None
    elif kind in PARQUET_TYPES:
        frame, ids = _from_parquet(body), None
    else:
        raise UnsupportedMediaError(
            f"Content-Type {kind[:80]!r} is not served; send application/json, text/csv or "
            "application/vnd.apache.parquet"
        )
    frame = frame.rename(columns=str)
    if id_column is not None:
        frame, ids = _take_ids(frame, id_column, ids)
    if len(frame) == 0:
        raise UnprocessableError("The batch has no rows; send at least one record")
    if len(frame.columns) == 0:
        raise UnprocessableError("The rows have no columns; send the model's features")
    if ids is not None and len(ids) != len(frame):
        raise UnprocessableError(f"Got {len(frame)} rows but {len(ids)} ids; send one id per row")
    return Rows(frame, ids)


def _from_json(body: bytes) -> tuple[Any, list[str] | None]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadBodyError('The body is not valid JSON; send e.g. {"records": [{...}]}') from None
    if isinstance(data, Mapping) and ("dataframe_records" in data or "dataframe_split" in data):
        data = data.get("dataframe_records", data.get("dataframe_split"))
    if isinstance(data, list):
        return _records(data), None
    if not isinstance(data, Mapping):
        raise UnprocessableError("The JSON body must be a list of records or an object")
    unknown = sorted(str(k)[:40] for k in data if k not in _JSON_KEYS)
    if unknown:
        raise UnprocessableError(
            f"Unknown field {unknown[0]!r} in the body; fields: records, or columns, data and "
            "index (pandas split); ids"
        )
    ids = _ids(data.get("ids"))
    if "records" in data:
        return _records(data["records"]), ids
    if "columns" in data and "data" in data:
        return _split(data), ids
    raise UnprocessableError('The body holds no rows; send {"records": [...]} or columns and data')


def _records(records: Any) -> Any:
    import pandas as pd

    if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
        raise UnprocessableError('"records" must be a list of objects, one per row')
    if records:
        columns = list(records[0])
        if all(list(r) == columns for r in records):  # the usual case: one shape for all rows
            fast = _numeric([list(r.values()) for r in records], columns)
            if fast is not None:
                return fast
    try:
        return pd.DataFrame.from_records(records) if records else pd.DataFrame()
    except (ValueError, TypeError) as e:
        raise UnprocessableError(f"The records do not make a table: {_line(e)}") from None


def _split(data: Mapping[str, Any]) -> Any:
    import pandas as pd

    columns, rows, index = data["columns"], data["data"], data.get("index")
    if not isinstance(columns, list) or not all(isinstance(c, (str, int)) for c in columns):
        raise UnprocessableError('"columns" must be a list of column names')
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise UnprocessableError('"data" must be a list of rows, each a list of values')
    if any(len(r) != len(columns) for r in rows):
        raise UnprocessableError(f'Every row of "data" must hold {len(columns)} values')
    if index is not None and (not isinstance(index, list) or len(index) != len(rows)):
        raise UnprocessableError('"index" must be a list with one entry per row')
    fast = _numeric(rows, columns) if index is None and rows else None
    if fast is not None:
        return fast
    try:
        return pd.DataFrame(rows, columns=columns, index=index)
    except (ValueError, TypeError) as e:
        raise UnprocessableError(f"The rows do not make a table: {_line(e)}") from None


def _numeric(rows: list[list[Any]], columns: list[Any]) -> Any:
    """Rows of floats only: one float block, built several times faster than pandas infers a
    dtype per column from lists, and the same frame (every column float64). None otherwise
    (ints, text, bools or nulls keep pandas' own inference)."""
    import numpy as np
    import pandas as pd

    if len(set(columns)) != len(columns):
        return None
    width = len(columns)
    if not all(len(row) == width and all(type(v) is float for v in row) for row in rows):
        return None
    return pd.DataFrame(np.array(rows, dtype=float), columns=columns)


def _from_csv(body: bytes) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(io.BytesIO(body))
    except pd.errors.EmptyDataError:
        raise UnprocessableError("The CSV body has no rows; send a header and rows") from None
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise BadBodyError(f"The body is not valid CSV: {_line(e)}") from None


def _from_parquet(body: bytes) -> Any:
    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(body))
    except Exception as e:  # pyarrow raises many types (ArrowInvalid, OSError...) for bad bytes
        raise BadBodyError(f"The body is not a valid Parquet file: {_line(e)}") from None


def _ids(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    ):
        raise UnprocessableError('"ids" must be a list of texts or integers, one per row')
    return [bounds.check_key(str(v), "an id", MAX_ID_LENGTH) for v in value]


def _take_ids(frame: Any, column: str, sent: list[str] | None) -> tuple[Any, list[str]]:
    if sent is not None:
        raise UnprocessableError('Give ids either as "ids" or as ?id_column=, not both')
    if column not in frame.columns:
        raise UnprocessableError(f"id_column {column[:80]!r} is not a column of the rows")
    ids = [bounds.check_key(str(v), "an id", MAX_ID_LENGTH) for v in frame[column].tolist()]
    return frame.drop(columns=[column]), ids


def _line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]
