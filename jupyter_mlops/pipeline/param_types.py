"""Parameter types: annotations as written in a notebook (``int``, ``list[str]``,
``Optional[int]``, ``int | None``, ``Literal['a', 'b']``, ``Any``), parsed into a
:class:`TypeExpr` that values are checked and converted against.

Annotations we cannot check (``pd.Timestamp``, a user class) are kept as written ("opaque") and
accept any literal value.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..exceptions import TypeMismatch, ValidationError

_SIMPLE = {"int", "float", "str", "bool", "None", "Any"}
_CONTAINERS = {"list": "list", "dict": "dict", "tuple": "tuple", "set": "set"}
_ALIASES = {"List": "list", "Dict": "dict", "Tuple": "tuple", "Set": "set", "object": "Any"}
_TYPING_MODULES = {"typing", "t", "typing_extensions"}


@dataclass(frozen=True)
class TypeExpr:
    """A parsed parameter type. ``origin`` is a simple type, a container, 'union', 'literal',
    or 'opaque' (kept as ``text`` and not checked)."""

    origin: str
    args: tuple[TypeExpr, ...] = ()
    values: tuple[Any, ...] = ()  # Literal[...] choices
    variadic: bool = False  # tuple[X, ...]
    text: str = ""

    def __str__(self) -> str:
        if self.origin == "union":
            arms = sorted(self.args, key=lambda a: a.origin == "None")  # None last
            return " | ".join(str(a) for a in arms)
        if self.origin == "literal":
            return f"Literal[{', '.join(repr(v) for v in self.values)}]"
        if self.origin == "opaque":
            return self.text
        if not self.args:
            return self.origin
        inner = ", ".join(str(a) for a in self.args) + (", ..." if self.variadic else "")
        return f"{self.origin}[{inner}]"

    def accepts_type(self, name: str) -> bool:
        """Whether a value of the simple type ``name`` (e.g. 'str', 'None') can satisfy this."""
        if self.origin in ("Any", "opaque", name):
            return True
        return self.origin == "union" and any(a.accepts_type(name) for a in self.args)


ANY = TypeExpr("Any")


def parse_type(text: str) -> TypeExpr:
    """Parse an annotation string; unknown names become an opaque (unchecked) type."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        raise ValidationError(
            f"Invalid parameter type '{text}': {e.msg}; write a Python annotation such as "
            "'int', 'list[str]' or 'float | None'"
        ) from None
    return _from_node(node, text.strip())


def _name_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return _ALIASES.get(node.id, node.id)
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in _TYPING_MODULES
    ):
        return _ALIASES.get(node.attr, node.attr)
    return None


def _union(arms: Iterable[TypeExpr]) -> TypeExpr:
    flat: list[TypeExpr] = []
    for arm in arms:
        for a in arm.args if arm.origin == "union" else (arm,):
            if a not in flat:
                flat.append(a)
    return flat[0] if len(flat) == 1 else TypeExpr("union", tuple(flat))


def _from_node(node: ast.expr, text: str) -> TypeExpr:
    opaque = TypeExpr("opaque", text=ast.unparse(node))
    if isinstance(node, ast.Constant):
        if node.value is None:
            return TypeExpr("None")
        return parse_type(node.value) if isinstance(node.value, str) else opaque
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([_from_node(node.left, text), _from_node(node.right, text)])
    name = _name_of(node)
    if name in _SIMPLE:
        return TypeExpr(name)
    if name in _CONTAINERS:
        return TypeExpr(name)
    if not isinstance(node, ast.Subscript):
        return opaque
    origin = _name_of(node.value)
    items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    if origin == "Optional" and len(items) == 1:
        return _union([_from_node(items[0], text), TypeExpr("None")])
    if origin == "Union":
        return _union(_from_node(i, text) for i in items)
    if origin == "Literal":
        try:
            return TypeExpr("literal", values=tuple(ast.literal_eval(i) for i in items))
        except ValueError:
            return opaque
    if origin == "tuple" and len(items) == 2 and _is_ellipsis(items[1]):
        return TypeExpr("tuple", (_from_node(items[0], text),), variadic=True)
    arity = {"list": 1, "set": 1, "dict": 2}.get(origin or "")
    if origin == "tuple" or (arity is not None and len(items) == arity):
        return TypeExpr(origin or "", tuple(_from_node(i, text) for i in items))
    return opaque


def _is_ellipsis(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def coerce_value(value: Any, t: TypeExpr) -> Any:
    """``value`` converted to fit ``t`` (int → float, list ↔ tuple); raises TypeMismatch if not."""
    o = t.origin
    if o in ("Any", "opaque"):
        return value
    if o == "None":
        if value is None:
            return None
    elif o == "bool":
        if isinstance(value, bool):
            return value
    elif o == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif o == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif o == "str":
        if isinstance(value, str):
            return value
    elif o == "literal":
        if any(type(value) is type(v) and value == v for v in t.values):
            return value
    elif o == "union":
        for arm in t.args:
            try:
                return coerce_value(value, arm)
            except TypeMismatch:
                continue
    else:
        return _coerce_container(value, t)
    raise TypeMismatch


def _coerce_container(value: Any, t: TypeExpr) -> Any:
    o = t.origin
    if o == "dict":
        if not isinstance(value, dict):
            raise TypeMismatch
        if not t.args:
            return value
        return {coerce_value(k, t.args[0]): coerce_value(v, t.args[1]) for k, v in value.items()}
    if not isinstance(value, (list, tuple, set, frozenset)) or (
        o != "set" and isinstance(value, (set, frozenset))
    ):
        raise TypeMismatch
    if o == "tuple" and t.args and not t.variadic:
        if len(value) != len(t.args):
            raise TypeMismatch
        return tuple(coerce_value(v, a) for v, a in zip(value, t.args, strict=True))
    items = [coerce_value(v, t.args[0]) if t.args else v for v in value]
    return {"list": list, "tuple": tuple, "set": set}[o](items)


def check_value(value: Any, t: TypeExpr | str) -> bool:
    """Whether ``value`` fits the type (without conversion beyond int → float)."""
    try:
        coerce_value(value, parse_type(t) if isinstance(t, str) else t)
    except TypeMismatch:
        return False
    return True


def infer_type(value: Any) -> str:
    """The type string of a literal default: ``[1, 2]`` → 'list[int]', ``None`` → 'Any'."""
    if value is None:
        return "Any"
    if isinstance(value, (bool, int, float, str)):
        return type(value).__name__
    if isinstance(value, (list, tuple, set)):
        inner = _common_type(value)
        name = type(value).__name__
        if name == "tuple":
            return f"tuple[{inner}, ...]" if inner else "tuple"
        return f"{name}[{inner}]" if inner else name
    if isinstance(value, dict):
        k, v = _common_type(value.keys()), _common_type(value.values())
        return f"dict[{k}, {v}]" if k and v else "dict"
    return "Any"


def _common_type(items: Iterable[Any]) -> str | None:
    names = {infer_type(v) for v in items}
    if names == {"int", "float"}:
        return "float"
    return names.pop() if len(names) == 1 and "Any" not in names else None
