"""A gate kind from outside jupyter-mlops: ``even_rows`` passes when a dataset has an even
number of rows (``expect: odd`` flips it). It uses only the public gate API."""

from __future__ import annotations

from typing import Any

from jupyter_mlops.validation.gates import GateContext, GateKind, GateSpec, Outcome, one_of


def check_even_rows(spec: GateSpec, ctx: GateContext) -> Outcome:
    rows = len(ctx.datasets[spec.options["dataset"]])
    want = spec.options.get("expect", "even")
    return Outcome((rows % 2 == 0) == (want == "even"), observed=rows, threshold=f"{want} rows")


def _dataset(v: Any) -> str | None:
    return None if isinstance(v, str) and v else "must be a dataset name"


EVEN_ROWS = GateKind(
    check_even_rows, {"dataset": (True, _dataset), "expect": (False, one_of("even", "odd"))}
)
