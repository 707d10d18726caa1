"""Evidently's verdicts on pairs of parquet files; run inside Evidently's own venv.

    <evidently venv>/bin/python benchmarks/evidently_side.py MANIFEST.json OUT.json

``MANIFEST.json`` holds ``{"jobs": [[reference.parquet, current.parquet], ...]}``. For each job
this runs ``Report([DataDriftPreset()])`` with Evidently's defaults (its own column types and
tests, dataset drift when >= 50 % of columns drift) and writes, in job order,
``{"dataset": bool, "columns": {name: bool}, "seconds": float}``. It imports nothing from
jupyter_mlops: Evidently 0.7.23 needs pandas < 3, which the project's venv does not have.
"""

from __future__ import annotations

import json
import sys
import time
from functools import lru_cache

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset


@lru_cache(maxsize=4)  # several scenarios share one reference file
def _read(path: str) -> pd.DataFrame:
    return pd.read_parquet(path)


def _drifted(metric: dict) -> bool:
    """Evidently's own rule: a p-value drifts at or under its threshold, a distance at or over."""
    config = metric["config"]
    if "p_value" in config["method"]:
        return bool(metric["value"] <= config["threshold"])
    return bool(metric["value"] >= config["threshold"])


def verdict(reference: pd.DataFrame, current: pd.DataFrame) -> dict:
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    columns, dataset = {}, False
    for metric in snapshot.dict()["metrics"]:
        kind = metric["config"]["type"]
        if kind.endswith("DriftedColumnsCount"):
            dataset = bool(metric["value"]["share"] >= metric["config"]["drift_share"])
        elif kind.endswith("ValueDrift"):
            columns[metric["config"]["column"]] = _drifted(metric)
    return {"dataset": dataset, "columns": columns, "seconds": time.perf_counter() - start}


def main() -> None:
    manifest, out = sys.argv[1], sys.argv[2]
    with open(manifest) as f:
        jobs = json.load(f)["jobs"]
    results = [verdict(_read(ref), _read(cur)) for ref, cur in jobs]
    with open(out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
