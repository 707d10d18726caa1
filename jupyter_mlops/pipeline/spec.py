"""Pipeline specs: the reviewable ``pipelines/NAME.yaml`` that ``promote`` writes and ``run`` reads.

The YAML is meant to be read in code review and edited by hand (schedule, gates, timeout), so
loading validates every field (:mod:`.spec_checks`) and names the file and the field in its
error.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..cron import ZonedSchedule, parse_duration, parse_schedule
from ..exceptions import GateSpecError, PipelineSpecError
from ..validation.gates import GateSpec, parse_gates
from .monitor_spec import MonitorSpec
from .params import Parameter
from .spec_checks import (
    SPEC_VERSION,
    _backoff,
    _catchup,
    _check_keys,
    _exception_names,
    _field,
    _gates,
    _monitor,
    _non_empty,
    _parameters,
    _positive,
    _register,
    _retention,
    _retries,
    _str_list,
    _timeout,
    _valid_name,
    _version,
)

NOTIFY_EVENTS = ("failure", "gate_failed", "recovery")


@dataclass(frozen=True)
class NotifySpec:
    """Where to tell about a run: a webhook (JSON POST) and/or a shell command, on which events."""

    webhook: str | None = None
    command: str | None = None
    on: tuple[str, ...] = NOTIFY_EVENTS

    # The YAML form (codec.py keeps records only): defaults left out, parsed with messages.
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"webhook": self.webhook, "command": self.command}
        return {**{k: v for k, v in d.items() if v}, "on": list(self.on)}

    @classmethod
    def from_dict(cls, d: Any) -> NotifySpec:
        if not isinstance(d, Mapping):
            raise ValueError(f"expected a mapping with webhook, command and on, got {d!r}")
        # YAML 1.1 (PyYAML) reads a bare `on:` key as the boolean true.
        d = {("on" if k is True else k): v for k, v in d.items()}
        unknown = set(d) - {"webhook", "command", "on"}
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        webhook, command = d.get("webhook"), d.get("command")
        if webhook is not None and (
            not isinstance(webhook, str) or not webhook.startswith(("http://", "https://"))
        ):
            raise ValueError(f"webhook {webhook!r} must be an http:// or https:// URL")
        if command is not None and (not isinstance(command, str) or not command.strip()):
            raise ValueError(f"command {command!r} must be a shell command as text")
        if not webhook and not command:
            raise ValueError("give a webhook URL, a command, or both")
        on = d.get("on", list(NOTIFY_EVENTS))
        if isinstance(on, str):
            on = [on]
        if not isinstance(on, list) or not all(e in NOTIFY_EVENTS for e in on):
            raise ValueError(f"on {on!r} must list events from {', '.join(NOTIFY_EVENTS)}")
        return cls(webhook, command, tuple(on))


@dataclass(frozen=True)
class PipelineSpec:
    """A promoted notebook: what to run, with which parameters, when, and behind which gates."""

    name: str
    notebook: str  # relative to the spec file's directory (or absolute)
    notebook_hash: str = ""
    cell_hashes: tuple[str, ...] = ()
    kernel: str = "python3"
    parameters: tuple[Parameter, ...] = ()
    schedule: str | None = None  # cron
    timeout: str = "1h"
    retries: int = 0
    gates: tuple[GateSpec, ...] = ()
    version: int = SPEC_VERSION
    timezone: str | None = None  # IANA zone the cron is read in; None is UTC
    catchup: str = "latest"  # firings missed while no scheduler ran: none | latest | all
    max_catchup: int = 10  # with catchup 'all', at most this many (the latest) run
    retry_backoff: str = "30s"  # wait before retry k: retry_backoff * 2**(k-1)
    retry_on: tuple[str, ...] = ()  # exception names (besides kernel death, timeout) to retry
    notify: NotifySpec | None = None
    retention: int | None = None  # keep the newest N runs' outputs after each run
    monitor: MonitorSpec | None = None  # the `monitor:` key: production monitoring of its model
    register: str = "bless"  # bless | candidate: a passing model is registered, not blessed
    path: str | None = field(default=None, compare=False)  # the YAML file, when loaded from one

    @property
    def timeout_s(self) -> float:
        return parse_duration(self.timeout)

    @property
    def cron(self) -> ZonedSchedule | None:
        """The schedule in its time zone (UTC when none is given)."""
        return ZonedSchedule.parse(self.schedule, self.timezone) if self.schedule else None

    @property
    def retry_backoff_s(self) -> float:
        return parse_duration(self.retry_backoff)

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def notebook_path(self, base_dir: str | Path | None = None) -> Path:
        """The notebook's path, resolved against ``base_dir`` or else the spec file's directory."""
        base = Path(base_dir) if base_dir else Path(self.path).parent if self.path else Path()
        return (base / self.notebook).resolve()

    # The YAML form (codec.py keeps records only): defaults left out, parsed with messages.
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "name": self.name,
            "notebook": self.notebook,
            "notebook_hash": self.notebook_hash,
            "kernel": self.kernel,
            "parameters": [p.to_dict() for p in self.parameters],
            "schedule": (
                {"cron": self.schedule, "timezone": self.timezone}
                if self.schedule and self.timezone
                else self.schedule
            ),
            "timeout": self.timeout,
            "retries": self.retries,
            "gates": [g.to_dict() for g in self.gates],
            "cell_hashes": list(self.cell_hashes),
            **self._scheduling_dict(),
        }

    def _scheduling_dict(self) -> dict[str, Any]:
        """The scheduling fields that differ from their defaults (short specs stay short)."""
        d: dict[str, Any] = {}
        if self.catchup != "latest" or self.max_catchup != 10:
            d.update(catchup=self.catchup, max_catchup=self.max_catchup)
        if self.retry_backoff != "30s":
            d["retry_backoff"] = self.retry_backoff
        if self.retry_on:
            d["retry_on"] = list(self.retry_on)
        if self.notify is not None:
            d["notify"] = self.notify.to_dict()
        if self.retention is not None:
            d["retention"] = {"keep": self.retention}
        if self.monitor is not None:
            d["monitor"] = self.monitor.to_dict()
        if self.register != "bless":
            d["register"] = self.register
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str | None = None) -> PipelineSpec:
        """Validate a spec mapping; errors name ``path`` (or 'pipeline spec') and the field."""
        where = path or "pipeline spec"
        if not isinstance(d, Mapping):
            raise PipelineSpecError(f"{where}: expected a mapping of fields, got {d!r}", path=path)
        _check_keys(d, where, path)
        cron_zone = _field(d, "schedule", where, path, parse_schedule, None)
        schedule, timezone = cron_zone or (None, None)
        return cls(
            name=_field(d, "name", where, path, _valid_name),
            notebook=_field(d, "notebook", where, path, _non_empty),
            notebook_hash=str(d.get("notebook_hash") or ""),
            cell_hashes=tuple(_field(d, "cell_hashes", where, path, _str_list, [])),
            kernel=_field(d, "kernel", where, path, _non_empty, "python3"),
            parameters=_parameters(d.get("parameters"), where, path),
            schedule=schedule,
            timezone=timezone,
            catchup=_field(d, "catchup", where, path, _catchup, "latest"),
            max_catchup=_field(d, "max_catchup", where, path, _positive, 10),
            retry_backoff=str(_field(d, "retry_backoff", where, path, _backoff, "30s")),
            retry_on=tuple(_field(d, "retry_on", where, path, _exception_names, [])),
            notify=_field(d, "notify", where, path, NotifySpec.from_dict, None),
            retention=_field(d, "retention", where, path, _retention, None),
            monitor=_field(d, "monitor", where, path, lambda v: _monitor(v, d), None),
            register=_field(d, "register", where, path, _register, "bless"),
            timeout=str(_field(d, "timeout", where, path, _timeout, "1h")),
            retries=_field(d, "retries", where, path, _retries, 0),
            gates=_gates(d.get("gates"), where, path),
            version=_field(d, "version", where, path, _version, SPEC_VERSION),
            path=path,
        )


# --- YAML -----------------------------------------------------------------------------------


def _read_yaml(path: Path, what: str, fix: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineSpecError(f"{what} '{path}' not found; {fix}", path=str(path)) from None
    except OSError as e:
        raise PipelineSpecError(
            f"Cannot read {what} '{path}': {e.strerror}", path=str(path)
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise PipelineSpecError(
            f"{path}{at}: invalid YAML ({problem}); fix the file (check indentation and quoting)",
            path=str(path),
        ) from None


def load_spec(path: str | Path) -> PipelineSpec:
    """Read and validate a pipeline spec file."""
    p = Path(path)
    data = _read_yaml(p, "Pipeline spec", "promote a notebook with: jupyter-mlops promote NOTEBOOK")
    return PipelineSpec.from_dict(data, path=str(p))


def load_gates(path: str | Path) -> tuple[GateSpec, ...]:
    """Read a gates file: a YAML list of gates, or a mapping with a ``gates`` list."""
    p = Path(path)
    data = _read_yaml(p, "Gates file", "check the path given to --gates")
    if isinstance(data, Mapping) and "gates" in data:
        data = data["gates"]
    if not isinstance(data, list):
        raise PipelineSpecError(
            f"{p}: expected a list of gates (or 'gates:' followed by a list)",
            path=str(p),
            field="gates",
        )
    try:
        return parse_gates(data)
    except GateSpecError as e:
        raise PipelineSpecError(f"{p}: {e}", path=str(p), field="gates") from None


def pipelines_folder(pipelines_dir: str | Path | None) -> Path:
    """``pipelines_dir``, else the project's (a script calling without one)."""
    if pipelines_dir is not None:
        return Path(pipelines_dir)
    from ..project import find_project

    return find_project().pipelines_dir


