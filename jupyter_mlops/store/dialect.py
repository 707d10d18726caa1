"""What differs between SQL backends, and only that: column types, placeholders, upserts, JSON
functions, ordered row ids and locking.

``store/sql.py`` writes every statement once, in the SQL both SQLite and PostgreSQL accept, and
asks the dialect for the rest. Statements use ``?`` placeholders; a backend whose driver wants
another style (psycopg's ``%s``) rewrites them with :meth:`Dialect.placeholders` in its
connection adapter, so the store's SQL reads the same for every backend.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Protocol


class Cursor(Protocol):
    """The part of a DB-API cursor the SQL store uses."""

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A DB-API connection with ``execute`` shortcuts, as sqlite3's (or an adapter's)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Cursor: ...


class Dialect:
    """The SQL a backend spells its own way. Subclasses set the attributes and override
    the methods whose standard form their database does not accept."""

    name: str
    # Filled into the schema's ``{real}``, ``{bigint}``, ``{serial_pk}`` (an integer key that
    # numbers rows in insertion order) and ``{row_order}`` (the physical insertion order of a
    # table without such a key, read once by the migration that gives it one).
    types: ClassVar[dict[str, str]]
    placeholder = "?"
    # Opens a write transaction. SQLite takes the database's write lock up front; a server
    # database locks the rows it reads with :meth:`for_update` instead.
    begin_write = "BEGIN"
    # A join whose left table must drive the loop (a top-N walk of an index); plain JOIN where
    # the planner already does that.
    ordered_join = "JOIN"

    def placeholders(self, sql: str) -> str:
        """``sql`` with this driver's placeholders (statements are written with ``?``)."""
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def table_exists(self) -> str:
        """A query with one parameter, the table name, returning a row when it exists."""
        return "SELECT 1 FROM information_schema.tables WHERE table_name = ?"

    def upsert(
        self,
        table: str,
        columns: Sequence[str],
        key: Sequence[str],
        update: Sequence[str] | None = None,
        where: str | None = None,
    ) -> str:
        """INSERT that overwrites ``update`` (default: every non-key column) of an existing
        row with the same ``key``, when ``where`` (over ``excluded.*``) holds."""
        update = [c for c in columns if c not in key] if update is None else update
        sets = ", ".join(f"{c} = excluded.{c}" for c in update)
        return (
            f"{self._insert(table, columns)} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"
            + (f" WHERE {where}" if where else "")
        )

    def insert_ignore(self, table: str, columns: Sequence[str]) -> str:
        """INSERT that leaves an existing row with the same key alone."""
        return f"{self._insert(table, columns)} ON CONFLICT DO NOTHING"

    def _insert(self, table: str, columns: Sequence[str]) -> str:
        marks = ", ".join("?" * len(columns))
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"

    def json_number(self, expr: str) -> str:
        """A condition true when the JSON text ``expr`` is a number."""
        return f"jsonb_typeof(CAST({expr} AS jsonb)) = 'number'"

    def as_real(self, expr: str) -> str:
        return f"CAST({expr} AS {self.types['real']})"

    def string_agg(self, expr: str, sep: str, order: str) -> str:
        """Concatenate ``expr`` over a group, separated by ``sep`` (a literal), in ``order``."""
        return f"string_agg({expr}, '{sep}' ORDER BY {order})"

    def for_update(self, select: str) -> str:
        """``select`` locking the rows it reads until the write transaction ends."""
        return f"{select} FOR UPDATE"


class SQLiteDialect(Dialect):
    name = "sqlite"
    types: ClassVar[dict[str, str]] = {
        "real": "REAL",
        "bigint": "INTEGER",
        "serial_pk": "INTEGER PRIMARY KEY",  # the rowid itself: numbered in insertion order
        "row_order": "rowid",
    }
    begin_write = "BEGIN IMMEDIATE"  # the whole database's write lock, so no row locks needed
    ordered_join = "CROSS JOIN"  # SQLite's documented way to fix the join order

    def table_exists(self) -> str:
        return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"

    def json_number(self, expr: str) -> str:
        return f"json_type({expr}) IN ('integer', 'real')"

    def string_agg(self, expr: str, sep: str, order: str) -> str:
        # SQLite before 3.44 has no ORDER BY inside an aggregate: callers aggregate over a
        # subquery already sorted by ``order``, whose order group_concat keeps.
        return f"group_concat({expr}, '{sep}')"

    def for_update(self, select: str) -> str:
        return select  # BEGIN IMMEDIATE already holds the database's only write lock


SQLITE = SQLiteDialect()

__all__ = ["SQLITE", "Connection", "Cursor", "Dialect", "SQLiteDialect"]
