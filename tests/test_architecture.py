"""Dependencies point one way: core → validation → pipeline → schedule → front-ends.

Checked twice: statically, over every import statement of every module (function-level imports
included, so a lazy import cannot hide an upward edge), and at run time, by importing each layer's
modules in a fresh interpreter and looking at ``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import pkgutil
from pathlib import Path

import pytest

import jupyter_mlops
from tests.conftest import run_fresh

PACKAGE = Path(jupyter_mlops.__file__).parent
LAYERS = ("core", "validation", "pipeline", "schedule", "front-end")
FRONT_ENDS = {"magics", "widgets", "plots", "cli", "cli_pipelines", "__main__", "server"}
FRONT_ENDS.add("cli_monitor")  # `jupyter-mlops monitor`
FRONT_ENDS.add("cli_store")  # `jupyter-mlops store info | migrate`
FRONT_ENDS.add("cli_notify")  # `jupyter-mlops notify list | retry`
# reproduce re-executes runs with the pipeline runner; views and actions are what every
# front-end shows and does (runs pages, pipelines with next firings, run-now, bless), so they
# sit above the pipeline and scheduler and below the front-ends; monitoring runs pipelines
# (retrain) from its actions.
ABOVE_PIPELINE = {"schedule", "reproduce", "views", "actions", "monitoring"}
# Front-end libraries: only front-end modules may import them.
UI_LIBRARIES = {"IPython", "ipywidgets", "tornado", "jupyter_server", "ipykernel"}
# The package's front door imports the extension hook (magics) inside load_ipython_extension.
FRONT_DOOR = "jupyter_mlops"


def layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top in FRONT_ENDS:
        return LAYERS.index("front-end")
    if top in ABOVE_PIPELINE:
        return LAYERS.index("schedule")
    if top in ("pipeline", "validation"):
        return LAYERS.index(top)
    return LAYERS.index("core")


def all_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages([str(PACKAGE)], "jupyter_mlops.")]
    return ["jupyter_mlops", *names]


def source_of(module: str) -> Path:
    rel = Path(*module.split(".")[1:])
    pkg = PACKAGE / rel / "__init__.py"
    return pkg if pkg.exists() else (PACKAGE / rel).with_suffix(".py")


def imports_of(module: str) -> set[str]:
    """Absolute names of every module ``module`` imports, at any depth of its code."""
    path = source_of(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from . import x` and `from .pkg import mod` may name modules
            found.update(f"{target}.{a.name}" for a in node.names)
    known = set(all_modules())
    return {n for n in found if not n.startswith("jupyter_mlops") or n in known}


def test_layers_import_only_downwards() -> None:
    upward = []
    for module in all_modules():
        if module == FRONT_DOOR:
            continue
        for target in imports_of(module):
            if target.startswith("jupyter_mlops") and layer(target) > layer(module):
                upward.append(f"{module} ({LAYERS[layer(module)]}) imports {target}")
    assert not upward, "\n".join(upward)


def test_only_front_ends_import_ui_libraries() -> None:
    found = []
    for module in all_modules():
        if layer(module) == LAYERS.index("front-end"):
            continue
        libs = {t.split(".")[0] for t in imports_of(module)} & UI_LIBRARIES
        if libs:
            found.append(f"{module} imports {sorted(libs)}")
    assert not found, "\n".join(found)


def test_front_door_imports_no_front_end_at_import_time() -> None:
    tree = ast.parse(source_of(FRONT_DOOR).read_text())
    top_level = set()
    for node in tree.body:  # statements run on import; function bodies do not
        if isinstance(node, ast.ImportFrom) and node.level:
            top_level.add(f"jupyter_mlops.{node.module}")
    assert all(layer(m) == 0 for m in top_level), top_level


_LOADED = r"""
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after_importing(modules: list[str]) -> set[str]:
    return set(json.loads(run_fresh(_LOADED, *modules)))


@pytest.mark.parametrize("name", LAYERS[:-1])
def test_importing_a_layer_loads_nothing_above_it(name: str) -> None:
    level = LAYERS.index(name)
    own = [m for m in all_modules() if layer(m) == level]
    assert own, name
    loaded = loaded_after_importing(own)
    above = sorted(m for m in loaded if m.startswith("jupyter_mlops") and layer(m) > level)
    assert not above, f"importing the {name} layer loaded {above}"
    ui = sorted({m.split(".")[0] for m in loaded} & UI_LIBRARIES)
    assert not ui, f"importing the {name} layer loaded {ui}"


def test_layers_are_as_the_readme_draws_them() -> None:
    assert [layer(m) for m in ("jupyter_mlops.tracking", "jupyter_mlops.registry")] == [0, 0]
    assert layer("jupyter_mlops.validation.kinds") == 1
    assert layer("jupyter_mlops.pipeline.runner") == 2
    assert layer("jupyter_mlops.schedule.scheduler") == layer("jupyter_mlops.reproduce") == 3
    assert layer("jupyter_mlops.cli") == layer("jupyter_mlops.magics") == 4
