"""What the SQL store's parts share: the statements a dialect spells, and the transactions a
backend supplies. :class:`SQLTables` is the base of ``SQLStore`` (runs, in ``sql.py``) and of
the table mixins ``RegistryTables`` (``sql_registry.py``) and ``ScheduleTables``
(``sql_schedule.py``); a backend subclass of ``SQLStore`` implements ``_write`` and ``_read``.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from ..entities import to_jsonable
from . import rows
from .dialect import Connection, Dialect
from .query import run_models

T = TypeVar("T")


def _json(value: Any) -> str:
    return json.dumps(to_jsonable(value, fallback=str))


class Statements:
    """The statements whose spelling depends on the dialect, built once per store."""

    # size: a flat table, one statement per attribute; split, it would be read in two places.
    def __init__(self, d: Dialect) -> None:
        self.experiment = d.insert_ignore("experiments", ("name", "created"))
        self.param = d.upsert("params", ("run_id", "key", "value"), ("run_id", "key"))
        self.tag = d.upsert("tags", ("run_id", "key", "value"), ("run_id", "key"))
        self.journal_mark = d.upsert("journal_marks", ("journal", "position"), ("journal",))
        metric = ("run_id", "key", "step", "value", "time")
        # The WHERE keeps an older step from winning (rows.LATEST_METRIC_ORDER).
        self.latest = d.upsert(
            "latest_metrics", metric, ("run_id", "key"), where=rows.LATEST_METRIC_WHERE
        )
        self.data = d.upsert(
            "data",
            (
                "run_id",
                "role",
                "name",
                "kind",
                "hash",
                "shape",
                "schema",
                "parts",
                "nbytes",
                "path",
            ),
            ("run_id", "role", "name"),
        )
        self.artifact = d.upsert(
            "artifacts", ("run_id", "name", "kind", "sha256", "size", "uri"), ("run_id", "name")
        )
        self.code = d.insert_ignore("code", ("sha", "text"))
        self.environment = d.insert_ignore("environments", ("id", "python", "platform", "packages"))
        self.pipeline = d.upsert(
            "pipelines",
            ("name", "spec", "notebook", "notebook_hash", "schedule", "updated"),
            ("name",),
        )
        self.schedule_state = d.upsert(
            "schedule_state", ("pipeline", "last_fire", "updated"), ("pipeline",)
        )
        # A lease is taken when new, expired at the taker's ``now`` (excluded.acquired) or
        # already the taker's; otherwise the row is left alone and the read-back says who has it.
        self.take_lease = d.upsert(
            "leases",
            ("name", "holder", "acquired", "expires"),
            ("name",),
            where="leases.expires <= excluded.acquired OR leases.holder = excluded.holder",
        )
        self.blessed = d.for_update(
            "SELECT version FROM model_versions WHERE name = ? AND stage = 'blessed'"
            " AND version != ?"
        )
        self.last_version = d.for_update(
            "SELECT version FROM model_versions WHERE name = ? ORDER BY version DESC LIMIT 1"
        )
        self.run_models = run_models(d)
        self.pin = d.upsert(
            "model_pins",
            ("name", "version", "origin", "actor", "reason", "since", "until"),
            ("name",),
        )
        # Read in the bless transaction: a pin committed by another host first is seen (SQLite:
        # the write lock; PostgreSQL: serializable), so a pin and a bless never race.
        self.pinned = d.for_update(
            "SELECT name, version, origin, actor, reason, since, until FROM model_pins"
            " WHERE name = ?"
        )


class SQLTables(abc.ABC):
    """The dialect, its statements, and the transactions every table's methods run in."""

    dialect: Dialect
    _sql: Statements

    @abc.abstractmethod
    def _write(self, fn: Callable[[Connection], T], on_busy: Callable[[], None] | None = None) -> T:
        """Run ``fn`` in one write transaction (``dialect.begin_write``) and commit it."""

    @abc.abstractmethod
    def _read(self) -> AbstractContextManager[Connection]:
        """A read transaction: the queries inside see one snapshot."""
