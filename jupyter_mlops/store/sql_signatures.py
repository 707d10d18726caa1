"""A model version's input contract (its signature, as JSON) and the policy for input that
breaks it, as a mixin of ``SQLStore`` (table ``model_signatures``, schema 13).

The store keeps text: what a signature means is :mod:`jupyter_mlops.validation.contract`'s.
A policy change is a model event (``contract``), so a server following the events reloads it.
"""

from __future__ import annotations

import time

from .dialect import Connection
from .sql_common import SQLTables
from .sql_model_meta import record_event


class SignatureTables(SQLTables):
    """``model_signatures``: one row per version that has a recorded contract or policy."""

    def set_model_signature(
        self,
        name: str,
        version: int,
        sig_json: str,
        policy: str,
        actor: str | None = None,
        *,
        event: bool = False,
    ) -> None:
        """Record (or replace) the signature and policy of ``name@version``; ``event`` also
        records a ``contract`` model event naming the policy, in the same transaction."""
        upsert = self.dialect.upsert(
            "model_signatures", ("name", "version", "signature", "policy"), ("name", "version")
        )

        def write(c: Connection) -> None:
            c.execute(upsert, (name, version, sig_json, policy))
            if event:
                record_event(c, name, version, "contract", actor, f"policy {policy}", time.time())

        self._write(write)

    def model_signature(self, name: str, version: int) -> tuple[str, str] | None:
        """(signature JSON, policy) of ``name@version``, or None when none is recorded."""
        with self._read() as c:
            row = c.execute(
                "SELECT signature, policy FROM model_signatures WHERE name = ? AND version = ?",
                (name, version),
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))
