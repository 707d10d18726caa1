"""The query language is bounded, and every query it can build runs on both backends.

SQLite 3.40.1 (Debian's, which Python links) crashes on an ORDER BY of 64+ terms and refuses
expressions deeper than 1,000 and joins of 64+ tables. Rather than trust input limits alone
(issue 17), these tests fuzz the language: every filter and ordering of its grammar either
compiles and runs on the linked SQLite and on PostgreSQL, or is a ValidationError; the largest
shapes it allows run too; and ``jupyter-mlops runs --where/--order-by`` answers 0 or 2, never a
traceback. The crasher itself runs only in a subprocess.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import EXIT_USAGE, main
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.store import RunStore
from jupyter_mlops.store.query import (
    MAX_FILTER_DEPTH,
    MAX_FILTER_FIELDS,
    MAX_FILTER_TERMS,
    MAX_ORDER_KEYS,
    compile_query,
)
from jupyter_mlops.store.sqlite import MIN_SQLITE_VERSION, check_sqlite_version
from tests.conftest import python_env

BUDGET = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
METRICS = [f"m{i}" for i in range(MAX_FILTER_FIELDS)]
FIELDS = [
    *(f"metrics.{m}" for m in METRICS[:4]), "params.C", "params.solver", "tags.team",
    'tags["team"]', "started", "ended", "duration", "seed", "status", "name", "experiment",
    "id", "kind", "notebook", "peak_memory", "git_commit", "parent_id",
]  # fmt: skip
ORDER_FIELDS = [*(f"metrics.{m}" for m in METRICS[:8]), "params.C", "tags.team", "started"]
ORDER_FIELDS += ["name", "seed", "duration", "experiment", "status", "id"]


def _populate(tracker: mlops.Tracker) -> None:
    for i in range(4):
        with tracker.start_run(experiment=f"e{i % 2}", name=f"r{i}", seed=i) as run:
            run.log_metrics({m: float(i * j) for j, m in enumerate(METRICS)})
            run.log_params({"C": 10.0**i, "solver": "lbfgs" if i % 2 else "saga"})
            run.set_tags({"team": "a" if i % 2 else "b"})


literals = st.one_of(
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3), st.none()), max_size=4),
).map(repr)
comparisons = st.builds(
    "{} {} {}".format,
    st.sampled_from(FIELDS),
    st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "in", "not in", "is", "is not"]),
    literals,
)
filters = st.recursive(
    comparisons,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=6).map(" and ".join),
        st.lists(inner, min_size=2, max_size=6).map(" or ".join),
        st.builds("not ({})".format, inner),
        st.builds("({})".format, inner),
    ),
    max_leaves=60,
)
orderings = st.lists(
    st.builds(
        "{}{}{}".format,
        st.sampled_from(["", "-"]),
        st.sampled_from(ORDER_FIELDS),
        st.sampled_from(["", " DESC", " ASC"]),
    ),
    min_size=1,
    max_size=12,
)


def _run_all(store: RunStore, where: str | None, order_by: list[str] | None) -> None:
    """Run the filter and ordering the ways the store runs them (ids, top-N, frame)."""
    store.search_run_ids(where=where, order_by=order_by)
    store.search_run_ids(where=where, order_by=order_by, limit=2)
    store.runs_frame(where=where, order_by=order_by, limit=3)


def test_every_query_of_the_grammar_runs_or_is_a_validation_error(
    store: RunStore, tracker: mlops.Tracker
) -> None:
    _populate(tracker)
    outcomes = {"ran": 0, "refused": 0}

    @BUDGET
    @given(filters, st.none() | orderings)
    def fuzz(where: str, order_by: list[str] | None) -> None:
        try:
            _run_all(store, where, order_by)
        except ValidationError as e:
            assert "\n" not in str(e)
            outcomes["refused"] += 1
        else:
            outcomes["ran"] += 1

    fuzz()
    # Both sides were reached: queries ran on the engine, and the bounds refused some.
    assert outcomes["ran"] > 20 and outcomes["refused"] > 0, outcomes


def test_the_largest_queries_the_language_allows_run(
    store: RunStore, tracker: mlops.Tracker
) -> None:
    _populate(tracker)
    fields = [f"metrics.{m}" for m in METRICS]
    many = " and ".join(f"{fields[i % len(fields)]} >= 0" for i in range(MAX_FILTER_TERMS))
    # 28 levels of not: with the Compare, Attribute, Name and context below, the 32 allowed.
    deep = "not (" * (MAX_FILTER_DEPTH - 4) + "metrics.m1 >= 0" + ")" * (MAX_FILTER_DEPTH - 4)
    order = [f"-metrics.{m}" for m in METRICS[:MAX_ORDER_KEYS]]
    for where in (many, deep, f"id in {[str(i) * 32 for i in range(1000)]!r}"):
        _run_all(store, where, order)
    q = compile_query(many, order)
    # Each order key is two ORDER BY terms, and the store adds r.id: far below SQLite's 64.
    assert len(q.order.split(", ")) + 1 == 2 * MAX_ORDER_KEYS + 1 < 64
    assert len(q.joins) == MAX_FILTER_FIELDS  # the order keys are among the filter's


@pytest.mark.parametrize(
    "where, order_by, limit",
    [
        (None, ["metrics.m0"] * 32, "order_by has 32 keys; the limit is 8"),
        (None, ["metrics.m0", "-metrics.m0"], "twice"),
        ("not " * 3000 + "x", None, "nested more than 32 levels"),
        ("-" * 5000 + "1 > 0", None, "nested more than 32 levels"),
        (" and ".join(["metrics.m0 > 0"] * 1500), None, "tokens; the limit is 5000"),
        (" and ".join(["metrics.m0 > 0"] * 101), None, "the limit is 100"),
        (" and ".join(f"metrics.x{i} > 0" for i in range(41)), None, "more than 40 distinct"),
        ("metrics.m0 > 1e400", None, "not finite"),
        ("seed == 2**70", None, "literal"),
        ("seed == 99999999999999999999", None, "outside 64 bits"),
    ],
)
def test_each_bound_is_one_line_naming_its_limit(
    where: str | None, order_by: list[str] | None, limit: str
) -> None:
    with pytest.raises(ValidationError, match=limit) as e:
        compile_query(where, order_by)
    assert "\n" not in str(e.value)


def test_the_cli_answers_0_or_2_never_a_traceback(
    isolated_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _populate(mlops.default_tracker())  # the test's SQLite store
    codes: dict[int, int] = {}

    @settings(BUDGET, max_examples=60)
    @given(filters | st.text(max_size=40), st.none() | orderings.map(", ".join) | st.text())
    def fuzz(where: str, order_by: str | None) -> None:
        argv = ["--store", str(isolated_store), "runs", "--json", f"--where={where}"]
        if order_by is not None:
            argv.append(f"--order-by={order_by}")
        try:
            code = main(argv)
        except SystemExit as e:  # argparse refuses an option before main's own handling
            code = int(e.code or 0)
        out = capsys.readouterr()
        assert code in (0, EXIT_USAGE), (argv, out.err)
        assert "Traceback" not in out.err and "internal error" not in out.err
        if code:
            assert out.err.count("\n") == 1, out.err
        codes[code] = codes.get(code, 0) + 1

    fuzz()
    assert codes.get(0) and codes.get(EXIT_USAGE), codes


def test_the_order_by_crasher_is_exit_2_in_a_subprocess(isolated_store: Path) -> None:
    """32 keys of the same metric exited 139 (SIGSEGV in SQLite 3.40.1); run only in a child."""
    with mlops.default_tracker().start_run(experiment="e") as run:
        run.log_metric("accuracy", 0.9)
    keys = ", ".join(["metrics.accuracy"] * 32)
    out = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops", "runs", "--order-by", keys],
        capture_output=True,
        text=True,
        env=python_env(),
        timeout=120,
    )
    assert out.returncode == EXIT_USAGE, (out.returncode, out.stderr)
    assert out.stderr.count("\n") == 1 and "order_by has 32 keys; the limit is 8" in out.stderr


def test_the_store_refuses_an_older_sqlite_in_one_line() -> None:
    check_sqlite_version()  # the linked one is new enough
    assert tuple(map(int, sqlite3.sqlite_version.split("."))) >= MIN_SQLITE_VERSION
    with pytest.raises(
        Exception, match=r"needs SQLite 3\.24\.0 or newer; .* links SQLite 3\.22\.0"
    ):
        check_sqlite_version("3.22.0")
