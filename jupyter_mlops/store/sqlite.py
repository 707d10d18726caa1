"""The embedded store: ``<dir>/mlops.db`` (SQLite in WAL mode) and ``<dir>/artifacts/``.

Only what is SQLite's own lives here: connections (one per thread, so the heartbeat thread and
the caller never share a cursor), WAL, and the write path. Writers take the write lock up front
(``BEGIN IMMEDIATE``) and retry on ``database is locked`` with backoff, so eight processes
recording at once queue up instead of failing. Everything else is ``sql.py``'s.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from ..exceptions import StoreError, StoreNotFoundError, StoreUnavailableError
from . import schema
from .artifacts import LocalArtifactStore
from .dialect import SQLITE
from .sql import SQLStore
from .writer import existing_writer

T = TypeVar("T")

DB_NAME = "mlops.db"
# The oldest SQLite whose SQL the store uses: UPSERT (``ON CONFLICT ... DO UPDATE ... WHERE``,
# 3.24.0) and the JSON functions (``json_type``, built in by default since 3.38.0, earlier an
# option most builds, Python's included, turn on; checked separately at open).
MIN_SQLITE_VERSION = (3, 24, 0)
LOCK_RETRY_SECONDS = 120.0
BUSY_TIMEOUT_MS = 30000
BUSY_POLL_MS = 10


def check_sqlite_version(version: str = sqlite3.sqlite_version) -> None:
    """Refuse a SQLite library older than :data:`MIN_SQLITE_VERSION` or without JSON support,
    in one line, rather than fail on the first query that needs what it lacks."""
    have = tuple(int(p) for p in version.split(".")[:3] if p.isdigit())
    need = ".".join(map(str, MIN_SQLITE_VERSION))
    if have < MIN_SQLITE_VERSION:
        raise StoreUnavailableError(
            f"The store needs SQLite {need} or newer; Python links SQLite {version}: use a "
            "Python built with a newer SQLite, or a PostgreSQL store"
        )
    try:
        with contextlib.closing(sqlite3.connect(":memory:")) as conn:
            conn.execute("SELECT json_type('1')")
    except sqlite3.OperationalError:
        raise StoreUnavailableError(
            f"The store needs SQLite's JSON functions; Python links SQLite {version} built "
            "without them: use a Python built with a newer SQLite, or a PostgreSQL store"
        ) from None


class SQLiteStore(SQLStore):
    # A commit is local and short (WAL, synchronous=NORMAL): the writer may make one the caller
    # waits for on the caller's own thread (StoreWriter.write_here).
    local_writes = True

    def __init__(self, directory: str | os.PathLike[str], *, create: bool = True) -> None:
        self.directory = Path(directory)
        self.db_path = self.directory / DB_NAME
        super().__init__(str(self.db_path), self.directory, SQLITE)
        check_sqlite_version()
        if not create and not self.db_path.is_file():
            raise StoreNotFoundError(str(self.directory), os.getcwd())
        self.artifacts = LocalArtifactStore(self.directory / "artifacts")
        self._local = threading.local()
        # Every thread's connection, so that those of ended threads (a server's worker pool,
        # a finished heartbeat) can be closed: see release_thread().
        self._conns: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreUnavailableError(
                f"Cannot create the store directory {self.directory}: {e.strerror or e}; "
                "set JUPYTER_MLOPS_STORE to a writable directory"
            ) from e
        if self._schema_version() != schema.SCHEMA_VERSION:
            self._write(self._migrate)

    # -- connections and transactions -------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"The store {self.db_path} was closed; open it again")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.db_path, timeout=30, isolation_level=None, check_same_thread=False
                )
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                # NORMAL in WAL mode is durable against application crashes (kill -9); only an
                # OS crash can lose the last commits, which keeps a commit well under a millisecond.
                conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as e:
                raise self._unavailable(e) from e
            self._local.conn = conn
            self._local.busy_ms = BUSY_TIMEOUT_MS
            with self._conns_lock:
                self._close_orphans()
                self._conns.append((threading.current_thread(), conn))
        return conn

    def _close_orphans(self) -> None:
        """Close the connections of threads that have ended (the caller holds _conns_lock)."""
        kept = []
        for thread, conn in self._conns:
            if thread.is_alive():
                kept.append((thread, conn))
            else:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
        self._conns = kept

    def _set_busy_timeout(self, conn: sqlite3.Connection, ms: int) -> None:
        if self._local.busy_ms != ms:
            conn.execute(f"PRAGMA busy_timeout = {ms}")
            self._local.busy_ms = ms

    def _unavailable(self, e: Exception) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"Cannot write the run store {self.db_path}: {e}; check that the directory is "
            "writable and the disk has space, or set JUPYTER_MLOPS_STORE to another directory"
        )

    def _write(
        self, fn: Callable[[sqlite3.Connection], T], on_busy: Callable[[], None] | None = None
    ) -> T:
        """Run ``fn`` in one write transaction, retrying while another process holds the lock.

        With ``on_busy`` (the background writer), SQLite gives up on a held lock after a few
        milliseconds and ``on_busy`` is called before each retry, so the writer's waiters learn
        at once that the store is contended instead of after the 30 s busy timeout."""
        deadline = time.monotonic() + LOCK_RETRY_SECONDS
        delay, max_delay = 0.005, (0.1 if on_busy else 0.5)
        while True:
            conn = self._conn()
            self._set_busy_timeout(conn, BUSY_POLL_MS if on_busy else BUSY_TIMEOUT_MS)
            try:
                conn.execute(self.dialect.begin_write)
                try:
                    result = fn(conn)
                    conn.execute("COMMIT")
                    return result
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as e:
                msg = str(e).lower()
                if ("locked" in msg or "busy" in msg) and time.monotonic() < deadline:
                    if on_busy is not None:
                        on_busy()
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, max_delay)
                    continue
                raise self._unavailable(e) from e
            except sqlite3.DatabaseError as e:
                raise self._unavailable(e) from e

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: the queries inside see one snapshot (WAL), so a run committed
        by another process between two of them cannot appear half-listed."""
        conn = self._conn()
        if conn.in_transaction:  # nested: the outer read already holds the snapshot
            yield conn
            return
        # A write made on this thread for the background writer polled the lock briefly.
        self._set_busy_timeout(conn, BUSY_TIMEOUT_MS)
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            raise StoreError(f"Cannot read the run store {self.db_path}: {e}") from e

    def release_thread(self) -> None:
        # sqlite3 connections sit in a reference cycle with their statement cache, so one left
        # to a finished thread stays open (three descriptors) until the cycle collector runs.
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            self._local.conn = None
            with self._conns_lock:
                self._conns = [(t, c) for t, c in self._conns if c is not conn]

    def release_ended_threads(self) -> None:
        with self._conns_lock:
            self._close_orphans()

    def close(self) -> None:
        """Write what is still queued for this store (bounded wait), stop its writer thread
        (which closes its own connection), then close this thread's connection and those of
        threads that have ended. Live threads' connections are left to them (closing a
        connection another thread may be using can crash the sqlite3 module)."""
        writer = existing_writer(self)
        if writer is not None:
            writer.wait(timeout=writer.exit_timeout)
            writer.stop(timeout=writer.exit_timeout)
        self._closed = True
        self.release_thread()
        self.release_ended_threads()
