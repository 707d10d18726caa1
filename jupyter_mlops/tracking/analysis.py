"""What a cell's code says before it runs: the names it reads and writes, its literal params,
the unseeded random generators it creates, and which names are metrics."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..codec import dumps
from .seeding import unseeded_rng_creations

_METRIC_PREFIXES = ("", "train_", "val_", "valid_", "test_", "eval_", "cv_", "mean_")
# A literal container larger than this is data (a table typed into the cell), not a setting:
# it is fingerprinted as an input instead of being stored as a param.
MAX_PARAM_ITEMS = 20
MAX_PARAM_CHARS = 250


@dataclass(frozen=True)
class CellAnalysis:
    literal_params: dict[str, Any]
    literal_inputs: dict[str, Any]  # literal containers too large to be params (data)
    reads: tuple[str, ...]  # names read before the cell assigns them, in order of first use
    writes: tuple[str, ...]  # names the cell assigns
    rng_warnings: tuple[tuple[str, str], ...]  # (called name, warning) per unseeded RNG


def code_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class _Names(ast.NodeVisitor):
    """Names a cell reads (before assigning them) and writes, in source order."""

    def __init__(self) -> None:
        self.reads: dict[str, None] = {}
        self.writes: dict[str, None] = {}

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if node.id not in self.writes:
                self.reads.setdefault(node.id)
        else:
            self.writes.setdefault(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)  # the right side is evaluated first
        for t in node.targets:
            self.visit(t)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.reads.setdefault(node.target.id) if node.target.id not in self.writes else None
        self.visit(node.target)

    def _scope(self, node: ast.AST) -> None:
        # Function/class bodies run later (or never): only their name is written now.
        self.writes.setdefault(node.name)  # type: ignore[attr-defined]
        for d in getattr(node, "decorator_list", []):
            self.visit(d)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scope

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for a in node.names:
            self.writes.setdefault((a.asname or a.name).split(".")[0])

    visit_ImportFrom = visit_Import


def _literal_params(tree: ast.Module) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and value is not None:
            try:
                params[target.id] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    return params


@lru_cache(maxsize=256)
def analyze_cell(code: str) -> CellAnalysis | None:
    """Params, reads, writes and RNG warnings of ``code``; None if it is not plain Python."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    names = _Names()
    names.visit(tree)
    params: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    for k, v in _literal_params(tree).items():
        if not _is_json_literal(v):
            continue
        (inputs if _is_large_container(v) else params)[k] = v
    return CellAnalysis(
        literal_params=params,
        literal_inputs=inputs,
        reads=tuple(names.reads),
        writes=tuple(names.writes),
        rng_warnings=tuple(unseeded_rng_creations(tree)),
    )


def _is_json_literal(v: Any) -> bool:
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (list, tuple)):
        return all(_is_json_literal(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _is_json_literal(x) for k, x in v.items())
    return False


def _is_large_container(v: Any) -> bool:
    if not isinstance(v, (list, tuple, dict)):
        return False
    if len(v) > MAX_PARAM_ITEMS:
        return True
    return len(dumps(v)) > MAX_PARAM_CHARS


@lru_cache(maxsize=16)
def metric_matcher(metric_names: tuple[str, ...]) -> Callable[[str], bool]:
    """A predicate saying whether a variable name is a metric (``accuracy``, ``val_loss``,
    ``model_f1`` …), built once per settings: a tracked cell asks it for every name it writes."""
    names = frozenset(metric_names)
    prefixes = tuple(p for p in _METRIC_PREFIXES if p)

    @lru_cache(maxsize=4096)
    def is_metric(name: str) -> bool:
        if name in names:
            return True
        for p in prefixes:
            if name.startswith(p) and name[len(p) :] in names:
                return True
        i = name.find("_")
        while i != -1:  # any suffix after an underscore: `model_f1`, `holdout_val_loss`
            if name[i + 1 :] in names:
                return True
            i = name.find("_", i + 1)
        return False

    return is_metric


def is_metric_name(name: str, metric_names: Iterable[str]) -> bool:
    return metric_matcher(tuple(metric_names))(name)


__all__ = [
    "MAX_PARAM_CHARS",
    "MAX_PARAM_ITEMS",
    "CellAnalysis",
    "analyze_cell",
    "code_sha",
    "is_metric_name",
    "metric_matcher",
]
