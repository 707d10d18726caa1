"""What users attach to a model version (aliases, tags, a description) and the gate results a
version was judged by, as a mixin of the registry's tables (``sql_registry.py``).

Each change is one write transaction that also writes a ``model_events`` row (``alias``,
``unalias``, ``tag``, ``untag``, ``describe``; ``reason`` says what), so the history, the
audit trail and the server's push see it like a bless. An alias is one row per (model, alias):
setting it again moves it, so it never names two versions. The rules of the values are
:mod:`jupyter_mlops.model_metadata`, checked here so that no path stores a bad one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ..codec import from_jsonable
from ..entities import GateResult, ModelVersion
from ..exceptions import ModelNotFoundError, NotFoundError, ValidationError
from ..model_metadata import (
    MAX_TAGS,
    check_alias,
    check_description,
    check_tag_key,
    check_tags,
)
from .dialect import Connection
from .sql_common import SQLTables

# The gate results of each version of a model: those of the run that logged it, else of its
# parent (a pipeline run gates the model its notebook's tracked cell logged).
_GATES = (
    "SELECT v.version, 1, g.position, g.result FROM model_versions v"
    " JOIN gate_results g ON g.run_id = v.run_id WHERE v.name = ?"
    " UNION ALL SELECT v.version, 0, g.position, g.result FROM model_versions v"
    " JOIN runs r ON r.id = v.run_id JOIN gate_results g ON g.run_id = r.parent_id"
    " WHERE v.name = ? ORDER BY 1, 2 DESC, 3"
)


def record_event(
    c: Connection,
    name: str,
    version: int,
    action: str,
    actor: str | None,
    reason: str | None,
    now: float,
) -> None:
    """One ``model_events`` row, in the caller's write transaction."""
    c.execute(
        "INSERT INTO model_events (name, version, action, actor, reason, time)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (name, version, action, actor, reason, now),
    )


