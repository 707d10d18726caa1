"""The first stage of a pipeline run: check its inputs and prepare the notebook to execute.

Everything here happens before a run is recorded, so a bad parameter, a changed notebook or a
kernel that is not installed is refused without leaving a run behind.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..exceptions import ValidationError
from ..project import Project, project_environment
from .engine import kernel_language
from .in_kernel import INJECTED_TAG, init_source
from .notebook import check_notebook_unchanged, find_parameters_cells, notebook_parameters
from .params import coerce_params
from .spec import PipelineSpec, load_pipeline, load_spec


@dataclass(frozen=True)
class Prepared:
    """A run's checked inputs: the typed overrides, the notebook, the language papermill writes
    the parameters in, and the warning to record (a notebook run with --allow-changed)."""

    overrides: dict[str, Any]
    notebook: Path
    language: str
    warning: str | None = None


def find_spec(name_or_path: str, pipelines_dir: Path | None = None) -> PipelineSpec:
    """A spec by pipeline name (``<pipelines_dir>/NAME.yaml``, by default the project's) or by
    the path of its YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.is_file():
        return load_spec(p)
    return load_pipeline(name_or_path, pipelines_dir)


def read_params_file(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())  # JSON is YAML too
    except OSError as e:
        raise ValidationError(f"Cannot read params file {p}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise ValidationError(f"Params file {p} is not valid YAML/JSON: {e}") from e
    if not isinstance(data, dict):
        raise ValidationError(f"Params file {p} must hold a mapping of name: value")
    return data


def prepare(
    spec: PipelineSpec,
    raw_params: dict[str, str] | None,
    params_file: str | Path | None,
    allow_changed: bool,
) -> Prepared:
    """Check the parameters, the notebook's code and its kernel; raise on what is wrong."""
    file_values = read_params_file(params_file) if params_file else None
    overrides = coerce_params(
        spec.parameters, raw_params or {}, file_values, source=f"pipeline '{spec.name}'"
    )
    notebook = spec.notebook_path()
    warning = None
    try:
        check_notebook_unchanged(spec, notebook)
    except ValidationError as e:
        if not allow_changed:
            raise
        warning = f"ran with --allow-changed: {e}"
    language = kernel_language(spec.kernel, notebook, spec.path, bool(overrides))
    return Prepared(overrides, notebook, language, warning)


def prepared_notebook(
    path: Path,
    run_id: str,
    seed: int | None,
    store: str,
    overrides: Mapping[str, Any],
    project: Project,
) -> Any:
    """The notebook at ``path`` with the cells a run injects: the kernel's init first, then the
    derived parameters recomputed from the overrides (see :func:`rederive_source`)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    env = project_environment(project)  # the kernel's project is ours
    cell = nbformat.v4.new_code_cell(init_source(run_id, seed, store, str(path), env))
    cell.metadata["tags"] = [INJECTED_TAG]
    nb.cells.insert(0, cell)
    found = find_parameters_cells(nb)
    source = rederive_source(nb, overrides) if found else None
    if source:
        # papermill puts its injected cell right after the parameters cell, so before this one.
        derived = nbformat.v4.new_code_cell(source)
        derived.metadata["tags"] = [INJECTED_TAG]
        nb.cells.insert(found[0] + 1, derived)
    return nb


def rederive_source(nb: Mapping[str, Any], overrides: Mapping[str, Any]) -> str | None:
    """Code recomputing the derived parameters that depend on an overridden one.

    papermill injects overrides *after* the parameters cell, so ``out_dir = f"runs/{date}"``
    would keep the default date under ``-p date=...``. Derived parameters overridden themselves
    keep their override; the others are left as the notebook computed them.
    """
    if not overrides:
        return None
    params, _ = notebook_parameters(nb)
    changed, lines = set(overrides), []
    for p in params:
        if p.expression is None or p.name in overrides:
            continue
        names = {
            n.id for n in ast.walk(ast.parse(p.expression, mode="eval")) if isinstance(n, ast.Name)
        }
        if names & changed:
            lines.append(f"{p.name} = {p.expression}")
            changed.add(p.name)
    if not lines:
        return None
    return "# Injected by jupyter-mlops: derived parameters, recomputed from the overrides\n" + (
        "\n".join(lines)
    )


__all__ = ["Prepared", "find_spec", "prepare", "prepared_notebook", "read_params_file"]
