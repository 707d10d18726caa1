"""MLflow's side of ``bench_frameworks.py``: run in MLflow's venv (``mlflow_runner.py``), it
times the same cells (``frameworks_cells.py``) without and with ``mlflow.autolog()``.

    python mlflow_side.py SPEC.json OUT.json

SPEC: ``{"cases": [{"key", "setup", "cell", "pairs"}], "variants": {label: autolog kwargs},
"tracking_uri": "sqlite:///..."}``. OUT: per case and variant, the untracked and tracked
seconds of each pair, and the versions that ran. The working directory is where MLflow writes
its artifacts (the runner gives a temporary one).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from frameworks_cells import paired


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("mlflow", "xgboost", "torch", "lightning"):
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


def _case(mlflow: Any, case: dict[str, Any], pairs: int, variants: dict[str, Any]) -> Any:
    ns: dict[str, Any] = {"__name__": "__main__"}
    exec(case["setup"], ns)
    code = compile(case["cell"], f"<{case['key']}>", "exec")
    flush = getattr(mlflow, "flush_async_logging", None)

    def run_plain() -> None:
        exec(code, ns)

    def run_tracked() -> None:
        exec(code, ns)
        if mlflow.active_run() is not None:  # autolog ends the runs it starts itself
            mlflow.end_run()
        if flush is not None:  # what autolog queued is part of its cost
            flush()

    out = {}
    for label, kwargs in variants.items():

        def before(tracked: bool, kwargs: dict[str, Any] = kwargs) -> None:
            if tracked:
                mlflow.autolog(**kwargs, silent=True)
            else:
                mlflow.autolog(disable=True, silent=True)

        # warm-up: the store's tables, the first autologged run's imports
        for tracked in (False, True):
            before(tracked)
            (run_tracked if tracked else run_plain)()
        out[label] = paired(run_plain, run_tracked, pairs, before)
    mlflow.autolog(disable=True, silent=True)
    return out


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    import mlflow

    mlflow.set_tracking_uri(spec["tracking_uri"])
    mlflow.set_experiment("bench-frameworks")
    results = {
        case["key"]: _case(mlflow, case, case["pairs"], spec["variants"]) for case in spec["cases"]
    }
    Path(sys.argv[2]).write_text(json.dumps({"versions": _versions(), "results": results}))


if __name__ == "__main__":
    main()
