"""Copy a store into another one: every table of the schema and every artifact its rows name.

``jupyter-mlops store migrate`` moves a local ``.mlops/`` to a team store. The copy is:

- **complete**: the tables come from ``schema.py`` (the baseline and every migration, replayed),
  so a table added by a later migration is copied without an edit here. Only ``schema_info``
  (each store keeps its own), ``leases`` (live state of running schedulers) and
  ``notifications`` (the outbox of the store's senders) stay behind.
- **idempotent and resumable**: rows go in with the target dialect's insert-ignore on each
  table's primary key, committed in batches; a second run copies nothing and a killed one
  continues where it stopped. A row the target already holds is compared with the source's: one
  with the same key and other content is reported, never overwritten.
- **mergeable**: several local stores go into one team store. Logs keyed by a serial id
  (metrics, model and monitor events, the schedule log, monitor batches) are copied without
  their ids: a row is identified by its content (looked up by its NOT NULL columns, led by
  those the tables' indexes start with), the target numbers the new ones, and a row whose
  content the target holds is skipped. No table refers to a serial id, so no id needs mapping.
  Runs and experiments merge freely (run ids are UUIDs); a model name the target holds with
  other versions, or a pipeline with another spec, is refused before anything is copied
  (``rename_models`` copies a model under another name).
- **artifacts before rows**: each batch's artifacts are copied (only those the target lacks)
  before its rows commit, so the target never holds a row whose artifact is missing.
- **verified**: at the end, per-table counts (target ⊇ source; for the serial logs, distinct
  contents per run, model or pipeline) and every referenced artifact re-hashed in the target.

The source is read in one snapshot (one read transaction), so runs written meanwhile are
either wholly in the copy or not at all. Nothing here is specific to a backend: the SQL is the
shared SQL, spelt by each store's dialect.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..exceptions import SchemaVersionError, StoreError, ValidationError
from . import schema
from .migrate_copy import Copier, Progress
from .migrate_tables import EXCLUDED_TABLES, MODEL_TABLES, TableCopy, TableSpec, schema_tables
from .migrate_verify import verify
from .sql import SQLStore

DEFAULT_BATCH = 1000


@dataclass
class MigrationReport:
    source: str
    target: str
    dry_run: bool
    tables: list[TableCopy] = field(default_factory=list)
    artifacts_referenced: int = 0
    artifacts_copied: int = 0
    artifact_bytes: int = 0
    # Referenced by a row but gone from the source already (`gc` deletes old outputs).
    artifacts_missing_in_source: list[str] = field(default_factory=list)
    running_runs: list[str] = field(default_factory=list)  # copied as they are
    verified: bool | None = None  # None: not verified (a dry run)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_copied(self) -> int:
        return sum(t.copied for t in self.tables)

    @property
    def rows_updated(self) -> int:
        return sum(t.updated for t in self.tables)

    @property
    def ok(self) -> bool:
        return not self.problems and self.verified is not False

    # Not its fields (codec.py): adds the derived totals and `ok`.
    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rows_copied"] = self.rows_copied
        out["rows_updated"] = self.rows_updated
        out["ok"] = self.ok
        return out


def migrate_store(
    source: SQLStore,
    target: SQLStore,
    *,
    batch: int = DEFAULT_BATCH,
    dry_run: bool = False,
    update: bool = False,
    rename_models: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> MigrationReport:
    """Copy ``source`` into ``target`` (rows and artifacts), then verify the target.

    A row the target holds with other content is reported and left alone, unless ``update``:
    then the source's version replaces it (a run that was still running at the first copy,
    a model blessed since). Rows of logs keyed by a serial id are identified by their content,
    never by their id (another store's entries have the same ids). ``rename_models`` maps a
    source model name to the name it gets in the target. ``dry_run`` writes nothing and reports
    what a real run would copy. Raises ValidationError for the same store twice, a bad batch
    size, or models or pipelines the target holds under the same name with other contents
    (before anything is copied); SchemaVersionError when either store is not at this version's
    schema."""
    _check_stores(source, target, batch)
    started = time.monotonic()
    report = MigrationReport(source.location, target.location, dry_run)
    tables = schema_tables()
    for spec in tables:
        if not spec.key:  # every table has a key since schema 7; a new one must too
            raise StoreError(f"Table {spec.name} has no primary key; it cannot be copied")
    rename = dict(rename_models or {})
    _refuse_clashes(source, target, rename, update)
    copier = Copier(source, target, batch, dry_run, progress, report)
    copier.update, copier.rename = update, rename
    with source._read() as sconn:
        report.running_runs = [
            r[0] for r in sconn.execute("SELECT id FROM runs WHERE status = 'running'")
        ]
        for spec in tables:
            report.tables.append(copier.copy_table(sconn, spec))
    report.artifacts_referenced = len(copier.shas)
    report.artifacts_missing_in_source = sorted(copier.missing)
    if not dry_run:
        verify(target, report, copier, progress)
    report.seconds = time.monotonic() - started
    return report


def _check_stores(source: SQLStore, target: SQLStore, batch: int) -> None:
    """Refuse a bad batch size, the same store twice, and a store not at this schema."""
    if batch < 1:
        raise ValidationError(f"The batch size must be at least 1, got {batch}")
    if source is target or source.location == target.location:
        raise ValidationError(
            f"The source and the target are the same store ({source.location}); "
            "pass another store URL to --to"
        )
    for store in (source, target):
        version = store._schema_version()
        if version is not None and version > schema.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"The store {store.location} has schema version {version}, newer than this "
                f"jupyter-mlops understands ({schema.SCHEMA_VERSION}); upgrade jupyter-mlops"
            )
        if version != schema.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"The store {store.location} has schema version {version}, not "
                f"{schema.SCHEMA_VERSION}; open it once with this jupyter-mlops (which migrates "
                "it) and copy again"
            )


def _refuse_clashes(
    source: SQLStore, target: SQLStore, rename: dict[str, str], update: bool
) -> None:
    """Refuse, before anything is copied, a model the target holds under the same name with
    other versions (another run's ``churn@1``: interleaving the two would make nonsense of
    both histories) and a pipeline it holds under the same name with another spec."""
    models = "SELECT name, version, run_id, artifact_sha FROM model_versions"
    pipes = "SELECT name, spec, notebook, notebook_hash FROM pipelines"
    with source._read() as conn:
        theirs = {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(models)}
        spipes = {r[0]: tuple(r[1:]) for r in conn.execute(pipes)}
    unknown = sorted(set(rename) - {name for name, _ in theirs})
    if unknown:
        raise ValidationError(
            f"--rename-model names no model of the source: {', '.join(unknown)}; "
            "`jupyter-mlops models` lists them"
        )
    ours = {(rename.get(n, n), v): val for (n, v), val in theirs.items()}
    with target._read() as conn:
        tmodels = {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(models)}
        tpipes = {r[0]: tuple(r[1:]) for r in conn.execute(pipes)}
    clash = sorted({n for (n, v), val in ours.items() if tmodels.get((n, v), val) != val})
    if clash:
        raise ValidationError(
            f"The target {target.location} already has model(s) {', '.join(clash)} with other "
            f"versions; nothing was copied: pass --rename-model {clash[0]}=NEW_NAME (once per "
            "model), or migrate into a store without them"
        )
    differ = sorted(n for n, spec in spipes.items() if tpipes.get(n, spec) != spec)
    if differ and not update:
        raise ValidationError(
            f"The target {target.location} already has pipeline(s) {', '.join(differ)} with "
            "another spec; nothing was copied: promote yours under another name, pass "
            "--update to replace the target's, or migrate into a store without them"
        )


__all__ = [
    "DEFAULT_BATCH",
    "EXCLUDED_TABLES",
    "MODEL_TABLES",
    "MigrationReport",
    "Progress",
    "TableCopy",
    "TableSpec",
    "migrate_store",
    "schema_tables",
]
