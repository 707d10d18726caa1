"""How a recorded run is re-executed for :mod:`.reproduce`: a pipeline run from the code of its
stored output notebook, with its parameters and seed; a ``%%track`` run from the session history
it recorded, in a fresh kernel, with each tracked cell's recorded seed (or RNG states)."""

from __future__ import annotations

import datetime as dt
import shlex
import tempfile
from pathlib import Path
from typing import Any

from .entities import Run, RunKind, RunStatus
from .exceptions import ValidationError
from .pipeline.in_kernel import INJECTED_TAG
from .pipeline.notebook import notebook_parameters
from .pipeline.params import plain_value
from .tracking import REPRODUCES_TAG, Tracker
from .tracking.seeding import RNG_STATE_TAG

PAPERMILL_TAG = "injected-parameters"
# Every run a reproduction records carries REPRODUCES_TAG=<original id>: listings leave them out
# by default and no later cell takes one for its "previous run". The replay of the reproduced
# cell itself also carries TARGET_TAG, so it is found even when an earlier replayed cell failed.
TARGET_TAG = "reproduction"


def _notebook_of_pipeline(original: Run, tracker: Tracker) -> Any:
    import nbformat

    art = next((a for a in original.artifacts if a.kind == "notebook"), None)
    if art is None:
        raise ValidationError(f"Run {original.short_id} stored no output notebook to re-run")
    text = tracker.store.artifacts.read_bytes(art.uri, art.sha256).decode()
    nb = nbformat.reads(text, as_version=4)
    nb.cells = [
        c for c in nb.cells if not {INJECTED_TAG, PAPERMILL_TAG} & set(c.metadata.get("tags", []))
    ]
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    return nb


def replay_pipeline(original: Run, tracker: Tracker, progress: bool) -> Run | None:
    import nbformat

    from .pipeline.runner import PipelineRunner

    nb = _notebook_of_pipeline(original, tracker)
    folder = Path(original.notebook).parent if original.notebook else Path.cwd()
    runner = PipelineRunner(tracker, progress=progress)
    run = tracker.start_run(
        experiment=original.experiment,
        kind=RunKind.PIPELINE,
        seed=original.seed,
        params=original.params,
        tags={REPRODUCES_TAG: original.id, TARGET_TAG: "target"},
        notebook=original.notebook,
        name=f"reproduce {original.short_id}",
    )
    # Pass only values that differ from the notebook's own defaults, as the original run did.
    declared, _ = notebook_parameters(nb)
    defaults = {p.name: plain_value(p.default) for p in declared}
    params = {k: v for k, v in original.params.items() if defaults.get(k, object()) != v}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "replay.ipynb"
        nbformat.write(nb, source)
        try:
            execution = runner.replay(run, source, folder, params)
        except BaseException as e:
            from .tracking import status_for_exception

            run.end(*status_for_exception(e))
            raise
    run.end(
        RunStatus.FINISHED if execution.succeeded else RunStatus.FAILED,
        None if execution.succeeded else f"{execution.ename}: {execution.evalue}",
    )
    return tracker.get_run(run.id)


def _retag_line(
    line: str, seed: int | None, original_id: str, target: bool, record: bool = False
) -> str:
    """A ``%%track`` line with the recorded seed (or, with ``record``, the default: record the
    RNG states, restored just before) and the tags marking a reproduction's run."""
    words = shlex.split(line)[1:]
    out, skip, tags = [], False, ""
    for i, w in enumerate(words):
        if skip:
            skip = False
            continue
        if w in ("--seed", "--no-seed", "--tags"):
            skip = w != "--no-seed"
            if w == "--tags" and i + 1 < len(words):  # merged below: the magic takes one
                tags = words[i + 1]
            continue
        out.append(w)
    if seed is not None:
        out += ["--seed", str(seed)]
    elif not record:
        out.append("--no-seed")
    mine = f"{REPRODUCES_TAG}={original_id}" + (f",{TARGET_TAG}=target" if target else "")
    out += ["--tags", f"{tags},{mine}" if tags else mine]
    return "%%track " + " ".join(shlex.quote(w) for w in out)


def _tracked_run(body_sha: str, before: dt.datetime, tracker: Tracker) -> Run | None:
    """The last run (not a reproduction's) recorded for this exact tracked cell before."""
    # A datetime holds the stored epoch seconds to the microsecond: a margin of one keeps
    # the run that started at ``before`` itself out.
    where = f"started < {before.timestamp() - 1e-6!r}"
    ids = tracker.store.search_run_ids(where=where, order_by="-started")
    for rid in ids[:500]:
        r = tracker.get_run(rid)
        if REPRODUCES_TAG in r.tags:
            continue
        if r.kind is RunKind.CELL and r.history and r.history[-1] == body_sha:
            return r
    return None


def replay_cells(original: Run, tracker: Tracker) -> Run | None:
    from .tracking.cell import code_sha

    texts = tracker.store.get_code(list(original.history))
    missing = [s for s in original.history if s not in texts]
    if missing or not original.history:
        raise ValidationError(f"Run {original.short_id} has no complete session history to replay")
    cells = [texts[s] for s in original.history]
    replay = ["%load_ext jupyter_mlops"]
    for i, text in enumerate(cells):
        first, _, body = text.partition("\n")
        if not first.startswith("%%track"):
            replay.append(text)
            continue
        last = i == len(cells) - 1
        src = original if last else _tracked_run(code_sha(text), original.started, tracker)
        seed = src.seed if src else None
        state = src.tags.get(RNG_STATE_TAG) if src and seed is None else None
        if state:  # the RNG states the cell started with (and met on importing NumPy/torch)
            replay.append(
                "__import__('jupyter_mlops.tracking.fluent', fromlist=['_'])"
                f".restore_recorded({state!r});"
            )
        replay.append(_retag_line(first, seed, original.id, last, record=bool(state)) + "\n" + body)
    _execute_cells(replay, original, tracker)
    found = tracker.store.search_run_ids(
        where=f"tags.{REPRODUCES_TAG} == {original.id!r} and tags.{TARGET_TAG} == 'target'",
        order_by="-started",
        limit=1,
    )
    return tracker.get_run(found[0]) if found else None


def _execute_cells(cells: list[str], original: Run, tracker: Tracker) -> None:
    import os

    import nbformat
    from nbclient import NotebookClient

    from .pipeline.engine import QUIET_KERNEL_ARGS
    from .tracking.cell import CWD_TAG

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    # The kernel's own working directory first: headless runs (nbclient, papermill) know no
    # notebook path, and relative reads like "data.csv" must resolve as they did.
    cwd = original.tags.get(CWD_TAG)
    if cwd and Path(cwd).is_dir():
        folder = Path(cwd)
    elif original.notebook and Path(original.notebook).parent.is_dir():
        folder = Path(original.notebook).parent
    else:
        folder = Path.cwd()
    env = dict(os.environ, JUPYTER_MLOPS_STORE=tracker.store.child_location)
    # Cells that failed in the original session fail here too; replay goes on past them.
    NotebookClient(
        nb,
        timeout=3600,
        kernel_name="python3",
        extra_arguments=list(QUIET_KERNEL_ARGS),
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    ).execute(env=env)


__all__ = ["TARGET_TAG", "replay_cells", "replay_pipeline"]
