"""Copying a store's tables batch by batch, with the artifacts each batch names (see
:mod:`.migrate` for the rules: insert-ignore on keys, serial logs by content)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from .dialect import Connection
from .migrate_artifacts import blob_exists, blob_size, copy_blob, manifest_chunks
from .migrate_tables import MODEL_TABLES, TableCopy, TableSpec
from .sql import SQLStore

if TYPE_CHECKING:
    from .migrate import MigrationReport

_URI_SHA = re.compile(r"^artifacts/[0-9a-f]{2}/([0-9a-f]{64})$")
_KEY_CHUNK = 200  # keys per lookup: an OR of 200 ANDs stays under SQLite's expression depth
# Rows that differ only in when the store saw them: two stores both have an experiment ``cells``
# (or the same pipeline, same spec, with its schedule); the target keeps its own row, and the
# copy is no conflict.
_TARGET_KEEPS = {
    "experiments": ("created",),
    "pipelines": ("updated",),
    "schedule_state": ("last_fire", "updated"),
}

Progress = Callable[[str, int, int], None]  # (table or phase, done, total)


class Copier:
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
                # a dataset version's chunks before its manifest, as put_frame writes them
                for chunk in manifest_chunks(self.source.artifacts, m[1]):
                    if chunk not in self.shas:
                        self._copy_blob(chunk)
                self._copy_blob(m[1])

    def _copy_blob(self, sha: str) -> None:
        self.shas.add(sha)
        if blob_exists(self.target.artifacts, sha):
            return
        size = blob_size(self.source.artifacts, sha)
        if size is None:
            self.missing.add(sha)
            return
        if not self.dry_run:
            copy_blob(self.source.artifacts, self.target.artifacts, sha)
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
