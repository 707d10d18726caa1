"""What a cell's code says before it runs: the names it reads and writes, the models it trains,
its literal params, the unseeded random generators it creates, and which names are metrics."""

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
    reads: tuple[str, ...]  # names read before the cell assigns them, in order of first use,
    # each followed by the attributes read from it (``digits.data``): the cell's inputs
    writes: tuple[str, ...]  # names the cell assigns
    rng_warnings: tuple[tuple[str, str], ...]  # (called name, warning) per unseeded RNG
    # Names the cell may train (see ``trained_names``): only these are recorded as models.
    trained: tuple[str, ...] = ()
    # For-loop and comprehension targets: iteration values, neither metrics nor outputs.
    loop_vars: tuple[str, ...] = ()
    # (function, names passed to it) for calls of a bare name: a notebook function that fits
    # what it is given (``train(model, loader)``) trains those names (see collect).
    calls: tuple[tuple[str, tuple[str, ...]], ...] = ()


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
    loop_vars = _loop_targets(tree)
    params: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    for k, v in _literal_params(tree).items():
        if not _is_json_literal(v):
            continue
        (inputs if _is_large_container(v) else params)[k] = v
    return CellAnalysis(
        literal_params=params,
        literal_inputs=inputs,
        reads=_with_attributes(tuple(names.reads), tree),
        writes=tuple(names.writes),
        rng_warnings=tuple(unseeded_rng_creations(tree)),
        trained=trained_names(tree),
        loop_vars=tuple(loop_vars),
        calls=_calls_with_names(tree),
    )


# Methods that train their receiver (`clf.fit(X, y)`, `study.optimize(f)`, torch's
# `model.train()`, `lgb.train(...)` whose receiver is a module and so no model).
FIT_METHODS = frozenset(
    {"fit", "fit_transform", "fit_predict", "partial_fit", "fit_resample", "optimize", "train"}
)
# A plain PyTorch loop trains through its optimizer: `loss.backward(); opt.step()`.
STEP_METHODS = frozenset({"backward", "step"})


def _base_name(node: ast.expr) -> str | None:
    """``models`` for ``models["lr"].clf``: the name an attribute/subscript chain starts at."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _target_names(target: ast.expr) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _fitted_by_call(tree: ast.AST) -> tuple[dict[str, None], bool]:
    """Receivers of fit methods (and, for ``fit``, the names passed to it: Lightning's
    ``trainer.fit(model)``), and whether the code steps an optimizer."""
    found: dict[str, None] = {}
    steps = False
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        steps = steps or method in STEP_METHODS
        if method not in FIT_METHODS:
            continue
        if (base := _base_name(node.func.value)) is not None:
            found.setdefault(base)
        if method == "fit":
            args = [*node.args, *(k.value for k in node.keywords)]
            found.update(dict.fromkeys(a.id for a in args if isinstance(a, ast.Name)))
    return found, steps


def _assigned(tree: ast.AST) -> dict[str, None]:
    """Names assigned a computed value. An alias (``best = search.best_estimator_``) is no
    training: the model it names was fitted elsewhere."""
    found: dict[str, None] = {}
    for node in ast.walk(tree):
        targets: list[ast.expr]
        value: ast.expr | None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            targets, value = [node.target], node.value
        else:
            continue
        if value is None or isinstance(value, (ast.Name, ast.Attribute, ast.Subscript)):
            continue
        for t in targets:
            found.update(dict.fromkeys(_target_names(t)))
    return found


def _iterated_names(node: ast.expr) -> list[str]:
    """Names an iterable is made of: ``(a, b)``, ``zip(labels, models)``, ``models.items()``,
    but not a called class (``[("lr", LogisticRegression())]``)."""
    out: list[str] = []
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Name):
            out.append(n.id)
        elif isinstance(n, ast.Call):
            if isinstance(n.func, ast.Attribute) and (b := _base_name(n.func.value)):
                out.append(b)
            todo.extend([*n.args, *(k.value for k in n.keywords)])
        else:
            todo.extend(c for c in ast.iter_child_nodes(n) if isinstance(c, ast.expr))
    return out


def trained_names(tree: ast.AST) -> tuple[str, ...]:
    """The names a cell may train, from its code: those it calls a fit method on or assigns
    a computed value to and, in a loop that fits its loop variable, the names it iterates over
    (``for clf in (lr, rf): clf.fit(X, y)`` trains ``lr`` and ``rf``). In a cell that steps an
    optimizer, every name may be a model. A cell that only reads a model trains nothing."""
    fitted, steps = _fitted_by_call(tree)
    found = {**fitted, **_assigned(tree)}
    for node in ast.walk(tree):
        pairs: list[tuple[ast.expr, ast.expr, list[Any]]]
        if isinstance(node, (ast.For, ast.AsyncFor)):
            pairs = [(node.target, node.iter, node.body)]
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            body: list[Any] = (
                [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            )
            pairs = [(g.target, g.iter, body) for g in node.generators]
        else:
            continue
        for target, iterable, body in pairs:
            inner = {n for b in body for n in _fitted_by_call(b)[0]}
            if inner & set(_target_names(target)):
                found.update(dict.fromkeys(_iterated_names(iterable)))
    if steps:
        found.update(dict.fromkeys(n.id for n in ast.walk(tree) if isinstance(n, ast.Name)))
    return tuple(found)


def _calls_with_names(tree: ast.AST) -> tuple[tuple[str, tuple[str, ...]], ...]:
    out: dict[str, dict[str, None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [*node.args, *(k.value for k in node.keywords)]
            names = [a.id for a in args if isinstance(a, ast.Name)]
            if names:
                out.setdefault(node.func.id, {}).update(dict.fromkeys(names))
    return tuple((f, tuple(names)) for f, names in out.items())


def _loop_targets(tree: ast.AST) -> dict[str, None]:
    found: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            found.update(dict.fromkeys(_target_names(node.target)))
    return found


def _with_attributes(reads: tuple[str, ...], tree: ast.AST) -> tuple[str, ...]:
    """``reads`` with, after each name, the attributes the cell reads from it (``digits.data``;
    a method called, ``clf.fit``, is no data). Whether one is data is decided on the value."""
    attrs: dict[str, dict[str, None]] = {}
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Name)
            and id(node) not in called
        ):
            attrs.setdefault(node.value.id, {}).setdefault(f"{node.value.id}.{node.attr}")
    return tuple(x for name in reads for x in (name, *attrs.get(name, ())))


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
    "FIT_METHODS",
    "STEP_METHODS",
    "CellAnalysis",
    "analyze_cell",
    "code_sha",
    "is_metric_name",
    "metric_matcher",
    "trained_names",
]
