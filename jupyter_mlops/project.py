"""The project: its root, its store, and the folders its pipelines, monitors and run outputs
live in. Found once by each front-end (CLI, server, scheduler, kernels, magics) with
:func:`find_project` and passed down; no other module computes one of these paths.

Each folder is a setting like the others (:mod:`.config`): argument > ``JUPYTER_MLOPS_*``
environment variable > ``[tool.jupyter_mlops]`` in pyproject.toml > default, a relative value
read against the project root. The defaults are ``<root>/pipelines``, ``<root>/monitors`` and
``<store>/runs`` (``<root>/.mlops/runs`` for the embedded store).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import STORE_DIRNAME, Settings, load_settings, pick_setting, pyproject_settings
from .exceptions import ConfigError

# The folder settings, their defaults relative to the root (outputs: to the store's folder).
FOLDERS = ("pipelines_dir", "monitors_dir", "outputs_dir")
PIPELINES_DEFAULT = "pipelines"
MONITORS_DEFAULT = "monitors"
OUTPUTS_DEFAULT = "runs"


@dataclass(frozen=True)
class Project:
    """Where everything of one project is. ``store`` is the store's location (a directory or
    a URL); ``store_dir`` the local folder of its files (locks, journal, artifact cache): the
    store's own directory, or ``<root>/.mlops`` beside a PostgreSQL store."""

    settings: Settings
    store_dir: Path
    pipelines_dir: Path
    monitors_dir: Path
    outputs_dir: Path  # executed notebooks and gate reports: <outputs_dir>/<run id>/

    @property
    def root(self) -> Path:
        return self.settings.root

    @property
    def store(self) -> str:
        return self.settings.store

    @property
    def artifact_store(self) -> str | None:
        return self.settings.artifact_store

    def run_outputs(self, run_id: str) -> Path:
        """The folder of one pipeline run's executed notebook, gate report and launch log."""
        return self.outputs_dir / run_id

    def paths(self) -> dict[str, str]:
        """Each location by its setting's name, as text."""
        return {
            "root": str(self.root),
            "store": self.store,
            "artifact_store": self.artifact_store or str(self.store_dir / "artifacts"),
            "pipelines_dir": str(self.pipelines_dir),
            "monitors_dir": str(self.monitors_dir),
            "outputs_dir": str(self.outputs_dir),
        }


def find_project(
    start: Path | None = None,
    *,
    store: str | os.PathLike[str] | None = None,
    pipelines_dir: str | os.PathLike[str] | None = None,
    monitors_dir: str | os.PathLike[str] | None = None,
    outputs_dir: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
) -> Project:
    """The project holding ``start`` (default: the working directory), its root found by
    walking up to a ``.mlops/``, ``pyproject.toml`` or ``.git``. Arguments are the top level of
    each setting (a CLI flag); relative ones are read against the working directory, as a
    user typing a flag means, the environment's and pyproject's against the root."""
    settings = settings or load_settings(store, start=start)
    root = settings.root
    file_settings = pyproject_settings(root)
    store_dir = local_store_dir(settings)
    return Project(
        settings=settings,
        store_dir=store_dir,
        pipelines_dir=_folder("pipelines_dir", pipelines_dir, file_settings, root, root),
        monitors_dir=_folder("monitors_dir", monitors_dir, file_settings, root, root),
        outputs_dir=_folder("outputs_dir", outputs_dir, file_settings, root, store_dir),
    )


def project_environment(project: Project) -> dict[str, str]:
    """The environment under which a child process (a pipeline kernel, a launched run) finds
    the folders of ``project`` whatever its working directory."""
    return {f"JUPYTER_MLOPS_{name.upper()}": str(getattr(project, name)) for name in FOLDERS}


def local_store_dir(settings: Settings) -> Path:
    """The local folder of the store's files: the directory of an embedded store, else
    ``<root>/.mlops`` (a server store keeps its locks and run outputs there)."""
    return embedded_store_dir(settings.store) or settings.root / STORE_DIRNAME


def embedded_store_dir(location: str) -> Path | None:
    """The directory of an embedded store's location (a path, ``sqlite:///relative`` or
    ``sqlite:////absolute`` as in SQLAlchemy, a ``.db`` file meaning its folder); None for the
    URL of a server store."""
    if "://" not in location:
        return Path(location).expanduser().resolve()
    scheme, _, rest = location.partition("://")
    if scheme != "sqlite":
        return None
    path = rest[1:] if rest.startswith("/") else rest
    folder = Path(path).parent if path.endswith(".db") else Path(path)
    return folder.expanduser().resolve()


_DEFAULTS = {
    "pipelines_dir": PIPELINES_DEFAULT,
    "monitors_dir": MONITORS_DEFAULT,
    "outputs_dir": OUTPUTS_DEFAULT,
}


def _folder(
    name: str, arg: Any, file_settings: dict[str, Any], root: Path, default_base: Path
) -> Path:
    if arg is not None:  # a flag: relative to where the user typed it
        return _as_folder(name, os.fspath(arg), Path.cwd(), f"--{name.replace('_', '-')}")
    value = pick_setting(name, None, file_settings, None)
    if value is None:
        return default_base / _DEFAULTS[name]
    # The environment's and pyproject's values are the project's: relative to its root.
    source = f"{name} (JUPYTER_MLOPS_{name.upper()} or [tool.jupyter_mlops])"
    return _as_folder(name, value, root, source)


def _as_folder(name: str, value: Any, base: Path, source: str) -> Path:
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise ConfigError(f'{source} must be a folder path, got {value!r}; e.g. {name} = "x"')
    path = Path(value.strip()).expanduser()
    folder = (path if path.is_absolute() else base / path).resolve()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{source} is {folder}, which is a file; give a folder")
    return folder


__all__ = [
    "FOLDERS",
    "Project",
    "embedded_store_dir",
    "find_project",
    "local_store_dir",
    "project_environment",
]
