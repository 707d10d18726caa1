"""Settings: argument > ``JUPYTER_MLOPS_*`` environment variable > ``[tool.jupyter_mlops]`` in
pyproject.toml > default.

The project root is the first directory, walking up from the working directory, that holds a
``.mlops/`` store, a ``pyproject.toml`` or a ``.git``; the store lives in ``<root>/.mlops``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exceptions import ConfigError

ENV_PREFIX = "JUPYTER_MLOPS_"
STORE_DIRNAME = ".mlops"
ROOT_MARKERS = (STORE_DIRNAME, "pyproject.toml", ".git")

# Scalars a tracked cell assigns under one of these names are recorded as metrics, and under
# any name ending in ``_<one of these>`` (``val_error``, ``test_rmse``, ``cv_score``).
DEFAULT_METRIC_NAMES: tuple[str, ...] = (
    "accuracy",
    "acc",
    "balanced_accuracy",
    "f1",
    "f1_score",
    "auc",
    "roc_auc",
    "pr_auc",
    "precision",
    "recall",
    "loss",
    "val_loss",
    "train_loss",
    "test_loss",
    "rmse",
    "mse",
    "mae",
    "mape",
    "r2",
    "score",
    "val_score",
    "test_score",
    "train_score",
    "log_loss",
    "logloss",
    "error",
)


DEFAULT_FLUSH_TIMEOUT = 10.0
DEFAULT_NOTIFY_WAIT = 2.0


def find_project_root(start: Path | None = None) -> Path:
    """The nearest ancestor of ``start`` holding a root marker, else ``start`` itself."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if any((d / m).exists() for m in ROOT_MARKERS):
            return d
    return here


def pyproject_settings(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: settings from pyproject need tomli
        try:
            import tomli as tomllib
        except ImportError:
            return {}
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, ValueError) as e:
        raise ConfigError(f"Cannot read {path}: {e}; fix the TOML syntax") from e
    section = data.get("tool", {}).get("jupyter_mlops", {})
    if not isinstance(section, dict):
        raise ConfigError(f"[tool.jupyter_mlops] in {path} must be a table")
    return section


@dataclass(frozen=True)
class Settings:
    root: Path
    store: str  # a directory path or a store URL (sqlite:///dir)
    metric_names: tuple[str, ...] = DEFAULT_METRIC_NAMES
    capture_stdout_chars: int = 2000
    # How long an exiting process waits for run records still queued for the store (seconds).
    flush_timeout: float = DEFAULT_FLUSH_TIMEOUT
    extra: dict[str, Any] = field(default_factory=dict)
    # Where artifact blobs go: None for ``<store>/artifacts``, ``s3://bucket/prefix`` or a
    # directory (JUPYTER_MLOPS_ARTIFACTS). S3 credentials never come from here: AWS's own chain.
    artifact_store: str | None = None
    # Run users (the ``register`` event's actor) whose cloudpickle models a team store loads
    # without ``trust=True``.
    trusted_publishers: tuple[str, ...] = ()
    # How long a CLI command that queued notifications tries to deliver them before it exits
    # (seconds); what is left is delivered in the background (see pipeline/outbox.py).
    notify_wait: float = DEFAULT_NOTIFY_WAIT


def pick_setting(name: str, arg: Any, file_settings: dict[str, Any], default: Any) -> Any:
    if arg is not None:
        return arg
    env = os.environ.get(ENV_PREFIX + name.upper())
    if env is not None and env != "":
        return env
    if name in file_settings:
        return file_settings[name]
    return default


def _refuse_password(url: str) -> None:
    """pyproject.toml is shared through git: a store URL there must not carry a password."""
    masked = re.sub(r"(://[^:/@?#]*:)[^@/?#]*@", r"\1***@", url)
    masked = re.sub(r"([?&]password=)[^&#]*", r"\1***", masked, flags=re.IGNORECASE)
    if masked != url:
        raise ConfigError(
            f"[tool.jupyter_mlops] store in pyproject.toml holds a password ({masked}); "
            "pyproject.toml is shared through git: remove it and give the password with "
            "PGPASSWORD, ~/.pgpass or a service (postgresql:///?service=NAME)"
        )


