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

import hashlib
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

from ..exceptions import SchemaVersionError, StoreError, ValidationError
from . import schema
from .artifacts import ArtifactStore
from .dialect import Connection
from .sql import SQLStore

DEFAULT_BATCH = 1000
# Each store keeps its own version row; leases belong to the schedulers running on a store now,
# and the notification outbox to its senders (copied, a pending row would be sent by both stores);
# journal marks to the writers that spilled into a local journal of that store (writer.py).
EXCLUDED_TABLES = ("schema_info", "leases", "notifications", "journal_marks")
_URI_SHA = re.compile(r"^artifacts/[0-9a-f]{2}/([0-9a-f]{64})$")
_KEY_CHUNK = 200  # keys per lookup: an OR of 200 ANDs stays under SQLite's expression depth
_CHUNK = 8 << 20
# The tables naming a registered model (in their column ``name``): ``rename_models`` applies.
MODEL_TABLES = (
    "model_versions",
    "model_events",
    "model_pins",
    "monitor_batches",
    "monitor_predictions",
    "monitor_labels",
    "monitor_events",
)
# Rows that differ only in when the store saw them: two stores both have an experiment ``cells``
# (or the same pipeline, same spec, with its schedule); the target keeps its own row, and the
# copy is no conflict.
_TARGET_KEEPS = {
    "experiments": ("created",),
    "pipelines": ("updated",),
    "schedule_state": ("last_fire", "updated"),
}

Progress = Callable[[str, int, int], None]  # (table or phase, done, total)


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
    started = time.monotonic()
    report = MigrationReport(source.location, target.location, dry_run)
    tables = schema_tables()
    for spec in tables:
        if not spec.key:  # every table has a key since schema 7; a new one must too
            raise StoreError(f"Table {spec.name} has no primary key; it cannot be copied")
    rename = dict(rename_models or {})
    _refuse_clashes(source, target, rename, update)
    copier = _Copier(source, target, batch, dry_run, progress, report)
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
        _verify(target, report, copier, progress)
    report.seconds = time.monotonic() - started
    return report


