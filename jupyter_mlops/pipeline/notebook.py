"""What pipelines read from a notebook: its ``parameters`` cell, kernel and code-cell hashes.

Notebooks are read as plain JSON (nbformat 4) rather than with ``nbformat``, whose import alone
costs over a second; we only need cell types, sources, tags and the kernelspec.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import NotebookChangedError, NotebookError
from .param_cell import parse_parameters
from .spec import Parameter, PipelineSpec

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"  # papermill's cell; ignored so output notebooks hash the same
NO_PARAMETERS_HINT = (
    "The notebook has no cell tagged 'parameters', so the pipeline takes no parameters. To add "
    "some, put literal assignments (e.g. `alpha: float = 0.5  # regularisation`) in one cell, tag "
    "it 'parameters' (JupyterLab: Property Inspector > Cell Tags) and promote again."
)


# --- reading notebooks ----------------------------------------------------------------------


def read_notebook(path: str | Path) -> dict[str, Any]:
    """The notebook's JSON; a missing, unreadable or non-notebook file is a NotebookError."""
    p = Path(path)
    if not p.is_file():
        what = "is a directory" if p.is_dir() else "not found"
        raise NotebookError(
            f"Notebook '{path}' {what} (looked at {p.resolve()}); check the path, which is "
            f"relative to {Path.cwd()}",
            path=str(path),
        )
    try:
        nb = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise NotebookError(f"Cannot read notebook '{path}': {e}", path=str(path)) from None
    except json.JSONDecodeError as e:
        raise NotebookError(
            f"'{path}' is not a valid notebook: invalid JSON at line {e.lineno} column {e.colno}; "
            "open it in Jupyter and save it again",
            path=str(path),
        ) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(
            f"'{path}' has no list of cells; is it a Jupyter notebook?", path=str(path)
        )
    if nb.get("nbformat", 4) < 4:
        raise NotebookError(
            f"'{path}' uses nbformat {nb.get('nbformat')}; open and save it in Jupyter to upgrade",
            path=str(path),
        )
    return nb


def cell_source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _tags(cell: Mapping[str, Any]) -> list[str]:
    tags = (cell.get("metadata") or {}).get("tags") or []
    return [t for t in tags if isinstance(t, str)]


def find_parameters_cells(nb: Mapping[str, Any]) -> list[int]:
    """Indices of the code cells tagged 'parameters' (papermill uses the first)."""
    return [
        i
        for i, c in enumerate(nb["cells"])
        if c.get("cell_type") == "code" and PARAMETERS_TAG in _tags(c)
    ]


_KERNELSPEC_EXAMPLE = '{"name": "python3", "display_name": "Python 3", "language": "python"}'


