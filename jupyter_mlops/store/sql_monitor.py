"""Production monitoring's tables (prediction batches, predictions by row id, delayed labels
and monitor events) as a mixin of ``SQLStore`` over the same dialect and
transactions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .base import MonitorBatch, MonitorEvent
from .dialect import Connection
from .monitor_store import settle
from .sql_common import SQLTables, _json


class MonitorTables(SQLTables):
    """Batches scored by ``mlops.predict``, their labels, and what monitors did."""

    location: str  # the store's (``RunStore.location``)

    # -- production monitoring -------------------------------------------------------------------
    def record_batch(
        self, batches: Sequence[MonitorBatch], predictions: Sequence[tuple[Any, ...]]
    ) -> None:
        found = [
            (
                b.batch_id,
                b.name,
                b.version,
                b.role,
                b.time,
                b.n_rows,
                b.latency,
                _profile_json(b.profile),
                _profile_json(b.predictions),
                b.rows_uri,
            )
            for b in batches
        ]
        upsert = self.dialect.upsert(
            "monitor_predictions",
            ("name", "version", "row_id", "batch_id", "prediction", "slice", "time"),
            ("name", "version", "row_id"),
        )

        def write(c: Connection) -> None:
            c.executemany(
                "INSERT INTO monitor_batches (batch_id, name, version, role, time, n_rows,"
                " latency, profile, predictions, rows_uri) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                found,
            )
            if predictions:
                c.executemany(upsert, predictions)

        self._write(write)

    def log_labels(self, name: str, labels: Sequence[tuple[str, str]], now: float) -> list[str]:
        self._settle()  # the ids scored just before are then known
        upsert = self.dialect.upsert(
            "monitor_labels", ("name", "row_id", "label", "time"), ("name", "row_id")
        )
        found = [(name, rid, label, now) for rid, label in labels]
        self._write(lambda c: c.executemany(upsert, found))
        scored = self._scored_ids(name, list(dict.fromkeys(rid for rid, _ in labels)))
        return [rid for rid, _ in labels if rid not in scored]

    def _scored_ids(self, name: str, ids: list[str]) -> set[str]:
        """Which of ``ids`` a version of ``name`` scored: looked up per version and in chunks,
        so each query walks the (name, version, row_id) key instead of all of name's rows."""
        chunk = 500  # well under SQLite's and PostgreSQL's limits on bound parameters
        out: set[str] = set()
        with self._read() as c:
            versions = [
                r[0]
                for r in c.execute(
                    "SELECT DISTINCT version FROM monitor_batches WHERE name = ?", (name,)
                ).fetchall()
            ]
            for version in versions:
                for i in range(0, len(ids), chunk):
                    part = ids[i : i + chunk]
                    marks = ", ".join("?" * len(part))
                    sql = (
                        "SELECT row_id FROM monitor_predictions WHERE name = ? AND version = ?"
                        f" AND row_id IN ({marks})"
                    )
                    out.update(r[0] for r in c.execute(sql, (name, version, *part)).fetchall())
        return out

    def monitor_batches(
        self,
        name: str,
        since: float | None = None,
        until: float | None = None,
        *,
        version: int | None = None,
        role: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[MonitorBatch]:
        self._settle()
        sql = (
            "SELECT batch_id, name, version, role, time, n_rows, latency, profile, predictions,"
            " rows_uri FROM monitor_batches WHERE name = ?"
        )
        where = _bounds("time", since, until) + _equal(version=version, role=role)
        found = self._query(sql, [name], where, "time, id", limit, newest_first)
        return [
            MonitorBatch(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                None if r[7] is None else json.loads(r[7]),
                None if r[8] is None else json.loads(r[8]),
                r[9],
            )
            for r in found
        ]

    def labelled_predictions(
        self,
        name: str,
        since: float | None = None,
        *,
        version: int | None = None,
        batch_id: str | None = None,
        labelled_since: float | None = None,
        labelled_until: float | None = None,
    ) -> list[tuple[int, str, float, str, str, str | None, float]]:
        self._settle()
        # Driven from the labels when their time is bounded (index on (name, time)), each
        # joined to its prediction by key: a window reads its own rows, not the whole history.
        sql = (
            "SELECT p.version, p.batch_id, p.time, p.prediction, l.label, p.slice, l.time"
            " FROM monitor_labels l JOIN monitor_predictions p"
            " ON p.name = l.name AND p.row_id = l.row_id WHERE l.name = ?"
        )
        where = _bounds("p.time", since, None) + _bounds("l.time", labelled_since, labelled_until)
        where += _equal(**{"p.version": version, "p.batch_id": batch_id})
        found = self._query(sql, [name], where, "p.time, p.row_id")
        return [tuple(r) for r in found]

    def monitor_labels(self, name: str) -> dict[str, str]:
        self._settle()
        with self._read() as c:
            found = c.execute(
                "SELECT row_id, label FROM monitor_labels WHERE name = ?", (name,)
            ).fetchall()
        return {r[0]: r[1] for r in found}

    def log_monitor_event(self, event: MonitorEvent) -> None:
        row = (event.name, event.time, event.kind, event.status, _json(event.detail))
        self._write(
            lambda c: c.execute(
                "INSERT INTO monitor_events (name, time, kind, status, detail)"
                " VALUES (?, ?, ?, ?, ?)",
                row,
            )
        )

    def monitor_events(
        self, name: str, since: float | None = None, until: float | None = None
    ) -> list[MonitorEvent]:
        self._settle()
        sql = "SELECT name, time, kind, status, detail FROM monitor_events WHERE name = ?"
        found = self._query(sql, [name], _bounds("time", since, until), "time, id")
        return [MonitorEvent(r[0], r[1], r[2], r[3], json.loads(r[4] or "{}")) for r in found]

    def _settle(self) -> None:
        """Let this process's write-behind of ``mlops.predict`` land first (see
        ``monitor_store.settle``), so that a reader sees every batch scored before it."""
        settle(self.location)

    def _query(
        self,
        sql: str,
        args: list[Any],
        where: list[tuple[str, Any]],
        order: str,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Any]:
        """Rows of ``sql`` (ending in a ``WHERE`` clause) with the ``where`` conditions added,
        ordered by ``order`` (the first ``limit`` rows, newest first if asked)."""
        args = [*args, *(value for _, value in where)]
        sql += "".join(f" AND {cond}" for cond, _ in where)
        if newest_first:
            order = ", ".join(f"{col} DESC" for col in order.split(", "))
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._read() as c:
            return list(c.execute(sql, args).fetchall())


def _profile_json(value: dict[str, Any] | None) -> str | None:
    """A profile (``Profile.to_dict()``, plain JSON already) as JSON text. Straight to
    ``json.dumps``: a batch's profile holds thousands of numbers, and walking them first for
    values JSON cannot take (``_json``) would double the record's cost; that walk is kept
    for a profile that needs it."""
    if value is None:
        return None
    text = getattr(value, "json_text", None)  # made already (monitoring/profile_text.py)
    if isinstance(text, str):
        return text
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return _json(value)


def _bounds(col: str, since: float | None, until: float | None) -> list[tuple[str, Any]]:
    """Conditions for ``since <= col <= until`` (a None bound is open)."""
    found = [] if since is None else [(f"{col} >= ?", since)]
    return found + ([] if until is None else [(f"{col} <= ?", until)])


def _equal(**values: Any) -> list[tuple[str, Any]]:
    return [(f"{col} = ?", value) for col, value in values.items() if value is not None]
