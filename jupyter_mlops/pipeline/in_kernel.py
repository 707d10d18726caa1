"""The kernel side of a pipeline run, started by a cell the runner injects first.

It points the kernel at the runner's store, makes the pipeline run the *ambient* run (so
``mlops.log_metric`` / ``log_model`` in the notebook land on it, and ``%%track`` cells become its
children), seeds the RNGs with the run's seed, and flushes what the notebook logged after every
cell, because papermill shuts the kernel down as soon as the last cell ends.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ..hashing.files import file_inputs
from ..store import RunUpdate
from ..tracking import PARENT_ENV, default_tracker, reset_default_tracker, set_ambient_run
from ..tracking.environment import current_environment, peak_rss
from ..tracking.filewatch import FileCollector
from ..tracking.seeding import apply_seed

INJECTED_TAG = "jupyter-mlops-injected"
_seeded: set[str] = set()


def init_source(
    run_id: str, seed: int | None, store: str, notebook: str, env: dict[str, str] | None = None
) -> str:
    """The source of the injected first cell."""
    return (
        "# Injected by jupyter-mlops: records this execution as pipeline run "
        f"{run_id[:8]}\nimport jupyter_mlops.pipeline.in_kernel as _jupyter_mlops_kernel\n"
        f"_jupyter_mlops_kernel.init(run_id={run_id!r}, seed={seed!r}, store={store!r}, "
        f"notebook={notebook!r}, env={env or {}!r})\ndel _jupyter_mlops_kernel"
    )


def init(
    run_id: str, seed: int | None, store: str, notebook: str, env: dict[str, str] | None = None
) -> None:
    """``env``: the runner's project folders as settings (``project_environment``), so the
    kernel finds the runner's project from whichever folder the notebook runs in."""
    os.environ.update(env or {})
    os.environ["JUPYTER_MLOPS_STORE"] = store
    os.environ[PARENT_ENV] = run_id
    os.environ["JUPYTER_MLOPS_NOTEBOOK"] = notebook
    reset_default_tracker()
    run = default_tracker().attach_run(run_id)
    set_ambient_run(run)
    if seed is not None:
        import numpy  # noqa: F401  - imported now so the notebook's numpy starts seeded

        _seeded.update(apply_seed(seed))
    files = FileCollector(exclude=(store,)).start()
    ip = _ipython()
    if ip is not None:
        ip.events.register("post_run_cell", lambda result: _after_cell(run, seed, files))


def _ipython() -> Any:
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def _after_cell(run: Any, seed: int | None, files: FileCollector) -> None:
    # torch/tensorflow imported by this cell get the run's seed before the next cell runs.
    new = {m for m in ("torch", "tensorflow") if m in sys.modules and m not in _seeded}
    if seed is not None and new:
        _seeded.update(apply_seed(seed, only=new))
    inputs = file_inputs(files.drain(), run.warn)
    run.attach(RunUpdate(peak_memory=peak_rss(), data=inputs, environment=current_environment()))
    run.flush()
