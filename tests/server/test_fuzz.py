"""Fuzzing the REST API (issue 17): every route of ``handlers.ROUTES``, GET and POST, against a
real ``jupyter server`` process on both store backends.

Hypothesis generates ``where`` and ``order_by`` expressions (the grammar and junk), names, ids,
cursors, numbers and JSON bodies, with a fixed, derandomized budget. Each answer must be below
500, come on a connection that was not reset, and be ``{"error": one line}`` when it is an error;
afterwards the server still answers and the store passes its integrity check. The server runs in
its own process so that a crash in the database engine (SQLite 3.40.1 dies on an ORDER BY of 64+
terms) fails the test instead of killing pytest. The crashers of the issue are kept as explicit
seeds.

POSTs never start real work: ``pipelines/NAME/run`` and ``runs/ID/reproduce`` get names and ids
that match nothing, or a body that fails validation; ``promote`` gets no existing notebook.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_mlops import views
from jupyter_mlops.server.handlers import ROUTES
from jupyter_mlops.store import close_stores, open_store
from tests.conftest import python_env
from tests.processes import free_port, stop_process
from tests.server.conftest import Project

BUDGET = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_GROUP = re.compile(r"\([^)]*\)")


# -- a real jupyter server in its own process ---------------------------------------------------


@dataclass
class LiveServer:
    proc: subprocess.Popen[bytes]
    port: int
    token: str
    log: Path
    store: str
    answered: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 120,
    ) -> tuple[int, str, str]:
        """(status, content type, body) of one request on a fresh connection: a reset or a
        closed connection raises, which fails the test."""
        url = "/jupyter-mlops/api/" + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Authorization": f"token {self.token}"}
            if method == "POST":
                headers["Content-Type"] = "application/json"
            conn.request(method, url, body=body if method == "POST" else None, headers=headers)
            resp = conn.getresponse()
            status, ctype = resp.status, resp.getheader("Content-Type", "")
            # An event stream (GET events) never ends: its first event is the answer.
            stream = ctype.startswith("text/event-stream")
            text = (resp.readline() if stream else resp.read()).decode("utf-8", "replace")
        finally:
            conn.close()
        self.answered += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        return status, ctype, text

    def check(self, method: str, path: str, params: Any = None, body: bytes | None = None) -> int:
        status, ctype, text = self.request(method, path, params, body)
        what = f"{method} {path} {params!r:.300} {body!r:.300}"
        assert status < 500, f"{what} -> {status}: {text[:500]}"
        if status >= 400:
            assert ctype.startswith("application/json"), f"{what} -> {status} {ctype}: {text[:200]}"
            error = json.loads(text)
            assert list(error) == ["error"] and isinstance(error["error"], str), (what, text)
            assert "\n" not in error["error"], (what, error)
            assert "internal error" not in error["error"], (what, error)
        assert self.proc.poll() is None, f"the server died after {what}"
        return status


SERVER = [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ip=127.0.0.1"]
SERVER.append("--port-retries=0")
# Only ours: the others installed beside it only slow the start.
EXTENSIONS = {
    "jupyter_mlops.server": True,
    "jupyterlab": False,
    "jupyter_lsp": False,
    "notebook_shim": False,
    "jupyter_server_terminals": False,
}


def _start(root: Path, store: str, tmp: Path) -> LiveServer:
    config = tmp / "jupyter-config"
    config.mkdir(parents=True)
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": EXTENSIONS}})
    )
    env = python_env()
    env.update(
        JUPYTER_MLOPS_STORE=store,
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_DATA_DIR=str(tmp / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "jupyter-runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
    )
    port, token = free_port(), os.urandom(16).hex()
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *SERVER,
                f"--port={port}",
                f"--ServerApp.root_dir={root}",
                f"--IdentityProvider.token={token}",
            ],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = LiveServer(proc, port, token, log, store)
    deadline = time.monotonic() + 180  # a loaded 2-core machine starts a server slowly
    while True:
        assert proc.poll() is None, f"the server did not start: {log.read_text()[-2000:]}"
        try:
            if server.request("GET", "status", timeout=30)[0] == 200:
                return server
        except OSError:
            pass
        assert time.monotonic() < deadline, f"no answer from the server: {log.read_text()[-2000:]}"
        time.sleep(0.2)  # polling for the port to open; not a timing assumption


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest,
    template: tuple[Path, Project],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, Project]]:
    """A jupyter server over a copy of the template project, its store on each backend in turn
    (the PostgreSQL store is a migrated copy of the project's SQLite one). One server per
    module: the tests here share it, and its store is checked when they are done."""
    src, project = template
    root = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    shutil.copytree(src, root, dirs_exist_ok=True)
    store = str(root / ".mlops")
    if request.param == "postgresql":
        from jupyter_mlops.store.migrate import migrate_store

        url = request.getfixturevalue("pg_server").create_database()
        try:
            migrate_store(open_store(store, create=False), open_store(url))
        finally:
            close_stores()
        store = url
    server = _start(root, store, root / "fuzz")
    try:
        yield server, project
        assert server.proc.poll() is None, server.log.read_text()[-2000:]
        assert server.request("GET", "status")[0] == 200  # still answering
    finally:
        stop_process(server.proc)
    _check_integrity(store, project)
    # The refused promote bodies wrote no spec.
    assert [p.name for p in (root / "pipelines").iterdir()] == ["train_ok.yaml"]


def _check_integrity(store: str, project: Project) -> None:
    if store.startswith("postgresql://"):
        # PostgreSQL checks its own pages; what the fuzz could break is the data: every run of
        # the project is still there, and the store opens and answers.
        s = open_store(store, create=False)
        try:
            assert set(project.script) <= set(s.search_run_ids())
        finally:
            close_stores()
        return
    with sqlite3.connect(f"file:{store}/mlops.db?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()


# -- what the fuzz sends --------------------------------------------------------------------------

FIELDS = [
    "metrics.acc", "metrics.loss", "metrics.accuracy", "params.C", "params.solver",
    "tags.team", 'tags["team"]', "started", "ended", "status", "name", "experiment", "seed",
    "duration", "id", "kind", "notebook", "peak_memory", "git_commit", "parent_id",
    "metrics.nope", "params", "bogus.x", "metrics['a b']",
]  # fmt: skip
ORDER_FIELDS = ["metrics.acc", "metrics.loss", "params.C", "tags.team", "started", "name",
                "seed", "duration", "experiment", "metrics.accuracy", "params.solver"]  # fmt: skip
NUMBERS = [
    "-5", "0", "1", "50", "500", "501", "9223372036854775807", "9223372036854775808",
    "-9223372036854775809", "1e20", "1e400", "-1e400", "nan", "NaN", "inf", "-inf", "0x10",
    "1.5", " 3", "", "1" * 60, "7d", "-7d", "12h", "1e400d", "nand",
]  # fmt: skip
# The crashers and 500s of issue 17, kept as explicit regression cases.
CRASH_WHERE = [
    "not " * 3000 + "x",
    "-" * 5000 + "1 > 0",
    " and ".join(["metrics.acc > 0"] * 1500),
    "(" * 500 + "metrics.acc > 0" + ")" * 500,
    "metrics.acc > " + "[" * 2000,
    "a" + ".b" * 3000,
    "metrics.acc > 1" + " + 1" * 3000,
    "metrics.acc in [" + ", ".join(["1"] * 3000) + "]",
    "metrics.acc > 99999999999999999999999999",
    "name == b'x'",
    "metrics.acc > 'x'",
    "seed == 1.5j",
]
CRASH_ORDER = [
    ", ".join(["metrics.accuracy"] * 32),
    ", ".join(["metrics.acc"] * 64),
    ", ".join(["-metrics.acc", "started"] * 20),
    ",".join(ORDER_FIELDS),  # 11 distinct keys
]

literals = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(repr),
    st.text(max_size=8).map(repr),
    st.sampled_from(["None", "True", "1e400", "-1e400", "[1, 2]", "['a', None]", "[]", "{}"]),
)
comparisons = st.builds(
    "{} {} {}".format,
    st.sampled_from(FIELDS),
    st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "in", "not in", "is", "is not"]),
    literals,
)
grammar = st.recursive(
    comparisons,
    lambda inner: st.one_of(
        st.builds("{} and {}".format, inner, inner),
        st.builds("{} or {}".format, inner, inner),
        st.builds("not ({})".format, inner),
        st.builds("({})".format, inner),
    ),
    max_leaves=30,
)
wheres = st.one_of(grammar, st.text(max_size=60), st.sampled_from(CRASH_WHERE))
order_bys = st.one_of(
    st.lists(
        st.builds(
            "{}{}{}".format,
            st.sampled_from(["", "-"]),
            st.sampled_from(ORDER_FIELDS),
            st.sampled_from(["", " DESC", " ASC", " sideways"]),
        ),
        min_size=1,
        max_size=40,
    ).map(", ".join),
    st.text(max_size=40),
    st.sampled_from(CRASH_ORDER),
)
numbers = st.one_of(
    st.sampled_from(NUMBERS), st.integers(-(2**80), 2**80).map(str), st.floats().map(repr)
)
# Path segments: never empty, never "." or ".." (an HTTP client would not send those as is).
junk_names = st.one_of(
    st.text(min_size=1, max_size=40),
    st.text(st.characters(codec="ascii"), min_size=120, max_size=300),
    st.sampled_from(["a" * 2000, "x" * 129, "x" * 128, "a\x00b", "../etc", "con", "é" * 50]),
).filter(lambda s: s.strip(".") != "")


def _cursor(o: Any, t: Any, q: Any) -> str:
    raw = json.dumps({"o": o, "t": t, "q": q}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _deep(n: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * n + close * n).encode()


RAW_BODIES = [
    _deep(2000),
    _deep(33),
    b'{"a":' * 2000 + b"1" + b"}" * 2000,
    b"[" * 100000,
    b"NaN",
    b'{"version": NaN}',
    b'{"version": 1e400}',
    b'{"version": ' + b"9" * 5000 + b"}",
    b"{",
    b"\xff\xfe",
    b"[]",
    b"null",
    b'"text"',
    b'{"unknown": 1}',
    b" " * (1 << 20) + b"{}",
]
# Body fields per POST route, each with the values that matter for it.
BODY_FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "reproduce": {"tolerance": json_values | st.sampled_from([-1, 1e308, 0.5])},
    "run": {
        "params": json_values | st.dictionaries(st.text(max_size=130), json_values, max_size=3),
        "allow_changed": json_values,
    },
    "promote": {
        "notebook": st.text(max_size=40).filter(lambda s: "train_ok" not in s) | json_values,
        "name": junk_names | json_values,
        "schedule": st.text(max_size=20) | json_values,
        "gates": json_values | st.just(5),
        "timeout": json_values | st.sampled_from(["10m", "-1h", 1e300]),
        "retries": json_values | st.sampled_from([10**30, -1]),
    },
    "bless": {
        "version": json_values | st.sampled_from([10**30, 2**31, 1, 2, -1]),
        "reason": json_values | st.just({"x": 1}),
    },
    "rollback": {
        "to": json_values | st.sampled_from([10**30, 2**63, 1, 0]),
        "reason": json_values,
    },
    # A model version's alias, tags and description (models/NAME/versions/V/...).
    "alias": {
        "alias": json_values | st.text(max_size=70) | st.sampled_from(["champion", "v2", "9"]),
        "delete": json_values,
    },
    "tags": {
        "set": json_values
        | st.dictionaries(st.text(max_size=140), json_values | st.text(max_size=20), max_size=4),
        "delete": json_values | st.lists(st.text(max_size=20) | json_values, max_size=3),
    },
    "description": {"description": json_values | st.text(max_size=50)},
}


def _body(kind: str) -> st.SearchStrategy[bytes]:
    fields = BODY_FIELDS[kind]
    typed = st.fixed_dictionaries({}, optional=fields).map(lambda d: json.dumps(d).encode())
    return st.one_of(
        typed, json_values.map(lambda v: json.dumps(v).encode()), st.sampled_from(RAW_BODIES)
    )


def _not_a_run(project: Project) -> st.SearchStrategy[str]:
    """Ids that select no run: reproducing a real one would start a kernel."""
    return junk_names.filter(lambda s: not re.fullmatch(r"[0-9a-fA-F]*", s))


@st.composite
def requests(
    draw: st.DrawFn, project: Project, only: str | None = None
) -> tuple[str, str, dict[str, str], bytes | None]:
    """One request to a route of ROUTES (``only="runs"``: the runs listing; ``only="POST"``:
    the routes that act), mostly with the method it has."""
    routes = ROUTES
    if only == "runs":
        routes = [r for r in ROUTES if r[0] == "runs"]
    elif only == "POST":
        routes = [r for r in ROUTES if r[1].act is not None]
    route, handler = draw(st.sampled_from(routes))
    reads, acts = handler.read is not None, handler.act is not None
    method = "POST" if acts and not reads else "GET"
    if not draw(st.integers(0, 9)):  # now and then the method the route does not have
        method = "GET" if method == "POST" else "POST"
    real_ids = project.script + project.pipeline + [project.failed, project.other]
    names = st.one_of(st.sampled_from(["train_ok", "churn", "exp-a"]), junk_names)

    def segment(i: int) -> str:
        if route.startswith("runs/"):
            if method == "POST":
                return draw(_not_a_run(project))
            if i == 0:
                return draw(
                    st.sampled_from(real_ids)
                    | st.sampled_from(real_ids).map(lambda r: r[:6])
                    | junk_names
                )
            return draw(st.sampled_from(["acc", "loss", "notes.txt"]) | junk_names)
        if route.startswith("pipelines/") and method == "POST":
            return draw(junk_names.filter(lambda s: s != "train_ok"))
        if "/versions/" in route and i == 1:  # a version: a number, an alias or junk
            return draw(st.sampled_from(["1", "2", "champion", "0", "99999999999"]) | junk_names)
        return draw(names)

    parts = iter(range(10))
    path = _GROUP.sub(lambda m: urllib.parse.quote(segment(next(parts)), safe=""), route)
    params: dict[str, str] = {}
    if route == "runs":
        fp = views.RunsQuery().fingerprint()
        choices = {
            "where": wheres,
            "order_by": order_bys,
            "limit": numbers,
            "offset": numbers,
            "q": st.text(max_size=30),
            "experiment": names,
            "status": st.sampled_from(["finished", "failed", "bogus"]),
            "kind": st.sampled_from(["script", "pipeline", "x"]),
            "gate": st.sampled_from(["passed", "failed", "warned", "none", "bogus"]) | names,
            "notebook": st.text(max_size=30),
            "cursor": st.one_of(
                st.text(max_size=40),
                st.builds(
                    _cursor,
                    json_values | st.sampled_from([1e20, -5, 10**30]),
                    json_values,
                    st.just(fp),
                ),
            ),
        }
        params = draw(st.fixed_dictionaries({}, optional=choices))
    elif route.startswith("monitors/"):
        choices = {
            "since": numbers,
            "now": numbers,
            "kind": st.sampled_from(["drift", "performance", "x"]),
            "column": st.text(max_size=20),
            "metric": st.text(max_size=20),
        }
        params = draw(st.fixed_dictionaries({}, optional=choices))
    elif route == "compare":
        ids = st.lists(st.sampled_from(real_ids) | junk_names, max_size=5).map(",".join)
        params = draw(st.fixed_dictionaries({}, optional={"ids": ids}))
    body = None
    if method == "POST":
        kind = "promote" if route == "promote" else route.rsplit("/", 1)[-1]
        body = draw(
            _body(kind)
            if kind in BODY_FIELDS
            else json_values.map(lambda v: json.dumps(v).encode())
        )
    return method, path, params, body


# -- the tests ----------------------------------------------------------------------------------


def _fuzz(server: LiveServer, strategy: st.SearchStrategy[Any], examples: int) -> None:
    before = server.answered

    @settings(BUDGET, max_examples=examples)
    @given(strategy)
    def fuzz(req: tuple[str, str, dict[str, str], bytes | None]) -> None:
        server.check(*req)

    fuzz()
    assert server.answered - before >= examples
    assert not any(code >= 500 for code in server.statuses), server.statuses


def test_every_route_answers_bad_input_with_a_4xx(live) -> None:
    server, project = live
    _fuzz(server, requests(project), 200)
    # Not a test that cannot fail: the fuzz reached the data as well as the errors.
    assert server.statuses.get(200, 0) > 0 and server.statuses.get(400, 0) > 0, server.statuses


def test_runs_listing_filters_orders_and_cursors(live) -> None:
    server, project = live
    _fuzz(server, requests(project, only="runs"), 150)


def test_post_bodies(live) -> None:
    server, project = live
    _fuzz(server, requests(project, only="POST"), 100)


def test_the_crashers_of_issue_17_are_a_400(live) -> None:
    """The seed list: each of these crashed the server or answered 500 before."""
    server, project = live
    run = project.script[0]
    fp = views.RunsQuery().fingerprint()
    for order in CRASH_ORDER[:3]:
        assert server.check("GET", "runs", {"order_by": order}) == 400
    for where in CRASH_WHERE:
        assert server.check("GET", "runs", {"where": where}) == 400, where
    status, _, text = server.request("GET", "runs", {"where": "not " * 900 + "x"})
    assert status == 400 and "nested more than 32 levels" in text  # the language's own bound
    status, _, text = server.request("GET", "runs", {"where": "x" * 4001})
    assert status == 400 and "where is 4001 characters long; the limit is 4000" in text
    for params in (
        {"offset": "9223372036854775807"},
        {"offset": "-1"},
        {"limit": "1e400"},
        {"cursor": _cursor(1e20, 1.0, fp)},
        {"cursor": _cursor(-5, 1.0, fp)},
        {"cursor": _cursor(0, float("inf"), fp)},
    ):
        assert server.check("GET", "runs", params) == 400, params
    long = "a" * 2000
    for path in (f"pipelines/{long}", f"monitors/{long}", f"monitors/{long}/series"):
        status, _, text = server.request("GET", path)
        assert status == 400 and "128" in text, (path, text)
    for path, body in (
        (f"pipelines/{long}/run", b"{}"),
        ("promote", json.dumps({"notebook": "train_ok.ipynb", "name": long}).encode()),
        ("promote", json.dumps({"notebook": "train_ok.ipynb", "gates": 5}).encode()),
        ("models/train_ok/bless", json.dumps({"version": 10**30}).encode()),
        ("models/train_ok/bless", json.dumps({"version": 1, "reason": {"x": 1}}).encode()),
        ("models/train_ok/rollback", json.dumps({"to": 10**30}).encode()),
        (f"runs/{run}/reproduce", b'{"tolerance": NaN}'),
        (f"runs/{run}/reproduce", b'{"tolerance": -1}'),
        ("models/train_ok/bless", _deep(2000)),
        ("promote", _deep(2000, "{", "}")),
    ):
        assert server.check("POST", path, body=body) == 400, (path, body[:80])
    for params in ({"since": "-7d"}, {"now": "nan"}, {"now": "inf"}, {"now": "1e400"}):
        for path in ("monitors/churn", "monitors/churn/series"):
            assert server.check("GET", path, params) == 400, (path, params)
