"""Translate run filters into SQL.

Filters are Python expressions over run fields, so users write what they already know::

    metrics.accuracy > 0.9 and params.C <= 1 and status == "finished"
    params.solver in ["lbfgs", "saga"] or tags["team"] == "vision"

They are parsed with :mod:`ast` (never evaluated) and compiled to one parameterised SQL condition
with a join per referenced metric/param/tag, so filtering and top-N ordering happen in the database.
"""

from __future__ import annotations

import ast
import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ValidationError
from .dialect import SQLITE, Dialect
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


_HELP = (
    "write e.g. metrics.accuracy > 0.9 and params.C == 0.5 "
    f"(fields: metrics.*, params.*, tags.*, {', '.join(FILTER_COLUMNS)})"
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
    _aliases: dict[tuple[str, str], str] = field(default_factory=dict)

    def alias(self, namespace: str, key: str) -> str:
        """The alias of the LEFT JOIN that brings in ``namespace.key`` (made once per key)."""
        if (namespace, key) not in self._aliases:
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
        raise ValidationError(f"Unknown field {ast.unparse(node)!r} in filter; {_HELP}")
    return f"{q.alias(ns, key)}.value", ns, key


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError as e:
        raise ValidationError(
            f"Expected a literal value in filter, got {ast.unparse(node)!r}; {_HELP}"
        ) from e


def _compare_one(left: ast.expr, op: ast.cmpop, right: ast.expr, q: Query) -> str:
    col, ns, _ = _field(left, q)
    value = _literal(right)
    if isinstance(op, (ast.In, ast.NotIn)):
        if not isinstance(value, (list, tuple, set)) or not value:
            raise ValidationError(f"'in' needs a non-empty list, got {ast.unparse(right)}")
        parts = [_compare_value(col, ns, "=", v, q) for v in value]
        joined = " OR ".join(parts)
        return f"NOT ({joined})" if isinstance(op, ast.NotIn) else f"({joined})"
    if isinstance(op, (ast.Is, ast.IsNot)) and value is None:
        return f"{col} IS {'NOT ' if isinstance(op, ast.IsNot) else ''}NULL"
    if type(op) not in _OPS:
        raise ValidationError(f"Unsupported operator in filter {ast.unparse(op)!r}; {_HELP}")
    return _compare_value(col, ns, _OPS[type(op)], value, q)


def _compare_value(col: str, ns: str, op: str, value: Any, q: Query) -> str:
    if value is None:
        return f"{col} IS {'NOT ' if op == '!=' else ''}NULL"
    if ns == "params":
        # Params are stored as JSON text: numbers compare numerically, anything else as JSON.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            q.where_args.append(value)
            d = q.dialect
            return f"({d.json_number(col)} AND {d.as_real(col)} {op} ?)"
        value = json.dumps(value)
    if ns == "tags" and not isinstance(value, str):
        value = str(value)
    if ns == "run" and col in ("r.started", "r.ended") and isinstance(value, str):
        import datetime as dt

        try:
            value = dt.datetime.fromisoformat(value).timestamp()
        except ValueError as e:
            raise ValidationError(f"Bad time {value!r} in filter; use ISO format") from e
    q.where_args.append(value)
    if ns == "tags" and op == "=" and (key := q.dialect.tag_value_key(col)):
        q.where_args.append(value)  # the index holds a hash of the value: compare that too
        return f"({col} = ? AND {key} = {q.dialect.tag_value_key('?')})"
    return f"{col} {op} ?"


def _compile(node: ast.expr, q: Query) -> str:
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
    raise ValidationError(f"Cannot filter on {ast.unparse(node)!r}; {_HELP}")


def compile_query(
    where: str | None = None,
    order_by: str | list[str] | None = None,
    dialect: Dialect = SQLITE,
) -> Query:
    """Compile a filter and an ordering (``"metrics.acc DESC"`` or ``"-metrics.acc"``)."""
    q = Query(dialect=dialect)
    if where:
        try:
            tree = ast.parse(where.strip(), mode="eval")
        except SyntaxError as e:
            raise ValidationError(f"Cannot parse filter {where!r}: {e.msg}; {_HELP}") from e
        q.where = _compile(tree.body, q)
    if order_by:
        q.order = ", ".join(_order_term(t, q) for t in _order_terms(order_by))
    return q


def _order_terms(order_by: str | list[str]) -> list[str]:
    if isinstance(order_by, str):
        return [t.strip() for t in order_by.split(",") if t.strip()]
    return list(order_by)


def _order_term(term: str, q: Query) -> str:
    desc = term.startswith("-")
    words = term.lstrip("-").split()
    if len(words) == 2 and words[1].upper() in ("ASC", "DESC"):
        desc = words[1].upper() == "DESC"
    elif len(words) != 1:
        raise ValidationError(f"Bad order {term!r}; write e.g. 'metrics.acc DESC' or '-started'")
    try:
        node = ast.parse(words[0], mode="eval").body
    except SyntaxError as e:
        raise ValidationError(f"Bad order field {words[0]!r}; {_HELP}") from e
    col, ns, key = _field(node, q)
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


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque page cursor for ``position`` (see ``decode_cursor``)."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, tag: str) -> dict[str, Any]:
    """The position a cursor of this query stands for; a cursor of another query is refused
    (the page it points into would be a different list)."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ok = isinstance(position, dict) and position.get("q") == tag
    except (ValueError, binascii.Error):
        ok = False
    if not ok:
        raise ValidationError(
            f"Bad page cursor {cursor[:40]!r}: it does not come from this listing (same "
            "experiment, filter and order); ask for the first page again without a cursor"
        )
    return dict(position)
