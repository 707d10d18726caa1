"""Translate run filters into SQL.

Filters are Python expressions over run fields, so users write what they already know::

    metrics.accuracy > 0.9 and params.C <= 1 and status == "finished"
    params.solver in ["lbfgs", "saga"] or tags["team"] == "vision"

They are parsed with :mod:`ast` (never evaluated) and compiled to one parameterised SQL condition
with a join per referenced metric/param/tag, so filtering and top-N ordering happen in the database.

The language is bounded so that every query it builds is small for both the parser and the
database: SQLite 3.40 crashes on an ``ORDER BY`` of 64+ terms and refuses expressions deeper than
1,000 or joins of 64+ tables. A filter has at most :data:`MAX_FILTER_DEPTH` levels of nesting,
:data:`MAX_FILTER_TERMS` comparisons and :data:`MAX_FILTER_FIELDS` distinct fields; an ordering at
most :data:`MAX_ORDER_KEYS` keys (two ORDER BY terms each). Nesting is counted on the tokens
before :func:`ast.parse`, whose parser recurses once per level.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ValidationError
from .dialect import SQLITE, Dialect
from .paging import decode_cursor as decode_cursor
from .paging import encode_cursor as encode_cursor
from .query_limits import MAX_FILTER_DEPTH as MAX_FILTER_DEPTH
from .query_limits import (
    MAX_FILTER_FIELDS,
    MAX_FILTER_TERMS,
    MAX_IN_VALUES,
    MAX_ORDER_KEYS,
    check_depth,
    prescan,
)
from .query_limits import MAX_FILTER_TOKENS as MAX_FILTER_TOKENS
from .rows import FILTER_COLUMNS

_NAMESPACES = {"metrics": "latest_metrics", "params": "params", "tags": "tags"}
_OPS = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "=", ast.NotEq: "!="}
# One outcome per run that ran gates: any failure fails it, else any warning warns it (skips
# pass). Plain CASE/SUM so every SQL backend runs it unchanged.
GATE_OUTCOMES = (
    "SELECT run_id, CASE WHEN SUM(CASE WHEN status = 'fail' THEN 1 ELSE 0 END) > 0 THEN 'failed'"
    " WHEN SUM(CASE WHEN status = 'warn' THEN 1 ELSE 0 END) > 0 THEN 'warned'"
    " ELSE 'passed' END AS outcome FROM gate_results GROUP BY run_id"
)

# The same outcome as an expression over one run ``r``, for filters and orders on ``gates``:
# three probes of the (run_id, position) key instead of the aggregate over every gate result.
_GATE_PROBE = "EXISTS (SELECT 1 FROM gate_results x WHERE x.run_id = r.id{})"
_FAILS = _GATE_PROBE.format(" AND x.status = 'fail'")
_WARNS = _GATE_PROBE.format(" AND x.status = 'warn'")
GATE_OUTCOME_SQL = (
    f"(CASE WHEN {_FAILS} THEN 'failed' WHEN {_WARNS} THEN 'warned'"
    f" WHEN {_GATE_PROBE.format('')} THEN 'passed' END)"
)
GATE_OUTCOME_VALUES = ("passed", "failed", "warned")


def run_models(dialect: Dialect) -> str:
    """The model versions each run registered, with their stages, as one row per run.

    A version belongs to the run that logged it and to that run's parent: a pipeline run
    registers the model its notebook's cell logged. Aggregated once per query (model_versions
    is small), never per row."""
    order = "o.name, o.version"
    return (
        f"SELECT o.rid AS run_id, {dialect.string_agg('o.ref', ', ', order)} AS model,"
        f" {dialect.string_agg('o.stage', ', ', order)} AS stage FROM ("
        "SELECT v.run_id AS rid, v.name || '@' || v.version AS ref, v.stage, v.name, v.version"
        " FROM model_versions v"
        " UNION SELECT x.parent_id, v.name || '@' || v.version, v.stage, v.name, v.version"
        " FROM model_versions v JOIN runs x ON x.id = v.run_id WHERE x.parent_id IS NOT NULL"
        f" ORDER BY 4, 5) o GROUP BY o.rid"
    )


# Text the store compares with a number (REAL or BIGINT columns): PostgreSQL refuses text there.
_NUMERIC_COLUMNS = {"started", "ended", "duration", "seed", "peak_memory"}

_HELP = (
    "write e.g. metrics.accuracy > 0.9 and params.C == 0.5 "
    f"(fields: metrics.*, params.*, tags.*, {', '.join(FILTER_COLUMNS)}, gates)"
)


@dataclass
class Query:
    """A compiled filter: joins to add to ``FROM runs r`` plus a WHERE condition and its args."""

    joins: list[str] = field(default_factory=list)
    join_args: list[Any] = field(default_factory=list)
    where: str = "1=1"
    where_args: list[Any] = field(default_factory=list)
    order: str = "r.started DESC"
    # (namespace, key) of the metrics/params/tags the ordering uses: the store refuses keys no
    # run has, since ordering by one silently orders by nothing.
    order_keys: list[tuple[str, str]] = field(default_factory=list)
    dialect: Dialect = SQLITE
    # Comparisons compiled so far, and the columns ordered by (each once).
    terms: int = 0
    ordered: list[str] = field(default_factory=list)
    _aliases: dict[tuple[str, str], str] = field(default_factory=dict)

    def alias(self, namespace: str, key: str) -> str:
        """The alias of the LEFT JOIN that brings in ``namespace.key`` (made once per key)."""
        if (namespace, key) not in self._aliases:
            if len(self._aliases) >= MAX_FILTER_FIELDS + MAX_ORDER_KEYS:
                raise ValidationError(
                    f"The filter and order name more than {MAX_FILTER_FIELDS + MAX_ORDER_KEYS}"
                    " distinct metrics, params and tags; name fewer"
                )
            a = f"j{len(self._aliases)}"
            table = _NAMESPACES[namespace]
            self.joins.append(f"LEFT JOIN {table} {a} ON {a}.run_id = r.id AND {a}.key = ?")
            self.join_args.append(key)
            self._aliases[(namespace, key)] = a
        return self._aliases[(namespace, key)]

    @property
    def args(self) -> list[Any]:
        return [*self.join_args, *self.where_args]


def _field(node: ast.expr, q: Query) -> tuple[str, str, str]:
    """(SQL expression, namespace, key) for a field reference such as ``metrics.acc``."""
    if isinstance(node, ast.Name) and node.id in FILTER_COLUMNS:
        return f"r.{node.id}", "run", node.id
    if isinstance(node, ast.Name) and node.id == "gates":  # passed | failed | warned | None
        return GATE_OUTCOME_SQL, "run", "gates"
    key = None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        ns, key = node.value.id, node.attr
    elif (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        ns, key = node.value.id, node.slice.value
    if key is None or ns not in _NAMESPACES:
        raise ValidationError(f"Unknown field {_unparse(node)} in filter; {_HELP}")
    return f"{q.alias(ns, key)}.value", ns, key


def _literal(node: ast.expr) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as e:
        raise ValidationError(
            f"Expected a literal value in filter, got {_unparse(node)}; {_HELP}"
        ) from e
    for v in value if isinstance(value, (list, tuple, set)) else [value]:
        _check_scalar(v, node)
    return value


def _check_scalar(value: Any, node: ast.expr) -> None:
    """Only what every backend binds and compares: text, finite numbers in 64 bits, None."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValidationError(
                f"Integer {_unparse(node)} in filter is outside 64 bits; write it as a float"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"Number {_unparse(node)} in filter is not finite")
        return
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(f"Text {_unparse(node)} in filter holds a NUL character")
        return
    raise ValidationError(
        f"Expected text, a number, True/False or None in filter, got {_unparse(node)}; {_HELP}"
    )


