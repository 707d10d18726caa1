"""The one rule for a runs table's default columns (views/columns.py), over hand-made pages and
over a real store's runs page (both backends)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jupyter_mlops as mlops
from jupyter_mlops.entities import RunKind, RunRow, RunStatus
from jupyter_mlops.views import RunsQuery, all_runs, runs_page
from jupyter_mlops.views.columns import MAX_PER_NAMESPACE, RunColumns, choose_columns
from jupyter_mlops.views.values import encode

T0 = dt.datetime(2026, 11, 23, 10, 2, tzinfo=dt.timezone.utc)


def row(i: int, params: dict[str, Any] | None = None, metrics: dict[str, float] | None = None):
    return RunRow(
        f"r{i}", "e", None, RunStatus.FINISHED, RunKind.CELL, None, T0, 1.0, None, None, None,
        None, params or {}, metrics or {},
    )  # fmt: skip


def test_metrics_most_runs_have_are_chosen_and_all_are_ranked_by_count() -> None:
    rows = [
        row(0, metrics={"acc": 0.9, "loss": 0.3, "f1": 0.8}),
        row(1, metrics={"acc": 0.8, "loss": 0.4}),
        row(2, metrics={"acc": 0.7, "auc": 0.6}),
    ]
    cols = choose_columns(rows, max_metrics=2)
    assert cols.all_metrics == ("acc", "loss", "auc", "f1")  # by count, ties by name
    assert cols.metrics == ("acc", "loss")
    assert choose_columns(rows, max_metrics=0).metrics == ()


def test_varying_params_come_first_and_constant_ones_last_and_unchosen() -> None:
    rows = [
        row(i, params={"C": [0.1, 1.0, 10.0][i], "solver": "saga", "seed": None}) for i in range(3)
    ]
    cols = choose_columns(rows)
    assert cols.params == ("C",)
    assert cols.all_params == ("C", "solver")  # an all-None param is not offered at all


def test_a_param_only_some_runs_set_varies() -> None:
    rows = [row(0, params={"lr": 0.1, "k": 1}), row(1, params={"k": 1})]
    assert choose_columns(rows).params == ("lr",)


def test_namespaced_params_yield_to_shallow_ones_and_are_capped_per_namespace() -> None:
    # A pipeline's estimator: forty clf.* params, three of which vary, beside one top-level one.
    rows = []
    for i in range(4):
        params: dict[str, Any] = {f"clf.p{j:02}": j for j in range(40)}
        params.update({"clf.C": i, "clf.gamma": i * 2, "clf.tol": i * 3, "n_rows": 100 + i})
        params.update({"prep__scale": i % 2 == 0})
        rows.append(row(i, params=params))
    cols = choose_columns(rows, max_params=4)
    assert cols.params[0] == "n_rows"
    assert sum(p.startswith("clf.") for p in cols.params) == MAX_PER_NAMESPACE
    assert "prep__scale" in cols.params  # scikit-learn's separator is a namespace too
    assert len(cols.all_params) == 45
    constant = {f"clf.p{j:02}" for j in range(40)}
    assert set(cols.all_params[-40:]) == constant  # offered, but last


def test_a_single_run_shows_its_own_shallow_params_and_tags() -> None:
    one = [row(0, params={"clf.C": 1, "alpha": 2, "beta": 3})]
    cols = choose_columns(one, {"r0": {"team": "vision"}})
    assert cols.params == ("alpha", "beta", "clf.C")
    assert cols.tags == ("team",)


def test_user_tags_that_vary_are_chosen_and_bookkeeping_tags_never_offered() -> None:
    rows = [row(i) for i in range(3)]
    tags = {
        f"r{i}": {"team": "a", "owner": f"u{i}", "rng_state": "x", "cwd": "/"} for i in range(3)
    }
    cols = choose_columns(rows, tags)
    assert cols.tags == ("owner",)
    assert cols.all_tags == ("owner", "team")


def test_values_that_are_lists_or_dicts_count_as_values() -> None:
    rows = [row(0, params={"layers": [1, 2]}), row(1, params={"layers": [1, 2]})]
    assert choose_columns(rows).params == ()  # the same list twice: constant
    rows.append(row(2, params={"layers": {"a": 1}}))
    assert choose_columns(rows).params == ("layers",)


def test_an_empty_page_has_no_columns() -> None:
    assert choose_columns([]) == RunColumns()


def test_the_runs_page_carries_tags_and_columns(tracker: mlops.Tracker) -> None:
    for i in range(3):
        with tracker.start_run(experiment="cols", tags={"owner": f"u{i}"}) as run:
            run.log_params({"C": i, "solver": "saga"})
            run.log_metric("acc", 0.5 + i / 10)
    page = runs_page(tracker, RunsQuery(experiment="cols"))
    assert page.columns == choose_columns(page.runs, page.tags)
    assert page.columns.params == ("C",) and page.columns.metrics == ("acc",)
    assert "owner" in page.columns.tags
    assert {page.tags[r.id]["owner"] for r in page.runs} == {"u0", "u1", "u2"}
    whole = all_runs(tracker, RunsQuery(experiment="cols"), limit=None)
    assert whole.columns == page.columns
    body = json.loads(encode(page))
    assert body["columns"]["all_params"] == ["C", "solver"]
    assert body["tags"][page.runs[0].id]["owner"] in {"u0", "u1", "u2"}
