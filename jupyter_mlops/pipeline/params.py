"""The typed parameter contract of a pipeline: declared types, CLI ``-p k=v`` parsing and checks.

Types are written as Python annotations (``int``, ``list[str]``, ``dict[str, float]``,
``Optional[int]``, ``int | None``, ``Literal['a', 'b']``, ``Any``) and parsed by
:mod:`.param_types`. Annotations we cannot check (``pd.Timestamp``, a user class) are kept as
written and accept any literal value.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..config import parse_pairs
from ..exceptions import ParameterError, ValidationError
from .param_types import TypeExpr, TypeMismatch, check_value, coerce_value, parse_type
from .param_types import infer_type as infer_type  # re-exported: callers import it from here

# --- declared parameters -------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Parameter:
    """A notebook parameter: ``type`` is an annotation string such as 'int' or 'list[str]'.

    A *derived* parameter (``expression`` set, e.g. ``out_dir = f"runs/{date}"``) is computed by
    the notebook from other parameters; it has no declared type or default, and an override may
    be any literal, as with papermill.
    """

    name: str
    type: str = "Any"
    default: Any = None
    help: str = ""
    expression: str | None = None

    @property
    def derived(self) -> bool:
        return self.expression is not None

    # The YAML form (codec.py keeps records only): a derived parameter has no type or default.
    def to_dict(self) -> dict[str, Any]:
        if self.expression is not None:
            return {"name": self.name, "expression": self.expression, "help": self.help}
        return {
            "name": self.name,
            "type": self.type,
            "default": plain_value(self.default),
            "help": self.help,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Parameter:
        """Validate a mapping (from YAML); the default must fit the declared type."""
        name = d.get("name")
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise ValidationError(f"Parameter name {name!r} is not a Python identifier")
        if "expression" in d:
            return cls(name, help=str(d.get("help") or ""), expression=_expression(name, d))
        type_text = d.get("type") or "Any"
        if not isinstance(type_text, str):
            raise ValidationError(f"Parameter '{name}' has type {type_text!r}; write it as text")
        t = parse_type(type_text)
        default = d.get("default")
        if default is not None and not check_value(default, t):
            raise ValidationError(
                f"Parameter '{name}' has default {default!r}, which is not a {t}; fix the "
                "default or the type"
            )
        return cls(name, str(t), _restore(default, t), str(d.get("help") or ""))


def _expression(name: str, d: Mapping[str, Any]) -> str:
    """A derived parameter's expression: Python, and without a type or default beside it."""
    text = d.get("expression")
    extra = [k for k in ("type", "default") if k in d]
    if extra:
        raise ValidationError(
            f"Parameter '{name}' is derived (expression {text!r}) and cannot also have "
            f"{' or '.join(extra)}; remove {' and '.join(extra)}, or replace the expression "
            "with a literal default"
        )
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(
            f"Parameter '{name}' has expression {text!r}; write the Python expression as text"
        )
    try:
        ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ValidationError(
            f"Parameter '{name}' has expression {text!r}, which is not Python ({e.msg}); "
            "re-promote the notebook to rewrite it"
        ) from None
    return text.strip()


