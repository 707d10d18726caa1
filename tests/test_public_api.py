"""The public API stays callable whatever has been imported: no public name is shadowed by a
submodule of the same name (importing ``pkg.x`` binds the module to ``pkg.x``); and every
``mlops.NAME`` the README shows exists."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import jupyter_mlops
from tests.conftest import run_fresh

PACKAGES = (
    "jupyter_mlops",
    "jupyter_mlops.store",
    "jupyter_mlops.pipeline",
    "jupyter_mlops.validation",
    "jupyter_mlops.schedule",
    "jupyter_mlops.cron",
    "jupyter_mlops.hashing",
    "jupyter_mlops.server",
    "jupyter_mlops.monitoring",
    "jupyter_mlops.tracking",
    "jupyter_mlops.cli",
    "jupyter_mlops.notebook",
    "jupyter_mlops.views",
    "jupyter_mlops.frameworks",
    "jupyter_mlops.serving",
)


def test_no_public_name_equals_a_submodule_name() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        submodules = {m.name for m in pkgutil.iter_modules(package.__path__)}
        clash = sorted(set(package.__all__) & submodules)
        assert not clash, f"{name}.__all__ names submodules: {clash}"


def test_every_package_is_checked() -> None:
    found = {
        m.name for m in pkgutil.walk_packages(jupyter_mlops.__path__, "jupyter_mlops.") if m.ispkg
    }
    assert found | {"jupyter_mlops"} <= set(PACKAGES) | {"jupyter_mlops"}


# Runs in a fresh interpreter: the bug only shows once a submodule import has happened there.
_FRESH = r"""
import pkgutil, sys
import jupyter_mlops as mlops

before = {name: getattr(mlops, name) for name in mlops.__all__}
first = mlops.fingerprint(b"abc")  # the first call used to import the clashing submodule
imported = []
for m in pkgutil.walk_packages(mlops.__path__, "jupyter_mlops."):
    __import__(m.name)
    imported.append(m.name)
changed = [n for n in mlops.__all__ if getattr(mlops, n) is not before[n]]
assert not changed, f"replaced by a submodule import: {changed}"

# Every public callable that is safe to call twice, called twice.
store = sys.argv[1]
for _ in range(2):
    assert mlops.fingerprint(b"abc") == first
    assert mlops.set_store(store) is mlops.default_tracker()
    assert mlops.active_run() is None
    with mlops.start_run(experiment="api") as run:
        mlops.log_param("a", 1)
        mlops.log_params({"b": 2})
        mlops.log_metric("m", 0.5)
        mlops.log_metrics({"n": 1.0})
        mlops.set_tags({"t": "x"})
    assert mlops.get_run(run.id).params == {"a": 1, "b": 2}
    assert len(mlops.runs(experiment="api")) >= 1
    assert list(mlops.metric_history(run.id, "m")["value"]) == [0.5]
print(len(imported))
"""


def test_public_api_survives_importing_every_submodule(tmp_path: Path) -> None:
    # every submodule, none skipped
    assert int(run_fresh(_FRESH, str(tmp_path / "store")).strip()) > 30


# `mlops.NAME` as the README writes it (`import jupyter_mlops as mlops`); not `jupyter_mlops.x`,
# nor a path like `.mlops/…`.
_README_NAME = re.compile(r"(?<![\w./-])mlops\.([A-Za-z_]\w*)")
_README_FILES = {"db"}  # `.mlops/mlops.db`, the store's file, written as `mlops.db`


def test_every_name_the_readme_shows_under_mlops_exists() -> None:
    # The README and the docs it links to (the reference moved there).
    root = Path(__file__).resolve().parents[1]
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    text = "\n".join(p.read_text() for p in pages)
    names = set(_README_NAME.findall(text)) - _README_FILES
    assert {"predict", "log_labels", "log_profile", "start_run"} <= names  # the scan works
    missing = sorted(n for n in names if n not in jupyter_mlops.__all__)
    assert not missing, f"README.md or docs/ show mlops.{missing}: not exported by jupyter_mlops"
    for name in names:
        assert callable(getattr(jupyter_mlops, name)), name