def spec_file(name: str, pipelines_dir: str | Path | None = None) -> Path:
    return pipelines_folder(pipelines_dir) / f"{name}.yaml"


def list_pipelines(pipelines_dir: str | Path | None = None) -> list[str]:
    d = pipelines_folder(pipelines_dir)
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def load_pipeline(name: str, pipelines_dir: str | Path | None = None) -> PipelineSpec:
    """The spec of pipeline ``name``; an unknown name gets a did-you-mean and the known names."""
    pipelines_dir = pipelines_folder(pipelines_dir)
    path = spec_file(name, pipelines_dir)
    if not path.exists():
        known = list_pipelines(pipelines_dir)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        have = f"pipelines: {', '.join(known)}" if known else "no pipelines yet"
        raise PipelineSpecError(
            f"Pipeline '{name}' not found in {pipelines_dir}/; {hint}({have}); create one with "
            "jupyter-mlops promote NOTEBOOK",
            path=str(path),
        )
    spec = load_spec(path)
    if spec.name != name:
        raise PipelineSpecError(
            f"{path} names its pipeline '{spec.name}'; make the name match the file name",
            path=str(path),
            field="name",
        )
    return spec


_COMMENTS = {
    "version": [
        "Pipeline spec written by `jupyter-mlops promote`. Review and commit it; edit schedule,",
        "timeout, retries and gates freely. Re-promote after changing the notebook's code.",
    ],
    "parameters": [
        "From the notebook's `parameters` cell. Override: jupyter-mlops run NAME -p key=value"
    ],
    "schedule": [
        "Cron 'minute hour day-of-month month day-of-week' (e.g. '0 3 * * MON-FRI', '@daily');",
        "null runs on demand only.",
    ],
    "timeout": [
        "Whole-run timeout (e.g. 30m, 2h) and retries after a kernel death or a timeout (also",
        "retry_on: [ConnectionError], retry_backoff: 30s doubling each time).",
    ],
    "gates": ["Evaluated in order after the run; `severity: warn` reports without blocking."],
    "register": ["candidate: a model that passes its gates is registered, not blessed."],
    "cell_hashes": ["Managed by promote: the notebook's code must match these to run."],
}


class _SpecDumper(yaml.SafeDumper):
    """Block style, except lists of scalars, which read best on one line: [a, b, c]."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(not isinstance(x, (list, dict)) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_SpecDumper.add_representer(list, _represent_list)


def dump_spec(spec: PipelineSpec) -> str:
    """The spec as commented YAML (comments above top-level fields say what to edit and how)."""
    d = spec.to_dict()
    for p in d["parameters"]:
        if not p["help"]:
            del p["help"]
    text = yaml.dump(
        d,
        Dumper=_SpecDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    out = []
    for line in text.splitlines():
        key = line.split(":", 1)[0] if line and not line[0].isspace() else None
        out += [f"# {c}" for c in _COMMENTS.get(key or "", [])]
        out.append(line)
    return "\n".join(out) + "\n"


def save_spec(spec: PipelineSpec, path: str | Path) -> Path:
    """Write the spec atomically (a reader never sees half a file)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(dump_spec(spec))
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
