"""Every public exception class of the package sits under ``MLOpsError``."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import jupyter_mlops
from jupyter_mlops.exceptions import MLOpsError

ROOT = Path(jupyter_mlops.__file__).parent


def _exception_classes() -> list[tuple[str, str]]:
    """(module, class) for every public class whose name says it is an error."""
    found = []
    for path in ROOT.rglob("*.py"):
        module = ".".join(("jupyter_mlops", *path.relative_to(ROOT).with_suffix("").parts))
        for node in ast.walk(ast.parse(path.read_text())):
            public = isinstance(node, ast.ClassDef) and not node.name.startswith("_")
            if public and node.name.endswith(("Error", "Exception", "Mismatch")):
                found.append((module.removesuffix(".__init__"), node.name))
    return found


def test_every_error_class_is_an_mlops_error() -> None:
    classes = _exception_classes()
    assert len(classes) > 20  # the scan sees the package
    outside = [
        f"{module}.{name}"
        for module, name in classes
        if not issubclass(getattr(importlib.import_module(module), name), MLOpsError)
    ]
    assert outside == []
