"""The team store: the embedded store's schema and SQL on a PostgreSQL server (psycopg 3 and a
connection pool), for ``postgresql://`` and ``postgres://`` store URLs.

Only what is PostgreSQL's own lives here: the pool, the connection adapter that gives the
shared SQL the sqlite3 shape (``?`` placeholders, ``execute`` on the connection), and the
transactions. Writes are serializable transactions, retried when the server aborts one as a
serialization failure or deadlock, so the registry's check-then-write steps (the next
version, one blessed version, a lease) hold across machines; reads are read-only
repeatable-read snapshots. Credentials are libpq's business (the URL, ``PGPASSWORD``,
``~/.pgpass``, a service file): the password is never part of ``location``, a message or a log.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from ..exceptions import (
    MissingDependencyError,
    StoreError,
    StoreNotFoundError,
    StoreUnavailableError,
)
from . import schema
from .artifacts import ArtifactStore
from .dialect import POSTGRES
from .sql import SQLStore
from .writer import existing_writer

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

T = TypeVar("T")

RETRY_SECONDS = 120.0  # how long a write retries serialization failures (as SQLite's lock wait)
RECONNECT_SECONDS = 15.0  # how long a write waits for a server that went away to come back
CONNECT_TIMEOUT = 10  # seconds, per connection attempt
POOL_SIZE = 4  # the caller, the background writer, the heartbeat and one spare
READ_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"

_NETLOC_PASSWORD = re.compile(r"(://[^:/@?#]*:)([^@/?#]*)@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&#]*)", re.IGNORECASE)


def masked(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``: what a store URL shows as."""
    return _QUERY_PASSWORD.sub(r"\1***", _NETLOC_PASSWORD.sub(r"\1***@", url))


def without_password(url: str) -> str:
    """``url`` without its password, for a child process, which finds it as libpq does."""
    url = _NETLOC_PASSWORD.sub(lambda m: m.group(1)[:-1] + "@", url)
    url = _QUERY_PASSWORD.sub("", url)
    return url.replace("?&", "?").rstrip("?")


def _passwords(url: str) -> list[str]:
    found = [m.group(2) for m in _NETLOC_PASSWORD.finditer(url)]
    found += [m.group(2) for m in _QUERY_PASSWORD.finditer(url)]
    found += [os.environ.get("PGPASSWORD", "")]
    return [p for s in found if s for p in {s, unquote(s)}]


@functools.lru_cache(maxsize=2048)
def _statement(sql: str) -> Any:
    return POSTGRES.placeholders(sql)


class PgConnection:
    """A psycopg connection with sqlite3's shape, which the shared SQL code is written for."""

    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        # Always with a parameter tuple, even empty: psycopg then reads %% as a literal %.
        return self.raw.execute(_statement(sql), _text_safe(parameters))

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> psycopg.Cursor[Any]:
        cur = self.raw.cursor()
        cur.executemany(_statement(sql), [_text_safe(p) for p in seq_of_parameters])
        return cur


def _text_safe(parameters: Sequence[Any]) -> tuple[Any, ...]:
    """``parameters`` with NUL characters replaced (U+FFFD): PostgreSQL text cannot hold them,
    and a cell that printed one must not lose its run's end (SQLite keeps them)."""
    if not any(type(p) is str and "\x00" in p for p in parameters):
        return tuple(parameters)
    return tuple(p.replace("\x00", "\ufffd") if type(p) is str else p for p in parameters)


class _ConnectFailed(Exception):
    """A connection attempt failed (whatever the server said: wrong password, no database)."""


def _retryable(e: BaseException) -> bool:
    """A serialization failure or deadlock: the server aborted the transaction, run it again."""
    return getattr(e, "sqlstate", None) in ("40001", "40P01")


def _disconnected(e: BaseException) -> bool:
    """The connection broke (server stopped or restarted, network): another one may work."""
    state = getattr(e, "sqlstate", None)
    return state is None or state.startswith(("08", "57P"))