def _unparse(node: ast.AST, limit: int = 80) -> str:
    """``node`` as source for a message, cut short (the tree is bounded, so this cannot
    recurse deeply)."""
    text = repr(ast.unparse(node))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _compare_one(left: ast.expr, op: ast.cmpop, right: ast.expr, q: Query) -> str:
    col, ns, _ = _field(left, q)
    value = _literal(right)
    if isinstance(op, (ast.In, ast.NotIn)):
        if not isinstance(value, (list, tuple, set)) or not value:
            raise ValidationError(f"'in' needs a non-empty list, got {_unparse(right)}")
        if len(value) > MAX_IN_VALUES:
            raise ValidationError(
                f"'in' list of {len(value)} values in filter; the limit is {MAX_IN_VALUES}"
            )
        values = list(value)
        flat = [v for v in values if v is not None and ns != "params"]
        # One flat IN (...) where the column compares plainly: a chain of ORs nests one level
        # per value in SQLite's parser, whose expression depth is limited to 1,000.
        parts = [_compare_value(col, ns, "=", v, q) for v in values if v is None or ns == "params"]
        q.terms += len(parts)
        _check_terms(q)
        if flat:
            for v in flat:
                q.where_args.append(_typed(col, ns, v))
            parts.append(f"{col} IN ({', '.join('?' * len(flat))})")
        joined = " OR ".join(parts)
        return f"NOT ({joined})" if isinstance(op, ast.NotIn) else f"({joined})"
    if isinstance(op, (ast.Is, ast.IsNot)) and value is None:
        return f"{col} IS {'NOT ' if isinstance(op, ast.IsNot) else ''}NULL"
    # A list compares whole only with a param, whose JSON text it is compared with.
    listed = isinstance(value, (list, tuple, set))
    if type(op) not in _OPS or (listed and (ns != "params" or isinstance(value, set))):
        shown = _unparse(ast.Compare(left=left, ops=[op], comparators=[right]))
        raise ValidationError(f"Unsupported comparison in filter {shown}; {_HELP}")
    return _compare_value(col, ns, _OPS[type(op)], value, q)


