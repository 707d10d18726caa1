"""Staged rollouts (canaries) as a mixin of ``SQLStore``: one ``rollouts`` row per canary,
its looks in ``rollout_looks``, each change also a ``model_events`` row (``canary-start``,
``canary-step``, ``canary-hold``, ``canary-rollback``, ``canary-promote``, ``canary-abort``).

Every change of a rollout is a compare-and-set on its ``revision``: the row is read and
updated in one write transaction (SQLite's write lock, PostgreSQL's ``FOR UPDATE``), and a
caller that read an older revision is refused, so two schedulers never double-step. The look,
the events and, at the end, the candidate's bless are written in that same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import ConflictError, ModelPinnedError, StoreError
from .dialect import Connection
from .sql_common import SQLTables, _json
from .sql_model_meta import record_event
from .sql_registry import _active_pin, _pinned_message

RUNNING = "running"
STATES = (RUNNING, "promoted", "rolled_back", "aborted")
_COLUMNS = "name, candidate, baseline, state, spec, step, share, started, updated, revision"


@dataclass(frozen=True)
class Rollout:
    """A canary of ``name@candidate`` against the blessed ``baseline``: at ``steps[step]``
    percent (``share``, a fraction) since ``updated``."""

    name: str
    candidate: int
    baseline: int
    state: str
    spec: dict[str, Any]
    step: int
    share: float
    started: float
    updated: float
    revision: int

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class RolloutLook:
    """One look at a rollout: its decision and the evidence behind it."""

    name: str
    candidate: int
    seq: int
    time: float
    decision: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class RolloutChange:
    """What one compare-and-set writes: the new state, the look, the model events (version,
    action, reason) and, when the canary ends promoted, the bless's reason."""

    state: str
    step: int
    share: float
    look: tuple[str, dict[str, Any]] | None = None
    events: Sequence[tuple[int, str, str]] = ()
    bless_reason: str | None = None
    actor: str | None = None


def _rollout(row: Sequence[Any]) -> Rollout:
    name, cand, base, state, spec, step, share, started, updated, rev = row
    return Rollout(
        name, int(cand), int(base), state, json.loads(spec), int(step), float(share),
        float(started), float(updated), int(rev),
    )  # fmt: skip


