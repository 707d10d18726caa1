"""What a store migration copies: the tables of the schema, with their keys, replayed from
``schema.py``, and what is reported per table."""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import schema

# Each store keeps its own version row; leases belong to the schedulers running on a store now,
# and the notification outbox to its senders (copied, a pending row would be sent by both stores);
# journal marks to the writers that spilled into a local journal of that store (writer.py).
EXCLUDED_TABLES = ("schema_info", "leases", "notifications", "journal_marks")
# The tables naming a registered model (in their column ``name``): ``rename_models`` applies.
MODEL_TABLES = (
    "model_versions",
    "model_events",
    "model_pins",
    "model_aliases",
    "model_tags",
    "model_signatures",
    "rollouts",
    "rollout_looks",
    "monitor_batches",
    "monitor_predictions",
    "monitor_labels",
    "monitor_events",
)


@dataclass(frozen=True)
class TableSpec:
    """A table of the schema, its primary key, and whether that key is a serial id."""

    name: str
    key: tuple[str, ...]
    serial: bool
    # A serial table's NOT NULL columns: what looks a row up in the target (its content, all
    # columns but the id, is then compared whole).
    natural: tuple[str, ...] = ()


@dataclass
class TableCopy:
    """What happened to one table: rows in the source, copied, already there (identical),
    already there with other content (a conflict), and rows in the target at the end."""

    name: str
    source_rows: int = 0
    copied: int = 0
    skipped: int = 0
    differing: int = 0
    updated: int = 0  # differing rows overwritten with the source's (``update=True``)
    target_rows: int | None = None
    first_differing: str | None = None  # the key of the first conflict, for the message


def schema_tables() -> list[TableSpec]:
    """The tables of the current schema with their keys, replayed from the baseline through
    every migration (tables created, rebuilt, renamed and dropped), minus the excluded ones."""
    found: dict[str, TableSpec] = {}
    statements = list(schema.TABLES)
    for version in sorted(schema.MIGRATIONS):
        statements += schema.MIGRATIONS[version]
    for raw in statements:
        stmt = " ".join(raw.format_map(_Marks()).split())
        if m := re.match(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+) \((.*)\)$", stmt):
            found[m[1]] = _table_spec(m[1], m[2])
        elif m := re.match(r"DROP TABLE (?:IF EXISTS )?(\w+)", stmt):
            found.pop(m[1], None)
        elif m := re.match(r"ALTER TABLE (\w+) RENAME TO (\w+)", stmt):
            old = found.pop(m[1])
            found[m[2]] = TableSpec(m[2], old.key, old.serial, old.natural)
    return [t for name, t in found.items() if name not in EXCLUDED_TABLES]


class _Marks(dict[str, str]):
    """Fills the schema's type placeholders with their own names, so the serial key shows."""

    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def _table_spec(name: str, body: str) -> TableSpec:
    if m := re.search(r"PRIMARY KEY \(([^)]*)\)", body):
        return TableSpec(name, tuple(c.strip() for c in m[1].split(",")), False)
    for column in body.split(","):
        words = column.split()
        if "<serial_pk>" in words:
            natural = tuple(c.split()[0] for c in body.split(",") if "NOT NULL" in c)
            return TableSpec(name, (words[0],), True, natural)
        if "PRIMARY" in words:
            return TableSpec(name, (words[0],), False)
    return TableSpec(name, (), False)
