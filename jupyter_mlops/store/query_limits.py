"""The bounds of the filter language (see :mod:`.query`), checked on a filter's tokens before
:func:`ast.parse` sees it and on its syntax tree without recursing."""

from __future__ import annotations

import ast
import re

from ..exceptions import ValidationError

# Bounds of the language (see the docstring of query.py); each violation names its limit.
MAX_FILTER_DEPTH = 32
MAX_FILTER_TERMS = 100
MAX_FILTER_FIELDS = 32
MAX_IN_VALUES = 1000
MAX_ORDER_KEYS = 8
# Tokens a filter may hold: a page of 500 run ids (``id in [...]``, which the views build) fits.
MAX_FILTER_TOKENS = 5000
_TOKEN = re.compile(
    r"""\s+|(?P<str>[rRbBuUfF]{0,2}(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"))"""
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<num>[0-9.][0-9._a-zA-Z]*(?:[eE][+-][0-9_]+)?)"
    r"|(?P<op>==|!=|<=|>=|\*\*|//|<<|>>|.)",
    re.DOTALL,
)
_OPENERS, _CLOSERS = "([{", ")]}"
# Tokens after which nesting goes back to the enclosing level: a flat list of comparisons joined
# by these is one level in the syntax tree, however long.
_SEPARATORS = {",", "and", "or", "==", "!=", "<", "<=", ">", ">=", "in", "is", ":"}


def prescan(where: str) -> None:
    """Refuse a filter with too many tokens or nested too deep, from its tokens alone, before
    :func:`ast.parse` (whose parser recurses once per level) sees it. Nesting is brackets plus
    the operators (``not``, unary ``-``, ``+`` …) chained since the last comparison, ``and``,
    ``or`` or comma: those are the chains that make the syntax tree deep."""
    tokens = 0
    chain = [0]  # operators chained at each open bracket level
    counted = False  # whether the previous token was a chained operator
    for m in _TOKEN.finditer(where):
        kind, text = m.lastgroup, m.group()
        if kind is None:  # white space
            continue
        tokens += 1
        if tokens > MAX_FILTER_TOKENS:
            raise ValidationError(
                f"The filter has more than {MAX_FILTER_TOKENS} tokens; the limit is "
                f"{MAX_FILTER_TOKENS}"
            )
        if text in _OPENERS:
            if counted:  # "not (": one level of the tree, not two
                chain[-1] -= 1
            chain.append(0)
        elif text in _CLOSERS:
            if len(chain) > 1:
                chain.pop()
        elif text in _SEPARATORS:
            chain[-1] = 0
        elif (kind == "op" and text != ".") or text == "not":
            chain[-1] += 1
        counted = (kind == "op" and text not in _OPENERS + _CLOSERS + ".") or text == "not"
        counted = counted and text not in _SEPARATORS
        if len(chain) - 1 + sum(chain) > MAX_FILTER_DEPTH:
            _too_deep()


def _too_deep() -> None:
    raise ValidationError(
        f"The filter is nested more than {MAX_FILTER_DEPTH} levels deep (brackets, not, "
        f"signs); the limit is {MAX_FILTER_DEPTH}"
    )


def check_depth(tree: ast.AST) -> None:
    """Bound the syntax tree's depth without recursing, so nothing after this can."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_FILTER_DEPTH + 2:  # + Expression and the top node
            _too_deep()
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