class _Copier:
    """Copies tables batch by batch, with the artifacts each batch names."""

    def __init__(
        self,
        source: SQLStore,
        target: SQLStore,
        batch: int,
        dry_run: bool,
        progress: Progress | None,
        report: MigrationReport,
    ) -> None:
        self.source, self.target = source, target
        self.batch, self.dry_run = batch, dry_run
        self.progress, self.report = progress, report
        self.update = False
        self.rename: dict[str, str] = {}
        self.shas: set[str] = set()
        self.missing: set[str] = set()
        # serial table -> (its grouping column, distinct contents per group in the source)
        self.groups: dict[str, tuple[str, Counter[Any]]] = {}

    def _renamed(self, spec: TableSpec, cols: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not self.rename or spec.name not in MODEL_TABLES:
            return
        at = cols.index("name")
        for n, row in enumerate(rows):
            if (new := self.rename.get(row[at])) is not None:
                rows[n] = (*row[:at], new, *row[at + 1 :])

    def copy_table(self, sconn: Connection, spec: TableSpec) -> TableCopy:
        if spec.serial:
            return self.copy_log(sconn, spec)
        out = TableCopy(spec.name)
        cols = _columns(sconn, spec.name)
        key_at = [cols.index(k) for k in spec.key]
        uri_at = [i for i, c in enumerate(cols) if c == "uri" or c.endswith("_uri")]
        out.source_rows = sconn.execute(f"SELECT COUNT(*) FROM {spec.name}").fetchone()[0]
        insert = self.target.dialect.insert_ignore(spec.name, cols)
        last: tuple[Any, ...] | None = None
        done = 0
        while found := _page(sconn, spec, cols, last, self.batch):
            last = tuple(found[-1][i] for i in key_at)  # the source's key, before renaming
            self._renamed(spec, cols, found)
            self._copy_artifacts(found, uri_at)
            if self.dry_run:
                copied = len(found) - self._compare(spec, cols, key_at, found, out)
            else:
                copied = self.target._write(partial(_insert, insert=insert, found=found))
                if copied < len(found):  # some were there: the same rows, or conflicts?
                    self._compare(spec, cols, key_at, found, out)
            out.copied += copied
            out.skipped += len(found) - copied
            done += len(found)
            if self.progress is not None:
                self.progress(spec.name, done, out.source_rows)
        out.skipped -= out.differing + out.updated
        if out.differing:
            self.report.problems.append(
                f"{spec.name}: {out.differing} row(s) differ in the target (same key, other "
                f"content; first: {out.first_differing}); left as they are there "
                "(--update takes the source's)"
            )
        return out

    def copy_log(self, sconn: Connection, spec: TableSpec) -> TableCopy:
        """Copy a table keyed by a serial id without its ids: a row whose content the target
        holds is skipped, the others are inserted in the source's order and numbered by the
        target. The lookup and the insert share one write transaction per batch."""
        out = TableCopy(spec.name)
        cols = _columns(sconn, spec.name)
        content = [c for c in cols if c not in spec.key]
        id_at = cols.index(spec.key[0])
        keep = [cols.index(c) for c in content]
        look = spec.natural or tuple(content)
        uri_at = [i for i, c in enumerate(content) if c == "uri" or c.endswith("_uri")]
        out.source_rows = sconn.execute(f"SELECT COUNT(*) FROM {spec.name}").fetchone()[0]
        insert = (
            f"INSERT INTO {spec.name} ({', '.join(content)}) "
            f"VALUES ({', '.join('?' * len(content))})"
        )
        last: tuple[Any, ...] | None = None
        done = 0
        while found := _page(sconn, spec, cols, last, self.batch):
            last = (found[-1][id_at],)
            rows = list(map(_getter(keep), found))
            self._renamed(spec, content, rows)
            self._copy_artifacts(rows, uri_at)

            def step(conn: Connection, rows: list[tuple[Any, ...]] = rows) -> int:
                new = _absent(rows, _lookup_in(conn, spec.name, content, look, rows))
                if new and not self.dry_run:
                    conn.executemany(insert, new)
                return len(new)

            if self.dry_run:
                with self.target._read() as tconn:
                    copied = step(tconn)
            else:
                copied = self.target._write(step)
            out.copied += copied
            out.skipped += len(found) - copied
            done += len(found)
            if self.progress is not None:
                self.progress(spec.name, done, out.source_rows)
        # distinct contents per run, model, pipeline or batch (the first looked-up column),
        # which the target must have at least as many rows of
        seen: Counter[Any] = Counter()
        for group, count in _distinct_per(sconn, spec.name, content, look[0]):
            if spec.name in MODEL_TABLES and look[0] == "name":
                group = self.rename.get(group, group)
            seen[group] += count
        self.groups[spec.name] = (look[0], seen)
        return out

    def _copy_artifacts(self, found: list[tuple[Any, ...]], uri_at: list[int]) -> None:
        for row in found:
            for i in uri_at:
                m = _URI_SHA.match(row[i] or "")
                if m is None or m[1] in self.shas:
                    continue
                sha = m[1]
                self.shas.add(sha)
                if _blob_exists(self.target.artifacts, sha):
                    continue
                size = _blob_size(self.source.artifacts, sha)
                if size is None:
                    self.missing.add(sha)
                    continue
                if not self.dry_run:
                    _copy_blob(self.source.artifacts, self.target.artifacts, sha)
                self.report.artifacts_copied += 1
                self.report.artifact_bytes += size

    def _compare(
        self,
        spec: TableSpec,
        cols: list[str],
        key_at: list[int],
        found: list[tuple[Any, ...]],
        out: TableCopy,
    ) -> int:
        """How many keys of ``found`` the target has. Those whose content differs from the
        source's are counted as conflicts, or replaced by the source's with ``update``."""
        theirs = {
            tuple(r[i] for i in key_at): tuple(r)
            for r in _lookup(self.target, spec, cols, found, key_at)
        }
        differ = []
        ignore = {cols.index(c) for c in _TARGET_KEEPS.get(spec.name, ())}
        for row in found:
            other = theirs.get(tuple(row[i] for i in key_at))
            if other is not None and other != tuple(row):
                if ignore and _without(other, ignore) == _without(row, ignore):
                    continue  # the same experiment or pipeline, seen at another time
                differ.append(row)
        if differ and self.update and not spec.serial:
            if not self.dry_run:
                upsert = self.target.dialect.upsert(spec.name, cols, spec.key)
                self.target._write(lambda c: c.executemany(upsert, differ))
            out.updated += len(differ)
        elif differ:
            out.differing += len(differ)
            if out.first_differing is None:
                out.first_differing = ", ".join(
                    f"{k}={differ[0][i]!r}" for k, i in zip(spec.key, key_at, strict=True)
                )
        return len(theirs)


def _columns(conn: Connection, table: str) -> list[str]:
    return [d[0] for d in conn.execute(f"SELECT * FROM {table} WHERE 1 = 0").description]


def _page(
    conn: Connection,
    spec: TableSpec,
    cols: list[str],
    after: tuple[Any, ...] | None,
    limit: int,
) -> list[tuple[Any, ...]]:
    """The next ``limit`` rows in key order after the key ``after`` (keyset paging: a page
    deep in a million rows costs what the first does)."""
    key = ", ".join(spec.key)
    sql = f"SELECT {', '.join(cols)} FROM {spec.name}"
    args: list[Any] = []
    if after is not None:
        marks = ", ".join("?" * len(after))
        sql += f" WHERE ({key}) > ({marks})" if len(after) > 1 else f" WHERE {key} > ?"
        args += after
    return [tuple(r) for r in conn.execute(f"{sql} ORDER BY {key} LIMIT ?", [*args, limit])]


def _insert(conn: Connection, *, insert: str, found: list[tuple[Any, ...]]) -> int:
    """Insert ``found`` leaving existing keys alone; the number of rows inserted."""
    cur = conn.executemany(insert, found)
    count = getattr(cur, "rowcount", -1)
    # A driver that cannot count says -1: then the batch counts as copied.
    return count if isinstance(count, int) and count >= 0 else len(found)


def _without(row: Sequence[Any], at: set[int]) -> tuple[Any, ...]:
    return tuple(v for i, v in enumerate(row) if i not in at)


def _same(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row's content as a set member: NaN (which a server database stores) equals NaN."""
    return tuple("NaN" if isinstance(v, float) and v != v else v for v in row)


def _absent(rows: list[tuple[Any, ...]], found: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The ``rows`` (each once) whose content is not among ``found``: the target's rows."""
    if not found:  # the usual case of a first copy: compare nothing
        return list(dict.fromkeys(rows))
    theirs = set(found)
    same: set[tuple[Any, ...]] | None = None
    new = []
    for row in rows:
        if row in theirs:  # the usual case of a second copy, at C speed
            continue
        if same is None:
            same = {_same(r) for r in theirs}
        if (key := _same(row)) not in same:
            theirs.add(row)
            same.add(key)
            new.append(row)
    return new


def _getter(at: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The values at ``at`` of a row, as a tuple (even of one)."""
    if len(at) == 1:
        return lambda row: (row[at[0]],)
    return itemgetter(*at)


def _lookup_in(
    conn: Connection,
    table: str,
    cols: list[str],
    look: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> list[tuple[Any, ...]]:
    """The rows of ``table`` (columns ``cols``) having the ``look`` values of ``rows``."""
    keys = list(dict.fromkeys(map(_getter([cols.index(c) for c in look]), rows)))
    match = "(" + " AND ".join(f"{c} = ?" for c in look) + ")"
    out: list[tuple[Any, ...]] = []
    for i in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[i : i + _KEY_CHUNK]
        sql = f"SELECT {', '.join(cols)} FROM {table} WHERE {' OR '.join([match] * len(chunk))}"
        out += [tuple(r) for r in conn.execute(sql, [v for key in chunk for v in key])]
    return out


def _distinct_per(conn: Connection, table: str, cols: list[str], group: str) -> list[Any]:
    """(group, number of distinct contents) of ``table``."""
    sql = (
        f"SELECT {group}, COUNT(*) FROM (SELECT DISTINCT {', '.join(cols)} FROM {table}) d"
        f" GROUP BY {group}"
    )
    return [tuple(r) for r in conn.execute(sql)]


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


def _lookup(
    store: SQLStore,
    spec: TableSpec,
    cols: list[str],
    found: Sequence[tuple[Any, ...]],
    key_at: list[int],
) -> list[tuple[Any, ...]]:
    """The target's rows having the keys of ``found`` (OR of key equalities, in chunks)."""
    match = "(" + " AND ".join(f"{k} = ?" for k in spec.key) + ")"
    out: list[tuple[Any, ...]] = []
    with store._read() as conn:
        for i in range(0, len(found), _KEY_CHUNK):
            chunk = found[i : i + _KEY_CHUNK]
            cond = " OR ".join([match] * len(chunk))
            args = [row[j] for row in chunk for j in key_at]
            sql = f"SELECT {', '.join(cols)} FROM {spec.name} WHERE {cond}"
            out += [tuple(r) for r in conn.execute(sql, args)]
    return out


def _verify(
    target: SQLStore, report: MigrationReport, copier: _Copier, progress: Progress | None
) -> None:
    with target._read() as conn:
        for t in report.tables:
            t.target_rows = conn.execute(f"SELECT COUNT(*) FROM {t.name}").fetchone()[0]
            if t.name in copier.groups:
                group, seen = copier.groups[t.name]
                # the target's rows per group, against the source's distinct contents: the copy
                # never inserts a content twice, and this count reads only the group's index
                sql = f"SELECT {group}, COUNT(*) FROM {t.name} GROUP BY {group}"
                have = {r[0]: r[1] for r in conn.execute(sql)}
                short = sorted((g for g, n in seen.items() if have.get(g, 0) < n), key=repr)
                if short:
                    report.problems.append(
                        f"{t.name}: the target lacks rows of {len(short)} {group}(s) the source "
                        f"has (first: {short[0]!r})"
                    )
            elif t.target_rows < t.source_rows:
                report.problems.append(
                    f"{t.name}: the target has {t.target_rows} rows, the source {t.source_rows}"
                )
    todo = sorted(copier.shas - copier.missing)
    bad = 0
    for n, sha in enumerate(todo, 1):
        got = _blob_sha(target.artifacts, sha)
        if got != sha:
            bad += 1
            if bad <= 3:
                what = "is missing" if got is None else "does not match its sha256"
                report.problems.append(f"artifact {sha[:12]} {what} in the target")
        if progress is not None and (n % 100 == 0 or n == len(todo)):
            progress("verify artifacts", n, len(todo))
    if bad > 3:
        report.problems.append(f"… {bad} artifacts in all are missing or corrupt in the target")
    report.verified = not report.problems


# -- artifacts -----------------------------------------------------------------------------------
# Through the artifact store's local files where it has them (resolve()); an object-store
# backend offers exists(sha) and read_bytes(uri, sha), used when it does. URIs are
# artifacts/<xx>/<sha> for every backend.
def _local(arts: ArtifactStore, sha: str) -> Path | None:
    try:
        path = arts.resolve(arts.uri_for(sha))
    except StoreError:
        return None
    return path if path.is_file() else None


def _blob_exists(arts: ArtifactStore, sha: str) -> bool:
    exists = getattr(arts, "exists", None)
    if exists is not None:
        return bool(exists(sha))
    return _local(arts, sha) is not None


def _read(arts: ArtifactStore, sha: str) -> bytes | None:
    read = getattr(arts, "read_bytes", None)
    if read is None:
        return None
    try:
        return bytes(read(arts.uri_for(sha), sha))
    except (StoreError, OSError):
        return None


def _blob_size(arts: ArtifactStore, sha: str) -> int | None:
    path = _local(arts, sha)
    if path is not None:
        return path.stat().st_size
    data = _read(arts, sha)
    return None if data is None else len(data)


def _copy_blob(src: ArtifactStore, dst: ArtifactStore, sha: str) -> None:
    path = _local(src, sha)
    if path is not None:
        dst.put_file(path)  # hashed on the way: a corrupt source blob lands under its own sha
        return
    data = _read(src, sha)
    if data is not None:
        dst.put_bytes(data)


def _blob_sha(arts: ArtifactStore, sha: str) -> str | None:
    """The sha256 of the blob stored as ``sha`` in ``arts``, re-read; None if missing."""
    path = _local(arts, sha)
    if path is None:
        data = _read(arts, sha) if _blob_exists(arts, sha) else None
        return None if data is None else hashlib.sha256(data).hexdigest()
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


__all__ = [
    "DEFAULT_BATCH",
    "EXCLUDED_TABLES",
    "MigrationReport",
    "TableCopy",
    "TableSpec",
    "migrate_store",
    "schema_tables",
]
