"""Print benchmark results as one table (shared by every benchmark script)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def result(
    name: str,
    value: float | None,
    unit: str,
    baseline: float | None,
    target: str,
    passed: bool | None,
    note: str = "",
    ratio: float | None = None,
) -> dict[str, Any]:
    """One benchmark row; ``ratio`` defaults to value / baseline."""
    if ratio is None and baseline and value is not None:
        ratio = value / baseline
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "ratio": ratio,
        "target": target,
        "passed": passed,
        "note": note,
    }


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn`` over ``repeats`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"


def format_table(results: list[dict[str, Any]]) -> str:
    head = (
        f"{'benchmark':44} {'value':>12} {'unit':5} {'baseline':>10} {'ratio':>8}  {'target':10} ok"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        ok = {True: "PASS", False: "FAIL", None: ""}[r.get("passed")]
        ratio = f"{r['ratio']:.3f}x" if r.get("ratio") is not None else "-"
        lines.append(
            f"{r['name'][:44]:44} {_fmt(r['value']):>12} {r['unit']:5} "
            f"{_fmt(r.get('baseline')):>10} {ratio:>8}  {r['target']:10} {ok}"
        )
        if r.get("note"):
            lines.append(f"{'':46}{r['note']}")
    return "\n".join(lines)


def print_table(results: list[dict[str, Any]]) -> None:
    print(format_table(results))


def write_parameterized_notebook(path: Any, parameters: str, body: str) -> None:
    """A two-cell python3 notebook: a cell tagged ``parameters``, then ``body``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)


def main(doc: str, run: Callable[[bool], list[dict[str, Any]]], quick_help: str) -> None:
    """A benchmark's command line: ``--quick`` (``quick_help``) and ``--json``, then its table."""
    import argparse
    import json

    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--quick", action="store_true", help=quick_help)
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = p.parse_args()
    rows = run(args.quick)
    print(json.dumps(rows, indent=2)) if args.json else print_table(rows)
