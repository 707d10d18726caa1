"""Re-execute a recorded run in a fresh kernel and say whether it reproduced.

A pipeline run is re-executed from the code of its stored output notebook, with its recorded
parameters and seed. A ``%%track`` cell run is replayed from the session history it recorded (the
cells as executed, in order, even after out-of-order execution), with the recorded seed on every
tracked cell (see :mod:`.replay`). Inputs are compared by fingerprint, then metrics exactly or
within a tolerance.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .entities import DataRef, DataRole, Run, RunKind, RunStatus
from .exceptions import ValidationError
from .replay import replay_cells, replay_pipeline
from .store.base import RunUpdate
from .tracking import REPRODUCES_TAG, Tracker, default_tracker


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


def _explain(
    input_changes: dict[str, str], output_diffs: dict[str, str], cells: list[str]
) -> tuple[str, bool]:
    """The message for changed inputs and outputs, naming the file a changed frame was read
    from and its columns, and telling changed data from cells that are not deterministic.
    Also whether only non-determinism explains the changes (no data changed)."""
    from .tracking.seeding import nondeterministic_calls

    files = {k: v for k, v in input_changes.items() if v in ("content changed", "missing")}
    frames = {k: v for k, v in input_changes.items() if k not in files}
    frames.update({k: v for k, v in output_diffs.items() if k not in frames})
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


def _verdict(
    original: Run, new: Run | None, tolerance: float, cells: list[str] | None = None
) -> Reproduction:
    """Judge the re-execution ``new`` of ``original``: what differs, and the verdict."""
    if new is None or new.status is not RunStatus.FINISHED:
        why = new.error if new is not None and new.error else None
        message = (
            f"the re-execution failed: {why}"
            if why
            else "the re-execution did not record the reproduced cell's run"
        )
        return Reproduction(original, new, "failed", message=message)
    inputs = compare_inputs(original.inputs, new.inputs)
    outputs = compare_outputs(original, new)
    metric_diffs = {}
    for key, value in original.metrics.items():
        got = new.metrics.get(key, float("nan"))
        if not _same(value, got, tolerance):
            metric_diffs[key] = (value, got)
    verdict, message = _judge(original, inputs, outputs, metric_diffs, tolerance, cells or [])
    return Reproduction(original, new, verdict, inputs, metric_diffs, message, outputs)


def _judge(
    original: Run,
    inputs: dict[str, str],
    outputs: dict[str, str],
    metric_diffs: dict[str, tuple[float, float]],
    tolerance: float,
    cells: list[str],
) -> tuple[str, str]:
    """The verdict on a re-execution that finished, and the message saying why."""
    if inputs:
        why, random_only = _explain(inputs, outputs, cells)
        verdict = "differs" if random_only else "inputs changed"
        return verdict, ("not deterministic: " if random_only else "inputs changed: ") + why
    if metric_diffs or outputs:
        metrics = "; ".join(f"{k} {a} → {b}" for k, (a, b) in metric_diffs.items())
        changed = "; ".join(f"{k} ({v})" for k, v in outputs.items())
        return "differs", "; ".join(
            m
            for m in (
                metrics and f"metrics differ: {metrics}",
                changed and f"outputs differ: {changed}",
            )
            if m
        )
    message = f"all {len(original.metrics)} metrics match" + (
        f" within {tolerance}" if tolerance else " exactly"
    )
    if original.data:
        n = sum(d.role is DataRole.OUTPUT for d in original.data)
        message += f"; {n} outputs the same" if n else ""
    return "reproduced", message


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
        new = replay_pipeline(original, tracker, progress)
    elif original.kind is RunKind.CELL:
        new = replay_cells(original, tracker)
        texts = tracker.store.get_code(list(original.history))
        cells = [texts.get(sha, "") for sha in original.history]
    else:
        raise ValidationError(
            f"Run {original.short_id} is a script run; only pipeline and "
            "%%track cell runs record the code needed to reproduce them"
        )
    return _verdict(original, new, tolerance, cells)


__all__ = ["REPRODUCES_TAG", "Reproduction", "compare_inputs", "reproduce"]
