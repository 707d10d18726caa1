"""Finding a monitor by name: ``<monitors_dir>/NAME.yaml``, or the ``monitor:`` key of
``<pipelines_dir>/NAME.yaml`` (never both); the folders are the project's unless given. The
schema and its parser live in ``pipeline.monitor_spec``, which the pipeline spec uses too."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from ..exceptions import ValidationError
from ..pipeline.monitor_spec import ACTIONS, KINDS, WINDOWS, Check, MonitorSpec, seconds
from ..pipeline.spec import list_pipelines, load_pipeline, spec_file
from ..project import find_project

__all__ = [
    "ACTIONS", "KINDS", "WINDOWS", "Check", "MonitorSpec", "folders", "list_monitors",
    "load_monitor", "monitor_exists", "seconds",
]  # fmt: skip


def folders(monitors_dir: str | Path | None, pipelines_dir: str | Path | None) -> tuple[Path, Path]:
    """The monitors and pipelines folders given, else the project's (a script's call)."""
    if monitors_dir is None or pipelines_dir is None:
        project = find_project()
        monitors_dir = project.monitors_dir if monitors_dir is None else monitors_dir
        pipelines_dir = project.pipelines_dir if pipelines_dir is None else pipelines_dir
    return Path(monitors_dir), Path(pipelines_dir)


def _in_pipeline(name: str, pipelines_dir: Path) -> bool:
    """Whether ``<pipelines_dir>/NAME.yaml`` has a ``monitor:`` key (read without validating the
    rest, so a monitor-less pipeline with an unrelated error does not break monitoring)."""
    path = spec_file(name, pipelines_dir)
    if not path.is_file():
        return False
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, Mapping) and data.get("monitor") is not None


def monitor_exists(
    name: str, monitors_dir: str | Path | None = None, pipelines_dir: str | Path | None = None
) -> bool:
    monitors, pipelines = folders(monitors_dir, pipelines_dir)
    return (monitors / f"{name}.yaml").is_file() or _in_pipeline(name, pipelines)


def list_monitors(
    monitors_dir: str | Path | None = None, pipelines_dir: str | Path | None = None
) -> list[str]:
    """Names of the monitor files and of the pipelines with a ``monitor:`` key, sorted."""
    d, pipelines_dir = folders(monitors_dir, pipelines_dir)
    files = {p.stem for p in d.glob("*.yaml")} if d.is_dir() else set()
    piped = {n for n in list_pipelines(pipelines_dir) if _in_pipeline(n, pipelines_dir)}
    return sorted(files | piped)


def load_monitor(
    name: str, monitors_dir: str | Path | None = None, pipelines_dir: str | Path | None = None
) -> MonitorSpec:
    monitors, pipelines_dir = folders(monitors_dir, pipelines_dir)
    path = monitors / f"{name}.yaml"
    in_pipeline = _in_pipeline(name, pipelines_dir)
    if path.is_file() and in_pipeline:
        raise ValidationError(
            f"Monitor {name!r} is defined twice, in {path} and under 'monitor:' in "
            f"{spec_file(name, pipelines_dir)}; keep one of them"
        )
    if in_pipeline:
        spec = load_pipeline(name, pipelines_dir).monitor
        assert spec is not None  # the key is there, and load_pipeline validated it
        return spec
    if not path.is_file():
        raise ValidationError(
            f"No monitor {name!r}: neither {path} nor a 'monitor:' key in "
            f"{spec_file(name, pipelines_dir)}; write one (see the README's Monitoring)"
        )
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:  # one line, like every spec error (the scheduler logs it)
        where = getattr(e, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise ValidationError(f"{path}: not valid YAML{at}; fix the file") from None
    if not isinstance(data, Mapping):
        raise ValidationError(f"{path}: a monitor spec is a mapping of fields")
    return MonitorSpec.from_dict(name, data)
