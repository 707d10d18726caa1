"""Actions front-ends offer besides the CLI: run a pipeline now (in another process), promote a
notebook, bless, roll back and unpin a model. Each returns a typed value; nothing here imports
tornado or IPython.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..entities import ModelPin, ModelVersion
from ..exceptions import ConflictError, ValidationError
from ..project import Project, project_environment
from .pipeline_form import named_pipeline
from .values import View

if TYPE_CHECKING:
    from ..tracking import Tracker


@dataclass(frozen=True)
class Launch(View):
    """A pipeline run started in a subprocess; ``run_id`` is its id in the store (its output
    goes to ``runs/RUN_ID/launch.log`` in the store's directory)."""

    run_id: str
    pipeline: str
    pid: int


@dataclass(frozen=True)
class Promoted(View):
    """A notebook promoted to a pipeline spec: where it was written and what changed."""

    path: str
    created: bool
    messages: tuple[str, ...]
    changes: tuple[str, ...]
    spec: dict[str, Any]  # the YAML spec as written: free-form


@dataclass(frozen=True)
class RolledBack(View):
    archived: ModelVersion
    blessed: ModelVersion


@dataclass(frozen=True)
class Unpinned(View):
    unpinned: ModelPin | None  # the removed pin; None when the model was not pinned


def launch_pipeline_run(
    tracker: Tracker,
    project: Project,
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    allow_changed: bool = False,
    python: str = sys.executable,
) -> Launch:
    """Start ``jupyter-mlops run NAME`` in a subprocess and return at once with the run's id.

    What can be checked cheaply is checked here, so the caller gets the error now rather than
    a run id that never appears: the pipeline exists, the parameters have their declared types,
    the notebook is unchanged, the kernel is installed, and no run of it is in progress."""
    from ..pipeline.engine import kernel_language
    from ..pipeline.notebook import check_notebook_unchanged
    from ..pipeline.params import coerce_params
    from .pipeline_form import check_bounds

    spec = named_pipeline(name, project.pipelines_dir)
    raw = {str(k): v if isinstance(v, str) else repr(v) for k, v in (params or {}).items()}
    overrides = coerce_params(spec.parameters, raw, None, source=f"pipeline '{spec.name}'")
    check_bounds(spec.parameters, overrides)
    if not allow_changed:
        check_notebook_unchanged(spec, spec.notebook_path())
    kernel_language(spec.kernel, spec.notebook_path(), spec.path, bool(overrides))
    busy = tracker.store.search_run_ids(
        where=f"experiment == {spec.name!r} and kind == 'pipeline' and status == 'running'",
        limit=1,
    )
    if busy:
        raise ConflictError(
            f"Pipeline '{spec.name}' is already running (run {busy[0][:8]}); wait for it to "
            "finish before starting another"
        )
    run_id = uuid.uuid4().hex
    location = tracker.store.child_location
    cmd = [python, "-m", "jupyter_mlops", "--store", location, "run", spec.name]
    cmd += ["--run-id", run_id, "--no-progress"]
    for k, v in raw.items():
        cmd += ["-p", f"{k}={v}"]
    if allow_changed:
        cmd.append("--allow-changed")
    log = project.run_outputs(run_id) / "launch.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("wb")
    # Its own session: the run survives a restart of the server that launched it.
    proc = subprocess.Popen(
        cmd,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=str(project.root),
        env={**os.environ, **project_environment(project), "JUPYTER_MLOPS_STORE": location},
        start_new_session=True,
    )
    out.close()
    # Reap the child when it ends, so no zombie stays behind in a long-lived server.
    threading.Thread(target=proc.wait, daemon=True, name=f"jupyter-mlops-run-{run_id[:8]}").start()
    return Launch(run_id, spec.name, proc.pid)


def promote_notebook(
    root: Path,
    notebook: str,
    pipelines_dir: Path,
    *,
    name: str | None = None,
    schedule: str | None = None,
    gates: Any = None,
    timeout: str | None = None,
    retries: int | None = None,
) -> Promoted:
    """Promote a notebook under ``root`` (paths outside it are refused) to a pipeline spec."""
    from ..pipeline import promote

    path = (root / notebook).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValidationError(f"Notebook {notebook!r} is outside {root}; give a path inside it")
    result = promote(
        path,
        name=name,
        schedule=schedule,
        gates=gates,
        timeout=timeout,
        retries=retries,
        pipelines_dir=pipelines_dir,
    )
    return Promoted(
        str(result.path),
        result.created,
        tuple(result.messages),
        tuple(result.changes),
        result.spec.to_dict(),
    )


def bless_model(
    tracker: Tracker, ref: str, reason: str | None = None, *, override_gates: bool = False
) -> ModelVersion:
    """Bless ``ref``; a version whose gates failed only with ``override_gates`` and a reason."""
    from ..registry import ModelRegistry

    return ModelRegistry(tracker.store).bless(ref, reason, override_gates=override_gates)


def rollback_model(
    tracker: Tracker, name: str, to: int | None = None, reason: str | None = None
) -> RolledBack:
    from ..registry import ModelRegistry

    old, new = ModelRegistry(tracker.store).rollback(name, to, reason)
    return RolledBack(old, new)


def unpin_model(tracker: Tracker, name: str, reason: str | None = None) -> Unpinned:
    """Let automated runs bless ``name`` again."""
    from ..registry import ModelRegistry

    return Unpinned(ModelRegistry(tracker.store).unpin(name, reason))
