"""Re-execute a recorded run in a fresh kernel and say whether it reproduced.

A pipeline run is re-executed from the code of its stored output notebook, with its recorded
parameters and seed. A ``%%track`` cell run is replayed from the session history it recorded (the
cells as executed, in order, even after out-of-order execution), with the recorded seed on every
tracked cell. Inputs are compared by fingerprint, then metrics exactly or within a tolerance.
"""

from __future__ import annotations

import datetime as dt
import math
import shlex
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .entities import DataRef, DataRole, Run, RunKind, RunStatus
from .exceptions import ValidationError
from .pipeline.in_kernel import INJECTED_TAG
from .pipeline.notebook import notebook_parameters
from .pipeline.params import plain_value
from .store.base import RunUpdate
from .tracking import REPRODUCES_TAG, Tracker, default_tracker
from .tracking.seeding import RNG_STATE_TAG

PAPERMILL_TAG = "injected-parameters"
# Every run a reproduction records carries REPRODUCES_TAG=<original id>: listings leave them out
# by default and no later cell takes one for its "previous run". The replay of the reproduced
# cell itself also carries TARGET_TAG, so it is found even when an earlier replayed cell failed.
TARGET_TAG = "reproduction"


@dataclass(repr=False)  # the repr is the verdict: the whole Run pair is no cell output
class Reproduction:
    original: Run
    new: Run | None
    verdict: str  # reproduced | differs | inputs changed | failed
    input_changes: dict[str, str] = field(default_factory=dict)  # name -> what changed
    metric_diffs: dict[str, tuple[float, float]] = field(default_factory=dict)
    message: str = ""
    output_diffs: dict[str, str] = field(default_factory=dict)  # name -> what changed

    def summary(self) -> str:
        new = self.new.short_id if self.new else "-"
        return f"{self.verdict}: run {self.original.short_id} re-executed as {new}; {self.message}"

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """The verdict, then a compact table of what differed (nothing when it reproduced)."""
        from html import escape

        color = {"reproduced": "#1a7f37", "failed": "#cf222e"}.get(self.verdict, "#9a6700")
        rows = [(name, "input", what, "") for name, what in self.input_changes.items()]
        rows += [(k, "metric", f"{a!r}", f"{b!r}") for k, (a, b) in self.metric_diffs.items()]
        rows += [(name, "output", what, "") for name, what in self.output_diffs.items()]
        head = (
            f'<div><b style="color:{color}">{escape(self.verdict)}</b>: '
            f"{escape(self.summary().split(': ', 1)[1])}</div>"
        )
        if not rows:
            return head
        cells = "".join(
            "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
        )
        return (
            head + '<table style="font-size:90%"><tr><th>what</th><th>kind</th>'
            f"<th>original / change</th><th>replay</th></tr>{cells}</table>"
        )

    # Not its fields (codec.py): runs as ids, metric pairs as {original, new}.
    def to_dict(self) -> dict[str, Any]:
        return {
            "original": self.original.id,
            "new": self.new.id if self.new else None,
            "verdict": self.verdict,
            "input_changes": self.input_changes,
            "metric_diffs": {
                k: {"original": a, "new": b} for k, (a, b) in self.metric_diffs.items()
            },
            "output_diffs": self.output_diffs,
            "message": self.message,
        }