def plain_value(value: Any) -> Any:
    """Tuples and sets as lists, so the value can be written as YAML and JSON."""
    if isinstance(value, (tuple, set, frozenset, list)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [plain_value(v) for v in items]
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    return value


def _restore(value: Any, t: TypeExpr) -> Any:
    """Lists read from YAML back to the declared tuple/set types."""
    return value if value is None else coerce_value(value, t)


def parse_kv(pairs: Iterable[str]) -> dict[str, str]:
    """``['a=1', 'b=x']`` → ``{'a': '1', 'b': 'x'}``; the last of repeated keys wins."""

    def error(pair: str) -> ParameterError:
        return ParameterError(
            f"Expected key=value, got '{pair}'; pass parameters as -p name=value, "
            'e.g. -p alpha=0.5 or -p \'columns=["a", "b"]\'',
            value=pair,
        )

    return parse_pairs(pairs, error)


def describe_params(params: Iterable[Parameter]) -> str:
    """'alpha: float = 0.5, cols: list[str] = ['a']' (used in error messages)."""
    text = ", ".join(describe_param(p) for p in params)
    return text or "no parameters (tag a notebook cell 'parameters' and promote again)"


def describe_param(p: Parameter) -> str:
    """'alpha: float = 0.5', or 'out_dir = f"runs/{date}" (derived)'."""
    if p.expression is not None:
        return f"{p.name} = {p.expression} (derived)"
    return f"{p.name}: {p.type} = {p.default!r}"


def coerce_params(
    spec_params: Iterable[Parameter],
    raw: Mapping[str, str] | None = None,
    file_values: Mapping[str, Any] | None = None,
    *,
    source: str = "the notebook",
) -> dict[str, Any]:
    """Checked override values: ``file_values`` (typed, from YAML/JSON) then ``raw`` CLI strings.

    Returns only the parameters given, converted to their declared types; defaults stay in the
    notebook (see :func:`resolve_params` for the full set). Raises ParameterError.
    """
    declared = {p.name: p for p in spec_params}
    out: dict[str, Any] = {}
    for name, value in (file_values or {}).items():
        p = _lookup(declared, name, source)
        shown = value if isinstance(value, str) else repr(value)
        out[name] = _coerce_or_raise(p, value, shown, cli=False)
    for name, text in (raw or {}).items():
        p = _lookup(declared, name, source)
        out[name] = _coerce_cli(p, text)
    return out


def resolve_params(
    spec_params: Iterable[Parameter], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """Every declared parameter's effective value: its default unless overridden. A derived
    parameter that is not overridden is left out: the notebook computes it."""
    return {
        p.name: overrides.get(p.name, p.default)
        for p in spec_params
        if p.expression is None or p.name in overrides
    } | dict(overrides)


def _lookup(declared: Mapping[str, Parameter], name: str, source: str) -> Parameter:
    if name in declared:
        return declared[name]
    # case-insensitive, so '-p c=1' suggests 'C'
    lowered = {n.lower(): n for n in declared}
    close = [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=1)]
    hint = f"; did you mean '{close[0]}'?" if close else "."
    who = source[:1].upper() + source[1:]
    listing = describe_params(declared.values())
    raise ParameterError(f"Unknown parameter '{name}'{hint} {who} declares: {listing}", name=name)


_LITERAL_ERRORS = (ValueError, SyntaxError, TypeError, MemoryError, RecursionError)


def _coerce_cli(p: Parameter, text: str) -> Any:
    t = parse_type(p.type)
    candidates: list[Any] = []
    with contextlib.suppress(*_LITERAL_ERRORS):
        candidates.append(ast.literal_eval(text.strip()))
    if t.accepts_type("bool") and text.strip().lower() in ("true", "false"):
        candidates.append(text.strip().lower() == "true")
    if t.accepts_type("str"):
        candidates.append(text)  # a bare word, or digits meant as text
    for value in candidates:
        try:
            return coerce_value(value, t)
        except TypeMismatch:
            continue
    return _coerce_or_raise(p, candidates[0] if candidates else text, text, cli=True)


def _coerce_or_raise(p: Parameter, value: Any, shown: str, *, cli: bool) -> Any:
    t = parse_type(p.type)
    try:
        return coerce_value(value, t)
    except TypeMismatch:
        pass
    got = _got(value, shown)
    example = _example(p, t)
    fix = f"-p {shlex.quote(f'{p.name}={example}')}" if cli else f"{p.name}: {example}"
    hint = ""
    if t.origin == "int" and isinstance(value, float):
        hint = f" (annotate '{p.name}: float' in the parameters cell to accept fractions)"
    raise ParameterError(
        f"Parameter '{p.name}' expects {t}, got {got}; e.g. {fix}{hint}",
        name=p.name,
        value=value,
        expected=str(t),
    )


def _got(value: Any, shown: str) -> str:
    """The refused value quoted once: a string by its repr (with "(str)" when it was typed as a
    quoted literal, so -p "n='5'" reads got '5' (str), not got ''5''), else as written, with
    its type."""
    if isinstance(value, str):
        return repr(value) + ("" if value == shown else " (str)")
    return f"'{shown}' ({type(value).__name__})"


_EXAMPLES = {"int": 10, "float": 0.5, "str": "text", "bool": True, "None": None}


def _example(p: Parameter, t: TypeExpr) -> str:
    usable = p.default is not None and check_value(p.default, t)
    value = p.default if usable else _example_value(t)
    return value if isinstance(value, str) else literal_text(value)


def literal_text(value: Any) -> str:
    """A Python literal for ``value`` with double-quoted strings, which are easy to shell-quote."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple, set)):
        inner = ", ".join(literal_text(v) for v in value)
        if isinstance(value, tuple):
            return f"({inner}{',' if len(value) == 1 else ''})"
        if isinstance(value, list):
            return f"[{inner}]"
        return f"{{{inner}}}" if value else "set()"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{literal_text(k)}: {literal_text(v)}" for k, v in value.items()) + "}"
        )
    return repr(value)


def _example_value(t: TypeExpr) -> Any:
    if t.origin in _EXAMPLES:
        return _EXAMPLES[t.origin]
    if t.origin == "literal":
        return t.values[0]
    if t.origin == "union":
        return _example_value(next((a for a in t.args if a.origin != "None"), t.args[0]))
    if t.origin in ("list", "tuple", "set"):
        item = _example_value(t.args[0]) if t.args else "a"
        return {"list": list, "tuple": tuple, "set": list}[t.origin]([item, item])
    if t.origin == "dict":
        k, v = (_example_value(a) for a in t.args) if t.args else ("a", 1.0)
        return {k: v}
    return "value"
