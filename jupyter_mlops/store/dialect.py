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
    # table without such a key, read once by the migration that gives it one) and
    # ``{tag_value_key}`` (what the tags index holds of a tag's value: see tag_value_key).
    types: ClassVar[dict[str, str]]
    placeholder = "?"
    # Opens a write transaction. SQLite takes the database's write lock up front; a server
    # database locks the rows it reads with :meth:`for_update` instead.
    begin_write = "BEGIN"
    # A join whose left table must drive the loop (a top-N walk of an index); plain JOIN where
    # the planner already does that.
    ordered_join = "JOIN"
    # A LIKE that ignores case (SQLite's LIKE does, for ASCII; the standard one does not).
    ilike = "ILIKE"

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

    def in_list(self, column: str) -> str | None:
        """A condition true when ``column`` is in the list bound to its one parameter, or None
        when the driver binds no lists (then a temporary table holds them)."""
        return None

    def reset_identity(self, table: str, column: str) -> str | None:
        """A statement that moves the numbering of ``table.column`` (a ``{serial_pk}``) past
        its largest value, after rows were copied in with explicit ids; None when the
        database numbers from the largest value anyway."""
        return None

    def migration_lock(self) -> str | None:
        """A statement that makes concurrent schema migrations wait for each other, run
        first in the migrating transaction; None when the write transaction already does."""
        return None

    def tag_value_key(self, expr: str) -> str | None:
        """What the ``tags (key, …)`` index holds of the tag value ``expr``, when that is not
        the value itself (then an equality test must also compare this, to use the index)."""
        return None


class SQLiteDialect(Dialect):
    name = "sqlite"
    types: ClassVar[dict[str, str]] = {
        "real": "REAL",
        "bigint": "INTEGER",
        "serial_pk": "INTEGER PRIMARY KEY",  # the rowid itself: numbered in insertion order
        "row_order": "rowid",
        "tag_value_key": "value",  # SQLite's index entries have no size limit
    }
    begin_write = "BEGIN IMMEDIATE"  # the whole database's write lock, so no row locks needed
    ordered_join = "CROSS JOIN"  # SQLite's documented way to fix the join order
    ilike = "LIKE"

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


class PostgresDialect(Dialect):
    name = "postgresql"
    types: ClassVar[dict[str, str]] = {
        "real": "DOUBLE PRECISION",
        "bigint": "BIGINT",
        # BY DEFAULT, not ALWAYS: a migration from another store copies the ids it has.
        "serial_pk": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        # A heap's physical order: insertion order for a log that is only ever appended to.
        "row_order": "ctid",
        # A btree entry holds at most ~2.7 kB: a long tag value that does not compress would
        # be refused by an index on the value itself, so the index holds its md5.
        "tag_value_key": "md5(value)",
    }
    placeholder = "%s"
    # Serializable, so that every check-then-write (the next model version, "archive the
    # blessed one, bless this one", a lease) holds against a concurrent one; the store retries
    # a transaction the server aborts as a serialization failure.
    begin_write = "BEGIN ISOLATION LEVEL SERIALIZABLE"

    def placeholders(self, sql: str) -> str:
        # psycopg reads % as the start of a placeholder: a literal one must be doubled.
        return sql.replace("%", "%%").replace("?", "%s")

    def table_exists(self) -> str:
        return "SELECT 1 WHERE to_regclass(?) IS NOT NULL"

    def as_real(self, expr: str) -> str:
        # PostgreSQL may evaluate both sides of an AND, so a cast of a JSON string must not
        # fail when the json_number test beside it is false.
        return f"(CASE WHEN {self.json_number(expr)} THEN CAST({expr} AS DOUBLE PRECISION) END)"

    def in_list(self, column: str) -> str | None:
        return f"{column} = ANY(?)"  # psycopg binds a Python list as an array

    def reset_identity(self, table: str, column: str) -> str | None:
        return (
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
            f" COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        )

    def migration_lock(self) -> str | None:
        # One transaction-scoped advisory lock for every jupyter-mlops schema change in this
        # database (the key is arbitrary but fixed): processes opening a new database at once
        # create the tables one after the other, the later ones finding them made.
        return "SELECT pg_advisory_xact_lock(7316350418)"

    def tag_value_key(self, expr: str) -> str | None:
        return f"md5({expr})"


SQLITE = SQLiteDialect()
POSTGRES = PostgresDialect()

__all__ = [
    "POSTGRES",
    "SQLITE",
    "Connection",
    "Cursor",
    "Dialect",
    "PostgresDialect",
    "SQLiteDialect",
]