def _same(a: float, b: float, tolerance: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def compare_inputs(
    original: tuple[DataRef, ...], new: tuple[DataRef, ...] | None
) -> dict[str, str]:
    """Inputs whose content differs: files are re-hashed now, in-memory data is compared with
    what the new run read (``new``), by name."""
    from .hashing import fingerprint_file

    changes = {}
    now = {d.name: d.fingerprint for d in new} if new is not None else {}
    for d in original:
        fp = d.fingerprint
        if fp.kind == "file" and fp.path:
            if not Path(fp.path).is_file():
                changes[d.name] = "missing"
            elif fingerprint_file(fp.path).hash != fp.hash:
                changes[d.name] = "content changed"
        elif new is not None and d.name in now and now[d.name].hash != fp.hash:
            changes[d.name] = "changed: " + ", ".join(now[d.name].changed_parts(fp) or ["content"])
    return changes


def compare_outputs(original: Run, new: Run) -> dict[str, str]:
    """Outputs the original run wrote whose fingerprint the replay did not write again."""
    now = {d.name: d.fingerprint for d in new.data if d.role is DataRole.OUTPUT}
    changes = {}
    for d in original.data:
        if d.role is not DataRole.OUTPUT:
            continue
        got = now.get(d.name)
        if got is None:
            changes[d.name] = "not written"
        elif got.hash != d.fingerprint.hash:
            parts = got.changed_parts(d.fingerprint) or ["content"]
            changes[d.name] = "changed: " + ", ".join(parts)
    return changes


def _assigning_cell(name: str, cells: list[str]) -> int | None:
    """The index of the last cell that assigns ``name`` (by syntax; magics lines skipped)."""
    import ast

    for i in range(len(cells) - 1, -1, -1):
        text = "\n".join(
            "" if ln.lstrip().startswith(("%", "!")) else ln for ln in cells[i].splitlines()
        )
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
                return i
    return None


def _explain(rep: Reproduction, cells: list[str]) -> tuple[str, bool]:
    """The message for changed inputs and outputs, naming the file a changed frame was read
    from and its columns, and telling changed data from cells that are not deterministic.
    Also whether only non-determinism explains the changes (no data changed)."""
    from .tracking.seeding import nondeterministic_calls

    files = {k: v for k, v in rep.input_changes.items() if v in ("content changed", "missing")}
    frames = {k: v for k, v in rep.input_changes.items() if k not in files}
    frames.update({k: v for k, v in rep.output_diffs.items() if k not in frames})
    parts, named, random_only = [], set(), bool(frames)
    for var, what in frames.items():
        cols = what.removeprefix("changed: ")
        i = _assigning_cell(var, cells)
        text = cells[i] if i is not None else ""
        source = next((f for f in files if Path(f).name in text), None)
        if source is None and i is not None:
            source = next(
                (w for w in _quoted(text) if "." in w and Path(w).suffix and "/" not in w[:1]),
                None,
            )
        calls = nondeterministic_calls(text)
        if source is not None:
            named.add(source)
            random_only = False
            parts.append(f"{source} changed; the frame read from it ({var}) differs in {cols}")
        elif calls and i is not None:
            parts.append(
                f"{var} differs in {cols} though no file changed: cell {i + 1} of the replayed "
                f"history is not deterministic ({calls[0]})"
            )
        else:
            random_only = False
            parts.append(f"{var} ({what})")
    parts += [f"{f} ({v})" for f, v in files.items() if f not in named]
    return "; ".join(parts), random_only and not files


def _quoted(text: str) -> list[str]:
    import re

    return re.findall(r"""['"]([^'"\n]+)['"]""", text)


def _verdict(rep: Reproduction, tolerance: float, cells: list[str] | None = None) -> Reproduction:
    if rep.new is None or rep.new.status is not RunStatus.FINISHED:
        rep.verdict = "failed"
        if not rep.message:
            why = rep.new.error if rep.new is not None and rep.new.error else None
            rep.message = (
                f"the re-execution failed: {why}"
                if why
                else "the re-execution did not record the reproduced cell's run"
            )
        return rep
    rep.input_changes.update(compare_inputs(rep.original.inputs, rep.new.inputs))
    rep.output_diffs.update(compare_outputs(rep.original, rep.new))
    for key, value in rep.original.metrics.items():
        got = rep.new.metrics.get(key, float("nan"))
        if not _same(value, got, tolerance):
            rep.metric_diffs[key] = (value, got)
    metrics = "; ".join(f"{k} {a} → {b}" for k, (a, b) in rep.metric_diffs.items())
    if rep.input_changes:
        why, random_only = _explain(rep, cells or [])
        rep.verdict = "differs" if random_only else "inputs changed"
        rep.message = ("not deterministic: " if random_only else "inputs changed: ") + why
    elif rep.metric_diffs or rep.output_diffs:
        rep.verdict = "differs"
        outputs = "; ".join(f"{k} ({v})" for k, v in rep.output_diffs.items())
        rep.message = "; ".join(
            m
            for m in (
                metrics and f"metrics differ: {metrics}",
                outputs and f"outputs differ: {outputs}",
            )
            if m
        )
    else:
        rep.verdict = "reproduced"
        rep.message = f"all {len(rep.original.metrics)} metrics match" + (
            f" within {tolerance}" if tolerance else " exactly"
        )
        if rep.original.data:
            n = sum(d.role is DataRole.OUTPUT for d in rep.original.data)
            rep.message += f"; {n} outputs the same" if n else ""
    return rep


def reproduce(
    run_id: str,
    *,
    tolerance: float = 0.0,
    tracker: Tracker | None = None,
    progress: bool = False,
    clock: Callable[[], float] = time.time,
) -> Reproduction:
    """Re-execute run ``run_id`` and judge it; the verdict is also kept on the original run
    (tags ``reproduced``, ``reproduced_at``, ``reproduced_by``) so ``show`` tells it."""
    tracker = tracker or default_tracker()
    rep = _reproduce(run_id, tolerance, tracker, progress)
    tracker.store.update_run(
        rep.original.id,
        RunUpdate(
            tags={
                "reproduced": rep.verdict,
                "reproduced_at": f"{clock():.3f}",
                "reproduced_by": rep.new.id if rep.new else "-",
            }
        ),
    )
    return rep


def _reproduce(run_id: str, tolerance: float, tracker: Tracker, progress: bool) -> Reproduction:
    original = tracker.get_run(run_id)
    if original.status is RunStatus.RUNNING:
        raise ValidationError(
            f"Run {original.short_id} is still running; reproduce it once it has ended"
        )
    missing = {k: v for k, v in compare_inputs(original.inputs, None).items() if v == "missing"}
    if missing:
        return Reproduction(
            original,
            None,
            "inputs changed",
            missing,
            message="inputs are gone: " + ", ".join(missing),
        )
    cells: list[str] = []
    if original.kind is RunKind.PIPELINE:
        new = _replay_pipeline(original, tracker, progress)
    elif original.kind is RunKind.CELL:
        new = _replay_cells(original, tracker)
        texts = tracker.store.get_code(list(original.history))
        cells = [texts.get(sha, "") for sha in original.history]
    else:
        raise ValidationError(
            f"Run {original.short_id} is a script run; only pipeline and "
            "%%track cell runs record the code needed to reproduce them"
        )
    return _verdict(Reproduction(original, new, ""), tolerance, cells)


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


def _replay_pipeline(original: Run, tracker: Tracker, progress: bool) -> Run | None:
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


def _replay_cells(original: Run, tracker: Tracker) -> Run | None:
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


__all__ = ["REPRODUCES_TAG", "Reproduction", "compare_inputs", "reproduce"]
