"""Promote a notebook to a pipeline: write a reviewable ``pipelines/NAME.yaml`` for it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..bounds import NAME_PATTERN, check_name
from ..cron import UTC, CronSchedule, load_zone, parse_duration
from ..exceptions import PipelineSpecError, ValidationError
from ..validation.gates import GateSpec, parse_gates
from .notebook import (
    check_notebook_unchanged,
    diff_cells,
    kernel_name,
    notebook_code,
    notebook_code_hash,
    notebook_parameters,
    read_notebook,
    read_notebook_parameters,
)
from .spec import Parameter, PipelineSpec, load_gates, load_spec, save_spec, spec_file

# Reading the notebook lives in notebook.py; these are re-exported as part of promote's API.
__all__ = [
    "PromoteResult",
    "check_notebook_unchanged",
    "notebook_code_hash",
    "promote",
    "read_notebook_parameters",
    "sanitize_name",
]


def sanitize_name(stem: str) -> str:
    """A pipeline name from a notebook file name: '01 Train Model' → '01-train-model'."""
    name = re.sub(r"[^a-z0-9_.-]+", "-", stem.lower()).strip("-.")
    return name or "pipeline"


@dataclass(frozen=True)
class PromoteResult:
    spec: PipelineSpec
    path: Path
    created: bool  # False when an existing spec was updated
    messages: tuple[str, ...] = ()  # hints for the user (e.g. how to add parameters)
    changes: tuple[str, ...] = ()  # what differs from the previous spec


def promote(
    notebook: str | Path,
    *,
    name: str | None = None,
    schedule: str | None = None,
    gates: str | Path | Iterable[Mapping[str, Any] | GateSpec] | None = None,
    timeout: str | float | None = None,
    retries: int | None = None,
    kernel: str | None = None,
    pipelines_dir: str | Path | None = None,
    timezone: str | None = None,
) -> PromoteResult:
    """Write ``<pipelines_dir>/NAME.yaml`` for ``notebook`` (by default the project's
    pipelines folder).

    Options left as None keep the value of an existing spec (so re-promoting after a code change
    keeps hand-edited schedule and gates), else default to no schedule, no gates, 1h, 0 retries.
    """
    nb_path = Path(notebook)
    nb = read_notebook(nb_path)
    if name is not None and not NAME_PATTERN.match(name):
        raise ValidationError(
            f"Invalid pipeline name '{name}'; use letters, digits, '_', '-' and '.', e.g. "
            f"--name {sanitize_name(name)}"
        )
    name = check_name(name or sanitize_name(nb_path.stem), "pipeline name")
    target = spec_file(name, pipelines_dir)
    previous, messages = _previous_spec(target)
    params, hints = notebook_parameters(nb, str(nb_path))
    recorded_kernel = kernel_name(nb, str(nb_path)) if kernel is None else None
    hints += _hints(params, kernel, recorded_kernel, previous)
    code = notebook_code(nb)
    # Hand-edited scheduling fields (catch-up, retry_on, notify, retention,
    # monitor, register) survive a re-promote.
    kept = {f: getattr(previous, f) for f in _SCHEDULING} if previous else {}
    if timezone is not None:
        # load_zone raises the one-line error for an unknown zone; UTC is written as no zone.
        kept["timezone"] = None if load_zone(timezone) is UTC else timezone
    spec = PipelineSpec(
        name=name,
        notebook=_relative(nb_path, target.parent),
        notebook_hash=code.hash,
        cell_hashes=code.cell_hashes,
        kernel=kernel or recorded_kernel or (previous.kernel if previous else "python3"),
        parameters=tuple(params),
        schedule=_schedule(schedule) if schedule is not None else _keep(previous, "schedule", None),
        timeout=_timeout(timeout) if timeout is not None else _keep(previous, "timeout", "1h"),
        retries=_retries(retries) if retries is not None else _keep(previous, "retries", 0),
        gates=_gates(gates) if gates is not None else _keep(previous, "gates", ()),
        **kept,
    )
    changes = _changes(previous, spec) if previous else []
    save_spec(spec, target)
    return PromoteResult(spec, target, previous is None, tuple(messages + hints), tuple(changes))


def _hints(
    params: list[Parameter],
    kernel: str | None,
    recorded_kernel: str | None,
    previous: PipelineSpec | None,
) -> list[str]:
    """What the user should know about the promoted spec: derived parameters, a kernel guessed."""
    hints = []
    derived = [p.name for p in params if p.derived]
    if derived:
        hints.append(
            f"derived parameter(s) {', '.join(derived)}: computed in the notebook from other "
            "parameters, and recomputed when one of those is overridden; -p overrides them "
            "with any literal"
        )
    if kernel is None and recorded_kernel is None:
        fallback = previous.kernel if previous else "python3"
        hints.append(
            f"the notebook records no kernel (metadata.kernelspec); runs use '{fallback}', "
            "set another with --kernel NAME"
        )
    return hints


_SCHEDULING = (
    "timezone", "catchup", "max_catchup", "retry_backoff", "retry_on", "notify", "retention",
    "monitor", "register",
)  # fmt: skip


def _previous_spec(target: Path) -> tuple[PipelineSpec | None, list[str]]:
    if not target.exists():
        return None, []
    try:
        return load_spec(target), []
    except PipelineSpecError as e:
        return None, [f"Replaced {target}, which was invalid ({e})"]


def _keep(previous: PipelineSpec | None, attr: str, default: Any) -> Any:
    return getattr(previous, attr) if previous is not None else default


def _relative(notebook: Path, spec_dir: Path) -> str:
    try:
        return Path(os.path.relpath(notebook.resolve(), spec_dir.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return notebook.resolve().as_posix()


def _schedule(expr: str) -> str:
    return CronSchedule.parse(expr).expr


def _timeout(value: str | float) -> str:
    seconds = parse_duration(value)  # raises with the accepted forms
    if seconds <= 0:
        raise ValidationError(f"Timeout must be more than zero, got {value!r}; e.g. --timeout 30m")
    return str(value)


def _retries(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(
            f"Retries must be a whole number >= 0, got {value!r}; e.g. --retries 2"
        )
    return value


def _gates(gates: str | Path | Iterable[Mapping[str, Any] | GateSpec]) -> tuple[GateSpec, ...]:
    if isinstance(gates, (str, Path)):
        return load_gates(gates)
    return parse_gates(gates)


def _declared(p: Parameter) -> str:
    return f"{p.expression} (derived)" if p.expression is not None else f"{p.type} = {p.default!r}"


def _changes(old: PipelineSpec, new: PipelineSpec) -> list[str]:
    out = []
    if old.notebook_hash != new.notebook_hash:
        diff = diff_cells(old.cell_hashes, new.cell_hashes).describe()
        out.append("notebook code: " + ("; ".join(diff) or "changed"))
    before = {p.name: p for p in old.parameters}
    after = {p.name: p for p in new.parameters}
    out += [f"parameter '{n}' added" for n in after if n not in before]
    out += [f"parameter '{n}' removed" for n in before if n not in after]
    for n in sorted(after.keys() & before.keys()):
        a, b = before[n], after[n]
        if (a.type, a.default, a.expression) != (b.type, b.default, b.expression):
            out.append(f"parameter '{n}': {_declared(a)} -> {_declared(b)}")
    for attr in ("notebook", "kernel", "schedule", "timezone", "timeout", "retries"):
        if getattr(old, attr) != getattr(new, attr):
            out.append(f"{attr}: {getattr(old, attr)!r} -> {getattr(new, attr)!r}")
    if old.gates != new.gates:
        out.append(f"gates: {len(old.gates)} -> {len(new.gates)} gates")
    return out