def _check_terms(q: Query) -> None:
    if q.terms > MAX_FILTER_TERMS:
        raise ValidationError(
            f"The filter has more than {MAX_FILTER_TERMS} comparisons; the limit is "
            f"{MAX_FILTER_TERMS} (use 'in [...]' for a list of values)"
        )


def _typed(col: str, ns: str, value: Any) -> Any:
    """``value`` as the column compares it; a value no backend can compare is refused."""
    if ns == "params":
        return json.dumps(value)
    if ns == "tags":
        return value if isinstance(value, str) else str(value)
    numeric = ns == "metrics" or col.removeprefix("r.") in _NUMERIC_COLUMNS
    if numeric and col in ("r.started", "r.ended") and isinstance(value, str):
        import datetime as dt

        try:
            return dt.datetime.fromisoformat(value).timestamp()
        except (ValueError, OverflowError, OSError) as e:
            raise ValidationError(f"Bad time {value[:40]!r} in filter; use ISO format") from e
    if numeric and (isinstance(value, bool) or not isinstance(value, (int, float))):
        name = col if ns == "run" else f"{ns}.*"
        raise ValidationError(
            f"{name.removeprefix('r.')} is a number; compare it with a number, got {value!r:.40}"
        )
    if not numeric and not isinstance(value, str):
        raise ValidationError(
            f"{col.removeprefix('r.')} is text; compare it with text, got {value!r:.40}"
        )
    return value


def _compare_value(col: str, ns: str, op: str, value: Any, q: Query) -> str:
    q.terms += 1
    _check_terms(q)
    if value is None:
        return f"{col} IS {'NOT ' if op == '!=' else ''}NULL"
    if ns == "params" and isinstance(value, (int, float)) and not isinstance(value, bool):
        # Params are stored as JSON text: numbers compare numerically, anything else as JSON.
        q.where_args.append(value)
        d = q.dialect
        return f"({d.json_number(col)} AND {d.as_real(col)} {op} ?)"
    typed = _typed(col, ns, value)
    q.where_args.append(typed)
    if ns == "tags" and op == "=" and (key := q.dialect.tag_value_key(col)):
        q.where_args.append(typed)  # the index holds a hash of the value: compare that too
        return f"({col} = ? AND {key} = {q.dialect.tag_value_key('?')})"
    return f"{col} {op} ?"