class RolloutTables(SQLTables):
    """Rollouts and their looks."""

    if TYPE_CHECKING:  # RegistryTables' (the bless itself, in the caller's transaction)

        def _bless_in(
            self,
            c: Connection,
            name: str,
            version: int,
            actor: str | None,
            reason: str | None,
            action: str,
        ) -> float: ...

    def start_rollout(
        self, rollout: Rollout, actor: str | None = None, reason: str | None = None
    ) -> Rollout:
        """Record a new running rollout (a finished one of the same candidate is replaced,
        its trail kept in the model events); ConflictError when ``name`` has one running."""

        def write(c: Connection) -> None:
            running = c.execute(
                "SELECT candidate FROM rollouts WHERE name = ? AND state = ?",
                (rollout.name, RUNNING),
            ).fetchone()
            if running:
                raise ConflictError(
                    f"{rollout.name} already has a canary running (v{running[0]}); abort it with"
                    f" `jupyter-mlops models canary-abort {rollout.name}` first"
                )
            key = (rollout.name, rollout.candidate)
            c.execute("DELETE FROM rollout_looks WHERE name = ? AND candidate = ?", key)
            c.execute("DELETE FROM rollouts WHERE name = ? AND candidate = ?", key)
            r = rollout
            c.execute(
                f"INSERT INTO rollouts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (r.name, r.candidate, r.baseline, r.state, _json(r.spec), r.step, r.share,
                 r.started, r.updated, r.revision),
            )  # fmt: skip
            record_event(c, r.name, r.candidate, "canary-start", actor, reason, r.started)

        self._write(write)
        return rollout

    def active_rollout(self, name: str) -> Rollout | None:
        with self._read() as c:
            row = c.execute(
                f"SELECT {_COLUMNS} FROM rollouts WHERE name = ? AND state = ?", (name, RUNNING)
            ).fetchone()
        return None if row is None else _rollout(row)

    def active_rollouts(self) -> list[Rollout]:
        with self._read() as c:
            found = c.execute(
                f"SELECT {_COLUMNS} FROM rollouts WHERE state = ? ORDER BY name", (RUNNING,)
            ).fetchall()
        return [_rollout(r) for r in found]

    def latest_rollout(self, name: str) -> Rollout | None:
        """The running rollout of ``name``, else its most recently started one."""
        with self._read() as c:
            row = c.execute(
                f"SELECT {_COLUMNS} FROM rollouts WHERE name = ?"
                " ORDER BY CASE WHEN state = ? THEN 0 ELSE 1 END, started DESC LIMIT 1",
                (name, RUNNING),
            ).fetchone()
        return None if row is None else _rollout(row)

    def update_rollout(
        self, rollout: Rollout, change: RolloutChange, expected_revision: int, now: float
    ) -> Rollout | None:
        """Apply ``change`` if the rollout is still at ``expected_revision`` and running; None
        (nothing written) when another writer got there first. ModelPinnedError when the
        change blesses a pinned model (nothing written)."""
        name, cand = rollout.name, rollout.candidate
        read = self.dialect.for_update(
            "SELECT revision, state FROM rollouts WHERE name = ? AND candidate = ?"
        )

        def write(c: Connection) -> bool:
            row = c.execute(read, (name, cand)).fetchone()
            if row is None or int(row[0]) != expected_revision or row[1] != RUNNING:
                return False
            if change.bless_reason is not None:
                pin = _active_pin(c, self._sql.pinned, name, now)
                if pin is not None:
                    raise ModelPinnedError(_pinned_message(pin, cand), pin)
            c.execute(
                "UPDATE rollouts SET state = ?, step = ?, share = ?, updated = ?, revision = ?"
                " WHERE name = ? AND candidate = ?",
                (change.state, change.step, change.share, now, expected_revision + 1, name, cand),
            )
            if change.look is not None:
                self._add_look(c, name, cand, now, *change.look)
            for version, action, reason in change.events:
                record_event(c, name, version, action, change.actor, reason, now)
            if change.bless_reason is not None:
                self._bless_in(c, name, cand, change.actor, change.bless_reason, "bless")
            return True

        if not self._write(write):
            return None
        with self._read() as c:
            found = c.execute(
                f"SELECT {_COLUMNS} FROM rollouts WHERE name = ? AND candidate = ?", (name, cand)
            ).fetchone()
        return _rollout(found)

    def add_look(
        self, name: str, candidate: int, now: float, decision: str, evidence: dict[str, Any]
    ) -> int:
        """Record a look outside a state change; returns its sequence number."""
        return self._write(lambda c: self._add_look(c, name, candidate, now, decision, evidence))

    def _add_look(
        self,
        c: Connection,
        name: str,
        candidate: int,
        now: float,
        decision: str,
        evidence: dict[str, Any],
    ) -> int:
        last = c.execute(
            "SELECT MAX(seq) FROM rollout_looks WHERE name = ? AND candidate = ?", (name, candidate)
        ).fetchone()
        seq = (int(last[0]) if last and last[0] is not None else 0) + 1
        c.execute(
            "INSERT INTO rollout_looks (name, candidate, seq, time, decision, evidence)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (name, candidate, seq, now, decision, _json(evidence)),
        )
        return seq

    def rollout_looks(
        self, name: str, candidate: int, limit: int | None = None
    ) -> list[RolloutLook]:
        """The looks at ``name@candidate``'s rollout, oldest first (the last ``limit``)."""
        sql = (
            "SELECT name, candidate, seq, time, decision, evidence FROM rollout_looks"
            " WHERE name = ? AND candidate = ? ORDER BY seq DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._read() as c:
            found = c.execute(sql, (name, candidate)).fetchall()
        return [
            RolloutLook(r[0], int(r[1]), int(r[2]), float(r[3]), r[4], json.loads(r[5]))
            for r in reversed(found)
        ]

    def arm_predictions(
        self, name: str, version: int, since: float, limit: int = 50_000
    ) -> list[str]:
        """The predictions (JSON text) ``name@version`` made since ``since``, newest first."""
        with self._read() as c:
            found = c.execute(
                "SELECT prediction FROM monitor_predictions WHERE name = ? AND version = ?"
                f" AND time >= ? ORDER BY time DESC LIMIT {int(limit)}",
                (name, version, since),
            ).fetchall()
        return [r[0] for r in found]


def rollout_tables(store: object) -> RolloutTables:
    """``store`` as the rollouts' tables; StoreError for a store that has none."""
    if not isinstance(store, RolloutTables):
        raise StoreError(
            f"{type(store).__name__} keeps no rollouts; canaries need a SQL store (SQLite or "
            "PostgreSQL)"
        )
    return store


__all__ = [
    "RUNNING",
    "STATES",
    "Rollout",
    "RolloutChange",
    "RolloutLook",
    "RolloutTables",
    "rollout_tables",
]
