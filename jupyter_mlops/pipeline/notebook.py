"""What pipelines read from a notebook: its ``parameters`` cell, kernel and code-cell hashes.

Notebooks are read as plain JSON (nbformat 4) rather than with ``nbformat``, whose import alone
costs over a second; we only need cell types, sources, tags and the kernelspec.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import io
import json
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import NotebookChangedError, NotebookError
from .params import TypeMismatch, check_value, coerce_value, infer_type, parse_type
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


def kernel_name(nb: Mapping[str, Any]) -> str | None:
    spec = (nb.get("metadata") or {}).get("kernelspec") or {}
    name = spec.get("name")
    return name if isinstance(name, str) and name else None


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


# --- the parameters cell --------------------------------------------------------------------


def _comments(source: str) -> tuple[dict[int, str], dict[int, str]]:
    """Trailing comments and whole-line comments, by line number."""
    trailing: dict[int, str] = {}
    standalone: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                text = tok.string.lstrip("#").strip()
                alone = not tok.line[: tok.start[1]].strip()
                (standalone if alone else trailing)[tok.start[0]] = text
    except (tokenize.TokenError, SyntaxError):
        pass  # the source parsed with ast, so this only loses help texts
    return trailing, standalone


def parse_parameters(
    source: str, *, notebook: str = "notebook", cell_index: int = 0
) -> list[Parameter]:
    """Parameters declared by literal assignments in a ``parameters`` cell's source.

    ``name = literal`` or ``name: annotation = literal``; the type is the annotation, else the
    literal's type; help is the comment at the end of the line (or on the line above).
    """
    where = f"{notebook}: the cell tagged 'parameters' (cell {cell_index + 1})"
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        bad = (e.text or "").strip()
        raise NotebookError(
            f"{where}, line {e.lineno}: cannot parse the parameters cell ({e.msg}: {bad!r}); it "
            "must hold plain Python assignments such as `alpha = 0.5` or `n: int = 10` (move "
            "magics and other code to another cell)",
            path=notebook,
            cell_index=cell_index,
            line=e.lineno,
        ) from None
    trailing, standalone = _comments(source)
    found: dict[str, Parameter] = {}
    for node in tree.body:
        parsed = _assignment(node, where, notebook, cell_index)
        if parsed is None:
            continue  # imports, docstrings and other statements are not parameters
        name, annotation, default = parsed
        help_text = trailing.get(node.end_lineno or node.lineno) or trailing.get(node.lineno)
        help_text = help_text or standalone.get(node.lineno - 1, "")
        type_text = _parameter_type(name, annotation, default, where, notebook, cell_index, node)
        found.pop(name, None)  # a later assignment wins, as when the cell runs
        found[name] = Parameter(name, type_text, _typed_default(default, type_text), help_text)
    return list(found.values())


def _assignment(
    node: ast.stmt, where: str, notebook: str, cell_index: int
) -> tuple[str, ast.expr | None, Any] | None:
    def fail(what: str) -> NotebookError:
        return NotebookError(
            f"{where}, line {node.lineno}: {what}",
            path=notebook,
            cell_index=cell_index,
            line=node.lineno,
        )

    value: ast.expr | None  # AnnAssign may have none; checked below
    if isinstance(node, ast.Assign):
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            raise fail("assign one name per line in the parameters cell, e.g. `alpha = 0.5`")
        name, annotation, value = node.targets[0].id, None, node.value
    elif isinstance(node, ast.AnnAssign):
        if not isinstance(node.target, ast.Name):
            raise fail("assign one name per line in the parameters cell, e.g. `n: int = 10`")
        name, annotation, value = node.target.id, node.annotation, node.value
        if value is None:
            raise fail(f"parameter '{name}' has no default; give it one, e.g. `{name}: ... = 0`")
    else:
        return None
    try:
        default = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise fail(
            f"parameter '{name}' has a non-literal default `{ast.unparse(value)}`; papermill can "
            "only override literals (numbers, strings, lists, dicts, True/False/None): write a "
            "literal here and compute derived values in a later cell"
        ) from None
    return name, annotation, default


def _parameter_type(
    name: str,
    annotation: ast.expr | None,
    default: Any,
    where: str,
    notebook: str,
    cell_index: int,
    node: ast.stmt,
) -> str:
    if annotation is None:
        return infer_type(default)
    t = parse_type(ast.unparse(annotation))
    if default is None and not t.accepts_type("None"):
        return str(parse_type(f"{t} | None"))  # `x: str = None` means an optional str
    if not check_value(default, t):
        raise NotebookError(
            f"{where}, line {node.lineno}: parameter '{name}' has default {default!r}, which "
            f"is not a {t}; fix the default or the annotation",
            path=notebook,
            cell_index=cell_index,
            line=node.lineno,
        )
    return str(t)


def _typed_default(default: Any, type_text: str) -> Any:
    """The default converted to its declared type (``b: float = 2`` gives 2.0)."""
    try:
        return coerce_value(default, parse_type(type_text))
    except TypeMismatch:  # `x: str = None` widened to 'str | None' fits; this is a safeguard
        return default


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