def _as_names(value: Any, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{source} must be a list of names or a comma-separated string")


def load_settings(
    store: str | os.PathLike[str] | None = None,
    *,
    metric_names: list[str] | None = None,
    start: Path | None = None,
) -> Settings:
    """Resolve settings for the project containing ``start`` (default: the working directory)."""
    root = find_project_root(start)
    file_settings = pyproject_settings(root)
    store_value = pick_setting(
        "store", os.fspath(store) if store is not None else None, file_settings, None
    )
    if store is None and not os.environ.get(ENV_PREFIX + "STORE") and "store" in file_settings:
        _refuse_password(str(store_value))
    if store_value is None:
        store_value = str(root / STORE_DIRNAME)
    elif "://" not in str(store_value):
        p = Path(str(store_value)).expanduser()
        store_value = str(p if p.is_absolute() else (root / p))
    names = _as_names(
        pick_setting("metric_names", metric_names, file_settings, DEFAULT_METRIC_NAMES),
        "metric_names",
    )
    chars = pick_setting("capture_stdout_chars", None, file_settings, 2000)
    try:
        chars = int(chars)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"capture_stdout_chars must be an integer, got {chars!r}") from e
    raw_timeout = pick_setting("flush_timeout", None, file_settings, DEFAULT_FLUSH_TIMEOUT)
    try:
        flush_timeout = float(raw_timeout)
    except (TypeError, ValueError):
        flush_timeout = -1.0
    if not flush_timeout >= 0:  # also refuses NaN
        raise ConfigError(
            f"flush_timeout must be a number of seconds >= 0, got {raw_timeout!r}; "
            "set JUPYTER_MLOPS_FLUSH_TIMEOUT or flush_timeout in [tool.jupyter_mlops]"
        )
    notify_wait = _seconds("notify_wait", file_settings, DEFAULT_NOTIFY_WAIT)
    # JUPYTER_MLOPS_ARTIFACTS is the documented name; _pick also reads ..._ARTIFACT_STORE.
    artifacts = os.environ.get(ENV_PREFIX + "ARTIFACTS") or pick_setting(
        "artifact_store", None, file_settings, None
    )
    if artifacts is not None and "://" not in str(artifacts):
        p = Path(str(artifacts)).expanduser()
        artifacts = str(p if p.is_absolute() else (root / p))
    return Settings(
        root=root,
        store=str(store_value),
        metric_names=names,
        capture_stdout_chars=chars,
        flush_timeout=flush_timeout,
        artifact_store=str(artifacts) if artifacts is not None else None,
        trusted_publishers=_as_names(
            pick_setting("trusted_publishers", None, file_settings, ()), "trusted_publishers"
        ),
        notify_wait=notify_wait,
    )


def _seconds(name: str, file_settings: dict[str, Any], default: float) -> float:
    """Setting ``name`` as a finite number of seconds >= 0."""
    raw = pick_setting(name, None, file_settings, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if not 0 <= value < float("inf"):  # also refuses NaN
        raise ConfigError(
            f"{name} must be a number of seconds >= 0, got {raw!r}; "
            f"set {ENV_PREFIX}{name.upper()} or {name} in [tool.jupyter_mlops]"
        )
    return value


# -- which notebook is running ---------------------------------------------------------------

NOTEBOOK_ENV = ENV_PREFIX + "NOTEBOOK"


def parse_pairs(pairs: Iterable[str], error: Callable[[str], Exception]) -> dict[str, str]:
    """``['a=1', 'b=x']`` → ``{'a': '1', 'b': 'x'}``: keys stripped, values as given, the last
    of repeated keys wins. An item without ``=`` or without a key raises ``error(item)``, so
    each front-end words the error for its own option (``%%track --tags``, ``run -p``)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise error(pair)
        out[key] = value
    return out


def notebook_path(namespace: Mapping[str, Any] | None = None) -> str | None:
    """The path of the notebook running this kernel, from what the front-end provides.

    ``JUPYTER_MLOPS_NOTEBOOK`` (set by our pipeline kernels) wins; then VS Code's
    ``__vsc_ipynb_file__`` and ipykernel's ``__session__`` in the user namespace; then
    ``JPY_SESSION_NAME``, which jupyter_server sets for a notebook's kernel. nbclient and
    nbconvert send none of these: None.
    """
    ns = namespace or {}
    for value in (
        os.environ.get(NOTEBOOK_ENV),
        ns.get("__vsc_ipynb_file__"),
        ns.get("__session__"),
        os.environ.get("JPY_SESSION_NAME"),
    ):
        if isinstance(value, str) and value.strip():
            return value
    return None


def default_experiment(notebook: str | None, cwd: Path | None = None) -> str:
    """The experiment of a run started without ``-e``: the notebook's name, else the name of
    the working folder (a kernel started by nbclient runs in the notebook's folder)."""
    if notebook:
        stem = Path(notebook).stem
        if stem:
            return stem
    folder = (cwd or Path.cwd()).name
    return folder or "default"
