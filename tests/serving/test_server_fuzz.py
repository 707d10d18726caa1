"""No request crashes the server or answers 500: random bodies, content types, headers and query
strings against a real server, each answered with a 2xx or a 4xx carrying a one-line JSON
error."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jupyter_mlops as mlops
from jupyter_mlops.serving import ServeOptions

from .live import register, running, train

CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "text/csv",
    "application/vnd.apache.parquet",
    "application/x-parquet",
    "text/plain",
    "",
    "multipart/form-data; boundary=x",
]
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_records = st.lists(
    st.fixed_dictionaries({}, optional={"x1": _scalars, "x2": _scalars, "z": _values}), max_size=5
)
_json_bodies = st.one_of(
    _values,
    _records,
    st.fixed_dictionaries({"records": _records}, optional={"ids": _values}),
    st.fixed_dictionaries(
        {"columns": _values, "data": _values}, optional={"index": _values, "ids": _values}
    ),
)
_bodies = st.one_of(
    _json_bodies.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.just(b"x1,x2\n1,2\n3,4\n"),
    st.just(b'x1,x2\n1\n"oops'),
    st.just(b"[" * 5000 + b"]" * 5000),
)


@pytest.fixture
def url() -> Iterator[str]:
    """One server for every example: hypothesis runs them all in one call of the test."""
    tracker = mlops.default_tracker()
    register(tracker, "churn", train(0))
    register(tracker, "draft", train(0), bless=False)
    options = ServeOptions(("churn", "draft"), max_body=4096, record=False)
    with running(tracker.store, options) as base:
        yield base


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=_bodies,
    content_type=st.sampled_from(CONTENT_TYPES),
    name=st.sampled_from(["churn", "draft", "nope", "a%2Fb", "x" * 300]),
    id_column=st.one_of(st.none(), st.sampled_from(["x1", "user", ""])),
    routing_key=st.one_of(st.none(), st.text(max_size=20).filter(str.isprintable)),
)
def test_no_request_answers_500(
    url: str,
    body: bytes,
    content_type: str,
    name: str,
    id_column: str | None,
    routing_key: str | None,
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    if routing_key is not None and routing_key.isascii():
        headers["x-routing-key"] = routing_key
    params = {} if id_column is None else {"id_column": id_column}
    r = httpx.post(
        f"{url}/models/{name}/predict", content=body, headers=headers, params=params, timeout=30
    )
    assert r.status_code in (200, 400, 404, 409, 413, 415, 422), r.text
    data = r.json()
    if r.status_code == 200:
        assert len(data["predictions"]) > 0 and data["model"] == name
    else:
        assert isinstance(data["error"], str) and "\n" not in data["error"]
        assert "Traceback" not in data["error"]