class ModelMetaTables(SQLTables):
    """Aliases, tags and descriptions of model versions."""

    # Defined by RegistryTables: a version (ModelNotFoundError) and the "no model" message.
    def get_model(self, name: str, version: int | None = None) -> ModelVersion:
        raise NotImplementedError

    def _missing(self, name: str, version: int | None) -> str:
        raise NotImplementedError

    def _labelled(
        self, c: Connection, found: list[ModelVersion], name: str | None
    ) -> list[ModelVersion]:
        """``found`` (versions of ``name``, or of every model) with their aliases and tags."""
        if not found:
            return found
        where, args = (" WHERE name = ?", (name,)) if name is not None else ("", ())
        aliases: dict[tuple[str, int], list[str]] = {}
        for n, alias, v in c.execute(
            f"SELECT name, alias, version FROM model_aliases{where} ORDER BY alias", args
        ).fetchall():
            aliases.setdefault((n, v), []).append(alias)
        tags: dict[tuple[str, int], dict[str, str]] = {}
        for n, v, key, value in c.execute(
            f"SELECT name, version, key, value FROM model_tags{where} ORDER BY key", args
        ).fetchall():
            tags.setdefault((n, v), {})[key] = value
        if not aliases and not tags:
            return found
        return [
            replace(
                m,
                aliases=tuple(aliases.get((m.name, m.version), ())),
                tags=tags.get((m.name, m.version), {}),
            )
            for m in found
        ]

    def resolve_model_alias(self, name: str, alias: str) -> int:
        """The version ``name@alias`` points at; ModelNotFoundError (listing the model's
        aliases) when there is no such alias."""
        with self._read() as c:
            row = c.execute(
                "SELECT version FROM model_aliases WHERE name = ? AND alias = ?", (name, alias)
            ).fetchone()
            if row is not None:
                return int(row[0])
            known = [
                r[0]
                for r in c.execute(
                    "SELECT alias FROM model_aliases WHERE name = ? ORDER BY alias", (name,)
                ).fetchall()
            ]
            exists = c.execute("SELECT 1 FROM model_versions WHERE name = ?", (name,)).fetchone()
        if exists is None:
            raise ModelNotFoundError(self._missing(name, -1))
        listing = ", ".join(known) if known else "none yet"
        raise ModelNotFoundError(
            f"Model {name!r} has no alias {alias!r} (aliases: {listing}); set it with "
            f"`jupyter-mlops models alias {name}@VERSION {alias}`"
        )

    def set_model_alias(
        self, name: str, alias: str, version: int, actor: str | None = None
    ) -> ModelVersion:
        """Point ``name@alias`` at ``version``, moving it from the version it named."""
        check_alias(alias)
        self.get_model(name, version)  # a clear error for an unknown version

        def write(c: Connection) -> None:
            row = c.execute(
                self.dialect.for_update(
                    "SELECT version FROM model_aliases WHERE name = ? AND alias = ?"
                ),
                (name, alias),
            ).fetchone()
            if row is not None and row[0] == version:
                return  # already there: no change, no event
            c.execute("DELETE FROM model_aliases WHERE name = ? AND alias = ?", (name, alias))
            c.execute(
                "INSERT INTO model_aliases (name, alias, version) VALUES (?, ?, ?)",
                (name, alias, version),
            )
            moved = f" (moved from v{row[0]})" if row is not None else ""
            record_event(c, name, version, "alias", actor, f"{alias}{moved}", time.time())

        self._write(write)
        return self.get_model(name, version)

    def delete_model_alias(
        self, name: str, alias: str, actor: str | None = None, version: int | None = None
    ) -> int:
        """Remove ``name@alias``; returns the version it named. ``version``, when given, must
        be that version (a guard against removing an alias someone has just moved)."""
        check_alias(alias)
        pointed = self.resolve_model_alias(name, alias)
        if version is not None and version != pointed:
            raise ValidationError(
                f"{name}@{alias} points at v{pointed}, not v{version}; nothing removed"
            )

        def write(c: Connection) -> int:
            row = c.execute(
                self.dialect.for_update(
                    "SELECT version FROM model_aliases WHERE name = ? AND alias = ?"
                ),
                (name, alias),
            ).fetchone()
            if row is None:  # removed meanwhile: the caller's wish holds
                return pointed
            c.execute("DELETE FROM model_aliases WHERE name = ? AND alias = ?", (name, alias))
            record_event(c, name, int(row[0]), "unalias", actor, alias, time.time())
            return int(row[0])

        return self._write(write)

    def set_model_tags(
        self, name: str, version: int, tags: dict[str, str], actor: str | None = None
    ) -> ModelVersion:
        """Set (add or replace) tags of ``name@version``; at most MAX_TAGS per version."""
        tags = check_tags(tags)
        self.get_model(name, version)

        def write(c: Connection) -> None:
            have = dict(_tag_rows(c, self.dialect.for_update, name, version))
            changed = {k: v for k, v in tags.items() if have.get(k) != v}
            if len(have.keys() | tags.keys()) > MAX_TAGS:
                raise ValidationError(
                    f"{name}@{version} would hold {len(have.keys() | tags.keys())} tags; the "
                    f"limit is {MAX_TAGS}: delete some with `models tag {name}@{version} "
                    "--delete KEY`"
                )
            if not changed:
                return
            for key, value in changed.items():
                c.execute(
                    "DELETE FROM model_tags WHERE name = ? AND version = ? AND key = ?",
                    (name, version, key),
                )
                c.execute(
                    "INSERT INTO model_tags (name, version, key, value) VALUES (?, ?, ?, ?)",
                    (name, version, key, value),
                )
            what = ", ".join(f"{k}={v}" for k, v in sorted(changed.items()))
            record_event(c, name, version, "tag", actor, what, time.time())

        self._write(write)
        return self.get_model(name, version)

    def delete_model_tags(
        self, name: str, version: int, keys: Iterable[str], actor: str | None = None
    ) -> ModelVersion:
        """Delete tags ``keys`` of ``name@version``; NotFoundError names a key it lacks."""
        wanted = sorted({check_tag_key(k) for k in keys})
        if not wanted:
            raise ValidationError("Name at least one tag key to delete")
        self.get_model(name, version)

        def write(c: Connection) -> None:
            have = dict(_tag_rows(c, self.dialect.for_update, name, version))
            absent = [k for k in wanted if k not in have]
            if absent:
                listing = ", ".join(sorted(have)) or "none"
                raise NotFoundError(f"{name}@{version} has no tag {absent[0]!r} (tags: {listing})")
            for key in wanted:
                c.execute(
                    "DELETE FROM model_tags WHERE name = ? AND version = ? AND key = ?",
                    (name, version, key),
                )
            record_event(c, name, version, "untag", actor, ", ".join(wanted), time.time())

        self._write(write)
        return self.get_model(name, version)

    def set_model_description(
        self, name: str, version: int, text: str | None, actor: str | None = None
    ) -> ModelVersion:
        """Set the description of ``name@version``; empty text (or None) clears it."""
        text = check_description(text)
        self.get_model(name, version)

        def write(c: Connection) -> None:
            row = c.execute(
                self.dialect.for_update(
                    "SELECT description FROM model_versions WHERE name = ? AND version = ?"
                ),
                (name, version),
            ).fetchone()
            if row is not None and row[0] == text:
                return
            c.execute(
                "UPDATE model_versions SET description = ? WHERE name = ? AND version = ?",
                (text, name, version),
            )
            what = text if text is not None else "(description cleared)"
            record_event(c, name, version, "describe", actor, what, time.time())

        self._write(write)
        return self.get_model(name, version)

    def model_gate_results(self, name: str) -> dict[int, list[GateResult]]:
        """The gate results each version of ``name`` was judged by (versions without gates
        are absent): those of its run, else of its run's parent (the pipeline run)."""
        out: dict[int, list[GateResult]] = {}
        owner: dict[int, int] = {}  # which run's results a version has: 1 its own, 0 parent's
        with self._read() as c:
            found = c.execute(_GATES, (name, name)).fetchall()
        for version, own, _, result in found:
            if owner.setdefault(version, own) != own:
                continue  # the version's own run ran gates: its parent's do not judge it
            out.setdefault(version, []).append(from_jsonable(json.loads(result), GateResult))
        return out


def _tag_rows(c: Connection, lock: Any, name: str, version: int) -> list[tuple[str, str]]:
    return [
        (k, v)
        for k, v in c.execute(
            lock("SELECT key, value FROM model_tags WHERE name = ? AND version = ?"),
            (name, version),
        ).fetchall()
    ]
