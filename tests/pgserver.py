"""A throwaway PostgreSQL cluster for tests and benchmarks: Debian's server binaries, a data
directory and unix socket under a temp dir, a free TCP port on 127.0.0.1.

Local connections are trusted (the tests connect as ``postgres``), except for one role,
``PASSWORD_USER``, that must give ``PASSWORD`` over TCP: the credential tests use it.
initdb refuses to run as root, so as root the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.processes import free_port

PASSWORD_USER = "mlops_pw"
PASSWORD = "s3cr3t-Pa55"


def server_bindir() -> Path | None:
    """The newest installed PostgreSQL server's bin directory, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


class PGServer:
    """A running cluster; :meth:`stop` removes it. ``stop_now``/``start`` simulate a crash."""

    def __init__(self, root: str | None = None) -> None:
        bindir = server_bindir()
        if bindir is None:
            raise FileNotFoundError("no PostgreSQL server: apt-get install postgresql")
        self.bindir = bindir
        self.tmp = Path(tempfile.mkdtemp(prefix="mlops-pg-", dir=root))
        self.data = self.tmp / "data"
        self.port = free_port()
        self._run_as: dict[str, Any] = {}
        if os.geteuid() == 0:
            shutil.chown(self.tmp, "postgres", "postgres")
            self._run_as = {"user": "postgres", "group": "postgres"}
        self._names = itertools.count()
        self._pg(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-locale",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        (self.data / "pg_hba.conf").write_text(
            f"local all {PASSWORD_USER} scram-sha-256\n"
            f"host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n"
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n"
        )
        self.start()
        self.sql(f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}' CREATEDB")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, tool: str, *args: str) -> str:
        out = subprocess.run(
            [str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            cwd=self.tmp,
            timeout=120,
            **self._run_as,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{tool} failed: {out.stderr.strip() or out.stdout.strip()}")
        return out.stdout

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off -c max_connections=300"
        )
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.tmp / "log"), "-w", "-o", opts,
                 "start")  # fmt: skip

    def stop_now(self) -> None:
        """Stop the server the way a crash would (immediate: no checkpoint, clients cut off)."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def sql(self, statement: str, database: str = "postgres") -> None:
        import psycopg

        url = f"postgresql://postgres@127.0.0.1:{self.port}/{database}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def create_database(self, name: str | None = None, owner: str = "postgres") -> str:
        """A new empty database (from template0, so nothing a test left in template1 leaks)."""
        name = name or f"t{os.getpid()}_{next(self._names)}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE template0 OWNER {owner}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def start_server() -> PGServer:
    return PGServer()
