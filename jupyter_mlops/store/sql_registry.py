"""The model registry's tables (versions, their events and pins), as a mixin of ``SQLStore``
over the same dialect and transactions.

Stage changes happen in one write transaction each, so "bless the new version and archive the
old blessed one" is atomic: there is never zero or two blessed versions of a model. A pin (set
by every rollback, or by hand) is read inside that same transaction, so no bless slips past a
pin another host has just committed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ..codec import epoch, utc
from ..entities import (
    DataRef,
    ModelEvent,
    ModelPin,
    ModelStage,
    ModelVersion,
    iso_time,
)
from ..exceptions import ModelNotFoundError, ModelPinnedError, ValidationError
from . import rows
from .dialect import Connection
from .sql_common import _json
from .sql_model_meta import ModelMetaTables
from .sql_model_meta import record_event as _event


class RegistryTables(ModelMetaTables):
    """The model registry: versions, stages, pins and events (and, in the mixin, what users
    attach to a version)."""

    # -- the model registry ----------------------------------------------------------------------
    def register_model(
        self,
        name: str,
        run_id: str,
        artifact_uri: str,
        artifact_sha: str,
        size: int,
        metrics: dict[str, float],
        data: list[DataRef],
        pipeline: str | None,
        actor: str | None = None,
    ) -> ModelVersion:
        now = time.time()

        def write(c: Connection) -> int:
            last = c.execute(self._sql.last_version, (name,)).fetchone()
            version = (last[0] if last else 0) + 1
            c.execute(
                f"INSERT INTO model_versions ({rows.MODEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?,"
                " ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    version,
                    run_id,
                    artifact_uri,
                    artifact_sha,
                    size,
                    ModelStage.CANDIDATE.value,
                    now,
                    now,
                    _json(metrics),
                    _json(data),
                    pipeline,
                    None,  # no description yet
                ),
            )
            _event(c, name, version, "register", actor, None, now)
            return version

        return self.get_model(name, self._write(write))

    def get_model(self, name: str, version: int | None = None) -> ModelVersion:
        """A version, or the blessed one when ``version`` is None."""
        sql = f"SELECT {rows.MODEL_COLUMNS} FROM model_versions WHERE name = ? AND "
        with self._read() as c:
            if version is None:
                row = c.execute(sql + "stage = 'blessed'", (name,)).fetchone()
            else:
                row = c.execute(sql + "version = ?", (name, version)).fetchone()
            found = self._labelled(c, [rows.model_version(row)] if row else [], name)
        if not found:
            raise ModelNotFoundError(self._missing(name, version))
        return found[0]

    def _missing(self, name: str, version: int | None) -> str:
        known = [m.name for m in self.list_models() if m.version == 1]
        if name not in known:
            listing = ", ".join(known) if known else "none yet"
            return (
                f"No model named {name!r} (registered models: {listing}); see "
                "`jupyter-mlops models list`"
            )
        if version is None:
            return (
                f"Model {name!r} has no blessed version; bless one with "
                f"`jupyter-mlops models bless {name}@VERSION`"
            )
        return f"Model {name!r} has no version {version}; see `jupyter-mlops models show {name}`"

    def list_models(self, name: str | None = None) -> list[ModelVersion]:
        sql = f"SELECT {rows.MODEL_COLUMNS} FROM model_versions"
        args: list[Any] = []
        if name is not None:
            sql += " WHERE name = ?"
            args.append(name)
        with self._read() as c:
            found = c.execute(sql + " ORDER BY name, version", args).fetchall()
            return self._labelled(c, [rows.model_version(r) for r in found], name)

    def model_events(self, name: str) -> list[ModelEvent]:
        with self._read() as c:
            found = c.execute(
                "SELECT name, version, action, actor, reason, time FROM model_events"
                # In insertion order, which the row locks make the order of the commits;
                # clocks of two hosts (or two processes' reads of one) need not agree.
                " WHERE name = ? ORDER BY id",
                (name,),
            ).fetchall()
        return [rows.model_event(r) for r in found]

    def bless_model(
        self,
        name: str,
        version: int,
        actor: str | None = None,
        reason: str | None = None,
        action: str = "bless",
        *,
        force: bool = False,
        now: float | None = None,
    ) -> ModelVersion:
        """Bless ``name@version`` and archive the previously blessed version, atomically.

        A pinned model (see :class:`ModelPin`) is refused with ModelPinnedError, checked in the
        same transaction; ``force`` blesses anyway and moves the pin to ``version``. ``now``
        (default: the time) is when the pin's expiry is evaluated."""
        self.get_model(name, version)  # a clear error for an unknown version

        def write(c: Connection) -> None:
            pin = _active_pin(c, self._sql.pinned, name, now)
            if pin is not None and not force:
                raise ModelPinnedError(_pinned_message(pin, version), pin)
            stamp = self._bless_in(c, name, version, actor, reason, action)
            if pin is not None and pin.version != version:
                moved = f"moved from v{pin.version} by a forced bless"
                c.execute(
                    self._sql.pin,
                    (name, version, pin.origin, actor, moved, stamp, epoch(pin.until)),
                )
                _event(c, name, version, "pin", actor, moved, stamp)

        self._write(write)
        return self.get_model(name, version)

    def offer_model(
        self,
        name: str,
        version: int,
        actor: str | None = None,
        reason: str | None = None,
        now: float | None = None,
    ) -> ModelPin | None:
        """Bless ``name@version`` unless the model is pinned (an automated bless: a pipeline
        run, a scheduled firing). Pinned: the version stays a candidate, a ``held`` event says
        why, and the pin is returned; blessed: None. One transaction, like :meth:`bless_model`."""
        self.get_model(name, version)

        def write(c: Connection) -> ModelPin | None:
            pin = _active_pin(c, self._sql.pinned, name, now)
            if pin is None:
                self._bless_in(c, name, version, actor, reason, "bless")
                return None
            _event(c, name, version, "held", actor, f"{pin.describe()}; not blessed", time.time())
            return pin

        return self._write(write)

    def _bless_in(
        self,
        c: Connection,
        name: str,
        version: int,
        actor: str | None,
        reason: str | None,
        action: str,
    ) -> float:
        """The bless itself, in the caller's write transaction; returns its time."""
        blessed = c.execute(self._sql.blessed, (name, version)).fetchall()
        stamp = time.time()  # read once the rows are locked: racing blessings keep their order
        for (old,) in blessed:
            c.execute(
                "UPDATE model_versions SET stage = 'archived', updated = ? WHERE"
                " name = ? AND version = ?",
                (stamp, name, old),
            )
            _event(c, name, old, "archive", actor, reason, stamp)
        c.execute(
            "UPDATE model_versions SET stage = 'blessed', updated = ? WHERE name = ?"
            " AND version = ?",
            (stamp, name, version),
        )
        _event(c, name, version, action, actor, reason, stamp)
        return stamp

    def rollback_model(
        self,
        name: str,
        to: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        *,
        until: float | None = None,
        now: float | None = None,
    ) -> tuple[ModelVersion, ModelVersion]:
        """Re-bless the version blessed before the current one (or ``to``) and pin the model
        there (until ``until``, else until unpinned); returns (old, new)."""
        current = self.get_model(name)
        if to is None:
            earlier = [v for v in blessing_stack(self.model_events(name)) if v != current.version]
            if not earlier:
                raise ValidationError(
                    f"{current.ref} is the only version of {name!r} left to bless; there is "
                    f"nothing to roll back to (use `models bless {name}@V` to pick one)"
                )
            to = earlier[-1]
        if to == current.version:
            raise ValidationError(f"{current.ref} is already the blessed version")
        self.get_model(name, to)
        since = time.time() if now is None else now

        def write(c: Connection) -> None:
            stamp = self._bless_in(c, name, to, actor, reason, "rollback")
            c.execute(self._sql.pin, (name, to, "rollback", actor, reason, since, until))
            _event(c, name, to, "pin", actor, _pin_reason("rollback", reason, until), stamp)

        self._write(write)
        return self.get_model(name, current.version), self.get_model(name, to)

    def pin_model(
        self,
        name: str,
        version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        *,
        until: float | None = None,
        now: float | None = None,
    ) -> ModelPin:
        """Pin ``name`` at its blessed version, or bless ``version`` and pin it there; one
        transaction, replacing any pin."""
        if version is not None:
            self.get_model(name, version)  # a clear error for an unknown version
        since = time.time() if now is None else now

        def write(c: Connection) -> int:
            held = version
            if held is None:
                row = c.execute(self._sql.blessed, (name, -1)).fetchone()
                if row is None:
                    raise ModelNotFoundError(self._missing(name, None))
                held = int(row[0])
            elif c.execute(self._sql.blessed, (name, -1)).fetchall() != [(held,)]:
                self._bless_in(c, name, held, actor, reason, "bless")
            c.execute(self._sql.pin, (name, held, "pin", actor, reason, since, until))
            _event(c, name, held, "pin", actor, _pin_reason("pin", reason, until), time.time())
            return held

        self._write(write)
        pin = self.model_pin(name)
        assert pin is not None
        return pin

    def unpin_model(
        self, name: str, actor: str | None = None, reason: str | None = None
    ) -> ModelPin | None:
        """Remove the pin of ``name`` (expired or not); returns it, or None if there was none."""
        if not self.list_models(name):
            self.get_model(name)  # "no model named": a typo

        def write(c: Connection) -> ModelPin | None:
            row = c.execute(self._sql.pinned, (name,)).fetchone()
            if row is None:
                return None
            c.execute("DELETE FROM model_pins WHERE name = ?", (name,))
            _event(c, name, row[1], "unpin", actor, reason, time.time())
            return _pin(row)

        return self._write(write)

    def model_pin(self, name: str) -> ModelPin | None:
        """The pin row of ``name``, expired or not (:meth:`ModelPin.active` says)."""
        with self._read() as c:
            row = c.execute(
                "SELECT name, version, origin, actor, reason, since, until FROM model_pins"
                " WHERE name = ?",
                (name,),
            ).fetchone()
        return None if row is None else _pin(row)

    def set_model_stage(
        self,
        name: str,
        version: int,
        stage: str,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelVersion:
        mv = self.get_model(name, version)
        if mv.stage is ModelStage.BLESSED:
            raise ValidationError(
                f"{mv.ref} is the blessed version; bless another one before moving it to {stage}"
            )

        def write(c: Connection) -> None:
            now = time.time()
            c.execute(
                "UPDATE model_versions SET stage = ?, updated = ? WHERE name = ? AND version = ?",
                (stage, now, name, version),
            )
            _event(c, name, version, stage, actor, reason, now)

        self._write(write)
        return self.get_model(name, version)


def _active_pin(c: Connection, sql: str, name: str, now: float | None) -> ModelPin | None:
    row = c.execute(sql, (name,)).fetchone()
    pin = None if row is None else _pin(row)
    return pin if pin is not None and pin.active(utc(time.time() if now is None else now)) else None


def _pin(row: Sequence[Any]) -> ModelPin:
    """A ``model_pins`` row: name, version, origin, actor, reason, since, until."""
    name, version, origin, by, reason, since, until = row
    return ModelPin(name, version, origin, by, reason, utc(since), utc(until))


def _pinned_message(pin: ModelPin, version: int) -> str:
    who = f" by {pin.by}" if pin.by else ""
    why = f": {pin.reason}" if pin.reason else ""
    until = f" until {iso_time(pin.until)}" if pin.until is not None else ""
    return (
        f"{pin.name} is {pin.describe()}{who}{until}{why}; unpin it with `jupyter-mlops models "
        f"unpin {pin.name}`, or bless with --force (the pin moves to v{version})"
    )


def _pin_reason(origin: str, reason: str | None, until: float | None) -> str:
    text = f"pinned by {origin}" + (f" until {iso_time(until)}" if until is not None else "")
    return f"{text}: {reason}" if reason else text


def blessing_stack(events: list[ModelEvent]) -> list[int]:
    """Versions in the order they were blessed, with rolled-back ones popped: a rollback after
    a rollback goes one step further back instead of returning to the bad version."""
    stack: list[int] = []
    for e in events:
        if e.action == "bless":
            stack.append(e.version)
        elif e.action == "rollback":
            while stack and stack[-1] != e.version:
                stack.pop()
    return stack