def _compile(node: ast.expr, q: Query) -> str:
    # Recursive, but over a tree _check_depth has bounded to MAX_FILTER_DEPTH levels.
    if isinstance(node, ast.BoolOp):
        sql_op = " AND " if isinstance(node.op, ast.And) else " OR "
        return "(" + sql_op.join(_compile(v, q) for v in node.values) + ")"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return f"NOT ({_compile(node.operand, q)})"
    if isinstance(node, ast.Compare):
        parts, left = [], node.left
        for op, right in zip(node.ops, node.comparators, strict=False):
            parts.append(_compare_one(left, op, right, q))
            left = right
        return "(" + " AND ".join(parts) + ")"
    raise ValidationError(f"Cannot filter on {_unparse(node)}; {_HELP}")


def _parse(where: str) -> ast.expr:
    prescan(where)
    try:
        tree = ast.parse(where.strip(), mode="eval")
    except SyntaxError as e:
        raise ValidationError(f"Cannot parse filter {where[:80]!r}: {e.msg}; {_HELP}") from None
    except (ValueError, RecursionError, MemoryError):  # a NUL byte; a parser limit
        raise ValidationError(f"Cannot parse filter {where[:80]!r}; {_HELP}") from None
    check_depth(tree)
    return tree.body


def compile_query(
    where: str | None = None,
    order_by: str | list[str] | None = None,
    dialect: Dialect = SQLITE,
) -> Query:
    """Compile a filter and an ordering (``"metrics.acc DESC"`` or ``"-metrics.acc"``)."""
    q = Query(dialect=dialect)
    if where:
        q.where = _compile(_parse(where), q)
    if order_by:
        q.order = ", ".join(_order_term(t, q) for t in _order_terms(order_by))
    return q


def _order_terms(order_by: str | list[str]) -> list[str]:
    if isinstance(order_by, str):
        terms = [t.strip() for t in order_by.split(",") if t.strip()]
    else:
        terms = list(order_by)
    if len(terms) > MAX_ORDER_KEYS:
        raise ValidationError(f"order_by has {len(terms)} keys; the limit is {MAX_ORDER_KEYS}")
    return terms


def _order_term(term: str, q: Query) -> str:
    if not isinstance(term, str) or len(term) > 200:
        raise ValidationError(f"Bad order {str(term)[:40]!r}; write e.g. 'metrics.acc DESC'")
    desc = term.startswith("-")
    words = term.lstrip("-").split()
    if len(words) == 2 and words[1].upper() in ("ASC", "DESC"):
        desc = words[1].upper() == "DESC"
    elif len(words) != 1:
        raise ValidationError(
            f"Bad order {term[:80]!r}; write e.g. 'metrics.acc DESC' or '-started'"
        )
    try:
        tree = ast.parse(words[0], mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ValidationError(f"Bad order field {words[0][:80]!r}; {_HELP}") from None
    check_depth(tree)
    col, ns, key = _field(tree.body, q)
    if col in q.ordered:
        raise ValidationError(f"order_by names {words[0][:80]!r} twice; name each key once")
    q.ordered.append(col)
    if ns != "run":
        q.order_keys.append((ns, key))
    # NULLs last whatever the direction: runs without the metric are the least interesting.
    return f"({col} IS NULL), {col} {'DESC' if desc else 'ASC'}"


def unknown_key_error(namespace: str, key: str, known: list[str], location: str) -> ValidationError:
    """The error for ordering by a metric/param/tag that no run in the store has."""
    import difflib

    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {namespace}.{close[0]}? " if close else ""
    shown = ", ".join(f"{namespace}.{k}" for k in known[:20]) + (" …" if len(known) > 20 else "")
    listing = f"known: {shown}" if known else f"no {namespace} recorded yet"
    return ValidationError(
        f"Cannot order by {namespace}.{key}: no run in {location} has {namespace[:-1]} {key!r}; "
        f"{hint}{listing}"
    )