def kernel_name(nb: Mapping[str, Any], path: str = "notebook") -> str | None:
    """The kernel the notebook records (``metadata.kernelspec.name``), None if it records none."""
    metadata = nb.get("metadata") or {}
    spec = metadata.get("kernelspec") if isinstance(metadata, Mapping) else None
    if spec is None:
        return None
    name = spec.get("name") if isinstance(spec, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        raise NotebookError(
            f"'{path}': metadata.kernelspec is {spec!r}, which names no kernel; make it "
            f"{_KERNELSPEC_EXAMPLE} (or remove it and promote with --kernel NAME)",
            path=path,
        )
    return name


def kernel_language(nb: Mapping[str, Any]) -> str | None:
    """The language the notebook records (``language_info.name`` or ``kernelspec.language``)."""
    metadata = nb.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        return None
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        section = metadata.get(key)
        value = section.get(field) if isinstance(section, Mapping) else None
        if isinstance(value, str) and value.strip():
            return value
    return None


# --- code hashes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NotebookCode:
    """The code that defines a notebook's behaviour: one hash per non-empty code cell."""

    hash: str
    cell_hashes: tuple[str, ...]
    sources: tuple[str, ...]  # normalised sources, for saying what changed
    cell_indices: tuple[int, ...]  # each code cell's index in the notebook


def _normalise(source: str) -> str:
    # Trailing spaces and blank lines at either end are not changes anyone means to review.
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def notebook_code(nb: Mapping[str, Any]) -> NotebookCode:
    """Hash the code cells only: outputs, metadata, markdown and papermill's injected cell are
    ignored, so re-running or re-rendering the notebook does not change it."""
    sources, indices = [], []
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code" or INJECTED_TAG in _tags(cell):
            continue
        src = _normalise(cell_source(cell))
        if src:
            sources.append(src)
            indices.append(i)
    full = [hashlib.sha256(s.encode()).hexdigest() for s in sources]
    total = hashlib.sha256("\n".join(full).encode()).hexdigest()
    return NotebookCode(total, tuple(h[:16] for h in full), tuple(sources), tuple(indices))


def notebook_code_hash(path: str | Path) -> str:
    """sha256 over the notebook's code cells (see :func:`notebook_code`)."""
    return notebook_code(read_notebook(path)).hash


@dataclass(frozen=True)
class CellDiff:
    """Code cells (numbered from 1 among code cells) that differ from a recorded list."""

    changed: tuple[int, ...] = ()  # numbered in the current notebook
    added: tuple[int, ...] = ()  # numbered in the current notebook
    removed: tuple[int, ...] = ()  # numbered in the recorded list

    @property
    def unchanged(self) -> bool:
        return not (self.changed or self.added or self.removed)

    def describe(self, code: NotebookCode | None = None) -> list[str]:
        def first_line(n: int) -> str:
            if code is None:
                return ""
            line = code.sources[n - 1].split("\n", 1)[0]
            return f" (`{line[:60]}`)"

        out = [f"code cell {n} changed{first_line(n)}" for n in self.changed]
        out += [f"code cell {n} added{first_line(n)}" for n in self.added]
        out += [f"recorded code cell {n} removed" for n in self.removed]
        return out


def diff_cells(recorded: Sequence[str], current: Sequence[str]) -> CellDiff:
    """Which cells changed, were added or removed, aligning unchanged cells like ``diff`` does."""
    changed: list[int] = []
    added: list[int] = []
    removed: list[int] = []
    matcher = difflib.SequenceMatcher(None, list(recorded), list(current), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        changed += range(j1 + 1, j1 + pairs + 1)
        added += range(j1 + pairs + 1, j2 + 1)
        removed += range(i1 + pairs + 1, i2 + 1)
    return CellDiff(tuple(changed), tuple(added), tuple(removed))


def check_notebook_unchanged(
    spec: PipelineSpec, notebook: str | Path | None = None
) -> NotebookCode:
    """Raise NotebookChangedError, saying which cells changed, unless the code matches the spec."""
    path = Path(notebook) if notebook is not None else spec.notebook_path()
    shown = _display_path(path)
    code = notebook_code(read_notebook(path))
    if spec.notebook_hash and code.hash == spec.notebook_hash:
        return code
    if not spec.notebook_hash:
        changes = ["the spec records no code hash"]
    else:
        changes = diff_cells(spec.cell_hashes, code.cell_hashes).describe(code)
        changes = changes or ["the code differs from the recorded hash"]
    raise NotebookChangedError(
        f"Notebook '{shown}' changed since pipeline '{spec.name}' was promoted: "
        f"{'; '.join(changes)}. Review the change, then re-promote with "
        f"`jupyter-mlops promote {shown} --name {spec.name}`, or run anyway with --allow-changed",
        path=str(path),
        changes=changes,
    )


def _display_path(path: Path) -> str:
    """Relative to the working directory when inside it: shorter in messages and commands."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


# --- the parameters cell (parsed in :mod:`.param_cell`) ---------------------------------


def notebook_parameters(
    nb: Mapping[str, Any], path: str = "notebook"
) -> tuple[list[Parameter], list[str]]:
    """The parameters of a loaded notebook and messages for the user (e.g. no parameters cell)."""
    cells = find_parameters_cells(nb)
    if not cells:
        return [], [NO_PARAMETERS_HINT]
    messages = []
    if len(cells) > 1:
        messages.append(
            f"{len(cells)} cells are tagged 'parameters' (cells "
            f"{', '.join(str(i + 1) for i in cells)}); using the first, as papermill does"
        )
    source = cell_source(nb["cells"][cells[0]])
    return parse_parameters(source, notebook=path, cell_index=cells[0]), messages


def read_notebook_parameters(path: str | Path) -> list[Parameter]:
    """Parameters from the notebook's cell tagged 'parameters' (none if it has no such cell)."""
    return notebook_parameters(read_notebook(path), str(path))[0]