class PostgresStore(SQLStore):
    def __init__(self, url: str, *, create: bool = True, workdir: Path | None = None) -> None:
        try:  # the [postgres] extra: the embedded store's users do not install it
            import psycopg  # noqa: F401  (imported again where used, once this check passed)
            from psycopg_pool import ConnectionPool
        except ImportError as e:
            package = "psycopg-pool" if e.name == "psycopg_pool" else "psycopg"
            raise MissingDependencyError(package, "A postgresql:// store", "postgres") from e

        # Local files (pipeline locks, executed notebooks, the artifact store until an object
        # store is configured) stay where the embedded store keeps them.
        if workdir is None:
            from ..project import find_project

            workdir = find_project(store=url).store_dir
        super().__init__(masked(url), workdir, POSTGRES)
        self._url = url
        # open_store puts the artifact_store setting's blobs elsewhere when one is set.
        self.artifacts = ArtifactStore(workdir / "artifacts")
        self._local = threading.local()
        self._closed = False
        self._raise_if_unreachable()
        self._pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
            open=True,
            timeout=CONNECT_TIMEOUT,
            name="jupyter-mlops",
        )
        version = self._schema_version()
        if version is None and not create:
            self.close()
            raise StoreNotFoundError(self.location)
        if version != schema.SCHEMA_VERSION:
            try:  # read committed: the tables a process made while this one waited are seen
                self._transaction(self._migrate, "BEGIN")
            except BaseException:
                self.close()
                raise

    @property
    def child_location(self) -> str:
        return without_password(self._url)

    # -- errors ----------------------------------------------------------------------------------
    def _one_line(self, e: BaseException) -> str:
        text = " ".join(str(e).split()) or type(e).__name__
        for secret in _passwords(self._url):
            text = text.replace(secret, "***")
        return text

    def _unavailable(self, e: BaseException) -> StoreUnavailableError:
        what = f"Cannot use the PostgreSQL store {self.location}: {self._one_line(e)}"
        if not _disconnected(e) and not isinstance(e, _ConnectFailed):
            return StoreUnavailableError(f"{what}; see the server's log")  # disk full, …
        return StoreUnavailableError(
            f"{what}; check that the server is up and the database exists, and give "
            "credentials with PGPASSWORD, ~/.pgpass or a service (postgresql:///?service=NAME)"
        )

    def _raise_if_unreachable(self) -> None:
        """Connect once directly: the pool would only say that it timed out, not why."""
        import psycopg

        try:
            psycopg.connect(self._url, connect_timeout=CONNECT_TIMEOUT, autocommit=True).close()
        except psycopg.Error as e:
            # From None: the chained error could name the URL.
            raise self._unavailable(_ConnectFailed(str(e))) from None

    # -- connections and transactions ------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[PgConnection]:
        from psycopg_pool import PoolTimeout

        if self._closed:
            raise StoreError(f"The store {self.location} was closed; open it again")
        try:
            raw = self._pool.getconn()
        except PoolTimeout:
            self._raise_if_unreachable()
            raise StoreUnavailableError(
                f"No connection to the PostgreSQL store {self.location} within "
                f"{CONNECT_TIMEOUT} s; check the server's max_connections and load"
            ) from None
        conn = PgConnection(raw)
        self._local.conn = conn
        try:
            yield conn
        finally:
            self._local.conn = None
            self._pool.putconn(raw)

    def _transaction(self, fn: Callable[[PgConnection], T], begin: str) -> T:
        with self._connection() as conn:
            conn.raw.execute(begin)
            try:
                result = fn(conn)
                conn.raw.execute("COMMIT")
                return result
            except BaseException:
                _rollback(conn)
                raise

    def _write(
        self, fn: Callable[[PgConnection], T], on_busy: Callable[[], None] | None = None
    ) -> T:
        """Run ``fn`` in one serializable transaction; retried (from the start) when the server
        aborts it for a concurrent one, or while a lost server comes back."""
        import psycopg

        held = getattr(self._local, "conn", None)
        if held is not None and getattr(self._local, "writing", False):
            return fn(held)  # nested in this thread's write transaction
        now = time.monotonic()
        busy_deadline, gone_deadline = now + RETRY_SECONDS, now + RECONNECT_SECONDS
        delay = 0.005
        while True:
            try:
                self._local.writing = True
                try:
                    return self._transaction(fn, self.dialect.begin_write)
                finally:
                    self._local.writing = False
            except psycopg.errors.ProgramLimitExceeded:
                raise  # a value the server cannot take (not the store's state): the caller's
            except psycopg.OperationalError as e:
                if _retryable(e) and time.monotonic() < busy_deadline:
                    if on_busy is not None:
                        on_busy()
                elif _disconnected(e) and time.monotonic() < gone_deadline:
                    self._wait_for_server(gone_deadline)
                else:
                    raise self._unavailable(e) from None
                delay = _backoff(delay)
            except StoreUnavailableError:  # no connection: the server may be restarting
                if time.monotonic() >= gone_deadline:
                    raise
                self._wait_for_server(gone_deadline)

    def _wait_for_server(self, deadline: float) -> None:
        """Until ``deadline``, until the server takes connections again (probed directly: the
        pool would make each attempt wait out its own timeout); then the last error."""
        delay = 0.05
        while True:
            try:
                self._raise_if_unreachable()
                return
            except StoreUnavailableError:
                if time.monotonic() >= deadline:
                    raise
            delay = _backoff(delay, 0.5)

    @contextmanager
    def _read(self) -> Iterator[PgConnection]:
        """A read-only snapshot: the queries inside see one state of the database."""
        import psycopg

        held = getattr(self._local, "conn", None)
        if held is not None:  # nested: the outer transaction already holds the snapshot
            yield held
            return
        for attempt in (0, 1):  # a pooled connection may have died with a server restart
            with self._connection() as conn:
                try:
                    conn.raw.execute(READ_BEGIN)
                except psycopg.OperationalError as e:
                    if attempt == 0 and _disconnected(e):
                        self._raise_if_unreachable()  # at once, not after the pool's timeout
                        continue
                    raise self._unavailable(e) from None
                try:
                    yield conn
                except psycopg.OperationalError as e:
                    _rollback(conn)
                    raise self._unavailable(e) from None
                except psycopg.Error as e:
                    _rollback(conn)
                    raise StoreError(
                        f"Cannot read the run store {self.location}: {self._one_line(e)}"
                    ) from e
                except BaseException:
                    _rollback(conn)
                    raise
                conn.raw.execute("COMMIT")
                return

    def release_thread(self) -> None:
        """Nothing to release: a connection goes back to the pool when its transaction ends."""

    def close(self) -> None:
        """Write what is still queued (bounded wait), stop the writer, close the pool."""
        writer = existing_writer(self)
        if writer is not None:
            writer.wait(timeout=writer.exit_timeout)
            writer.stop(timeout=writer.exit_timeout)
        self._closed = True
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()


def _rollback(conn: PgConnection) -> None:
    import psycopg
    from psycopg.pq import TransactionStatus

    if conn.raw.closed or conn.raw.broken:
        return
    if conn.raw.info.transaction_status != TransactionStatus.IDLE:
        with contextlib.suppress(psycopg.Error):
            conn.raw.execute("ROLLBACK")


def _backoff(delay: float, cap: float = 0.2) -> float:
    time.sleep(delay * (0.5 + random.random()))
    return min(delay * 2, cap)


__all__ = ["PostgresStore", "masked", "without_password"]
