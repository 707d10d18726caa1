"""The ``parameters`` cell of a notebook, read as papermill reads it: each assignment is a
parameter, typed by its annotation, a ``# type:`` comment or its literal default, with the
comment beside it as help. A value that is not a literal makes a *derived* parameter."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable
from typing import Any

from ..exceptions import NotebookError, ValidationError
from .param_types import TypeMismatch, check_value, coerce_value, infer_type, parse_type
from .params import Parameter


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
    """Parameters declared by the assignments in a ``parameters`` cell's source.

    ``name = value`` or ``name: annotation = value`` (also ``a = b = 1`` and ``a, b = 1, 2``). A
    literal value is a default, typed by the annotation (or a ``# type: X`` comment, as papermill
    reads it), else by the literal. Any other value (``out_dir = f"runs/{date}"``) makes a
    *derived* parameter: its expression is recorded and an override may be any literal. Help is
    the comment at the end of the line (or on the line above). Only a syntax error refuses it.
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

        def fail(what: str, node: ast.stmt = node) -> NotebookError:
            return NotebookError(
                f"{where}, line {node.lineno}: {what}",
                path=notebook,
                cell_index=cell_index,
                line=node.lineno,
            )

        comment = trailing.get(node.end_lineno or node.lineno) or trailing.get(node.lineno)
        comment = comment or standalone.get(node.lineno - 1, "")
        type_comment, help_text = _type_comment(comment)
        for name, annotation, value in _assignments(node, fail):
            found.pop(name, None)  # a later assignment wins, as when the cell runs
            found[name] = _parameter(name, annotation or type_comment, value, help_text, fail)
    return list(found.values())


def _assignments(
    node: ast.stmt, fail: Callable[[str], NotebookError]
) -> list[tuple[str, ast.expr | None, ast.expr]]:
    """(name, annotation, value) for each name a statement assigns; other statements (imports,
    docstrings, ``cfg["x"] = 1``) assign no parameter papermill could override."""
    if isinstance(node, ast.AnnAssign):
        if not isinstance(node.target, ast.Name):
            return []
        name = node.target.id
        if node.value is None:
            raise fail(f"parameter '{name}' has no default; give it one, e.g. `{name}: ... = 0`")
        return [(name, node.annotation, node.value)]
    if not isinstance(node, ast.Assign):
        return []
    out: list[tuple[str, ast.expr | None, ast.expr]] = []
    for target in node.targets:  # `a = b = 1` has two targets
        if isinstance(target, ast.Name):
            out.append((target.id, None, node.value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            names = [t.id for t in target.elts if isinstance(t, ast.Name)]
            if len(names) == len(target.elts):  # not `a, *rest = …` nor `cfg.x, y = …`
                n = len(names)
                out += [(name, None, _unpacked(node.value, i, n)) for i, name in enumerate(names)]
    return out


def _unpacked(value: ast.expr, i: int, n: int) -> ast.expr:
    """The ``i``-th of ``n`` values unpacked from ``value``: ``a, b = 1, x`` gives 1 and x."""
    if (
        isinstance(value, (ast.Tuple, ast.List))
        and len(value.elts) == n
        and not any(isinstance(e, ast.Starred) for e in value.elts)
    ):
        return value.elts[i]
    return ast.Subscript(value=value, slice=ast.Constant(i), ctx=ast.Load())


def _type_comment(comment: str) -> tuple[str | None, str]:
    """papermill's ``# type: List[str] help`` comments: (the type, the help after it)."""
    m = re.match(r"type:\s*(\S+)\s*(.*)$", comment)
    if m is None or m.group(1) == "ignore":
        return None, comment
    try:
        parse_type(m.group(1))
    except ValidationError:
        return None, comment
    return m.group(1), m.group(2)


def _parameter(
    name: str,
    annotation: ast.expr | str | None,
    value: ast.expr,
    help_text: str,
    fail: Callable[[str], NotebookError],
) -> Parameter:
    try:
        default = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        # Computed from other parameters (or anything else): the notebook evaluates it, and an
        # override replaces it with a literal, exactly as papermill's injected cell does.
        return Parameter(name, help=help_text, expression=ast.unparse(value))
    if annotation is None:
        type_text = infer_type(default)
    else:
        t = parse_type(annotation if isinstance(annotation, str) else ast.unparse(annotation))
        if default is None and not t.accepts_type("None"):
            type_text = str(parse_type(f"{t} | None"))  # `x: str = None` means an optional str
        elif not check_value(default, t):
            raise fail(
                f"parameter '{name}' has default {default!r}, which is not a {t}; fix the "
                "default or the annotation"
            )
        else:
            type_text = str(t)
    return Parameter(name, type_text, _typed_default(default, type_text), help_text)


def _typed_default(default: Any, type_text: str) -> Any:
    """The default converted to its declared type (``b: float = 2`` gives 2.0)."""
    try:
        return coerce_value(default, parse_type(type_text))
    except TypeMismatch:  # `x: str = None` widened to 'str | None' fits; this is a safeguard
        return default
