"""The background writer's spill journal: records that did not fit its bounded queue, kept in an
append-only file under the store (``<store>/journal/<id>.jsonl``) until they are written.

Why a file and not a bigger queue: memory must stay bounded however fast a loop logs, and a
record handed to the writer must never be dropped. The file is JSON lines, one writer record
each (never pickle: the store's folder is read back at every open, by any process). The first
line names the store it belongs to, so a journal is only ever replayed into its own store.

Never twice: every batch replayed from a journal is written in the same transaction as the
journal's mark (table ``journal_marks``: how far the journal has been written), so a replay
that dies half-way resumes after the last committed batch, and a batch is never written twice.

Who replays: the writer that spilled, as soon as its queue is empty; if its process died first,
the next process to open the store (:func:`replay_journals`). The owner holds an exclusive
``flock`` on its journal while it lives, which the kernel releases when the process dies, so a
live writer's journal is never replayed by anyone else.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..codec import dumps, from_jsonable
from ..entities import Artifact, DataRef, Environment, GitState, RunKind, RunStatus
from ..exceptions import StoreError, StoreUnavailableError
from .base import RunStart, RunUpdate
from .liveness import hostname

if TYPE_CHECKING:
    from .base import RunsStore

log = logging.getLogger(__name__)

REPLAY_BATCH_ITEMS = 50_000  # records per replayed transaction: bounds memory and lock time
SUFFIX = ".jsonl"


# -- records as JSON ----------------------------------------------------------------------------
def encode_record(
    seq: int,
    run_id: str,
    start: RunStart | None,
    update: RunUpdate | None,
    final: bool,
    report: bool,
) -> bytes:
    rec: dict[str, Any] = {"seq": seq, "run": run_id, "final": final, "report": report}
    if start is not None:
        rec["start"] = {**start.__dict__, "kind": start.kind.value}
    if update is not None:
        u = update
        rec["update"] = {
            "params": u.params,
            "metrics": u.metrics,
            "tags": u.tags,
            "data": u.data,
            "artifacts": u.artifacts,
            "code": u.code,
            "code_sha": u.code_sha,
            "history": u.history,
            "environment": u.environment,
            "git": u.git,
            "warnings": u.warnings,
            "status": u.status.value if u.status else None,
            "ended": u.ended,
            "duration": u.duration,
            "peak_memory": u.peak_memory,
            "error": u.error,
            "stdout_tail": u.stdout_tail,
        }
    return dumps(rec, separators=(",", ":")).encode() + b"\n"


def decode_record(line: bytes) -> dict[str, Any]:
    """``{seq, run, final, report, start: RunStart | None, update: RunUpdate | None}``."""
    rec = json.loads(line)
    start = rec.get("start")
    if start is not None:
        rec["start"] = RunStart(**{**start, "kind": RunKind(start["kind"])})
    u = rec.get("update")
    if u is not None:
        env, git, status = u["environment"], u["git"], u["status"]
        rec["update"] = RunUpdate(
            params=u["params"],
            metrics=[tuple(m) for m in u["metrics"]],
            tags=u["tags"],
            data=from_jsonable(u["data"], list[DataRef]),
            artifacts=from_jsonable(u["artifacts"], list[Artifact]),
            code=u["code"],
            code_sha=u["code_sha"],
            history=u["history"],
            environment=Environment(**env) if env else None,
            git=GitState(**git) if git else None,
            warnings=u["warnings"],
            status=RunStatus(status) if status else None,
            ended=u["ended"],
            duration=u["duration"],
            peak_memory=u["peak_memory"],
            error=u["error"],
            stdout_tail=u["stdout_tail"],
        )
    return dict(rec)


def record_weight(update: RunUpdate | None) -> int:
    """What a record costs in memory, in rows (the writer's queue is bounded by this)."""
    if update is None:
        return 1
    return 1 + len(update.metrics) + len(update.params) + len(update.tags) + len(update.data)


# -- one journal file ---------------------------------------------------------------------------
def journal_dir(store: RunsStore) -> Path:
    return Path(store.workdir) / "journal"


class Journal:
    """One spill episode's file, owned (locked) by the writer that appends to it."""

    def __init__(self, store: RunsStore) -> None:
        folder = journal_dir(store)
        folder.mkdir(parents=True, exist_ok=True)
        self.name = f"{hostname()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.path = folder / (self.name + SUFFIX)
        self.pid = os.getpid()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel if this process dies
        self._out = os.fdopen(fd, "ab", buffering=0)
        self._in = self.path.open("rb")
        header = json.dumps({"journal": 1, "store": store.location}).encode() + b"\n"
        self._out.write(header)
        self.written = self.read = len(header)  # byte offsets: appended, taken by the writer
        self.records = self.taken = 0  # counts of the same

    def append(self, record: bytes) -> None:
        """One record, in one write: a process killed mid-record leaves a partial last line,
        which a replay ignores (its caller had not got past logging it)."""
        self._out.write(record)
        self.written += len(record)
        self.records += 1

    def take(self, max_items: int) -> list[tuple[dict[str, Any], int]]:
        """Records appended but not yet taken, up to about ``max_items`` rows, each with the
        offset just after it (the mark to store with it)."""
        out: list[tuple[dict[str, Any], int]] = []
        items = 0
        self._in.seek(self.read)
        while self.read < self.written and items < max_items:
            line = self._in.readline()
            self.read += len(line)
            rec = decode_record(line)
            items += record_weight(rec.get("update"))
            out.append((rec, self.read))
        self.taken += len(out)
        return out

    @property
    def drained(self) -> bool:
        return self.read >= self.written

    def close(self) -> None:
        """Let go of the file (and its lock) with records still in it: for the next open."""
        self._in.close()
        self._out.close()

    def retire(self, store: RunsStore) -> None:
        """Delete the file (everything in it was taken), then its mark: a crash in between
        leaves a mark without a file, never a file replayed from the start."""
        self._in.close()
        self.path.unlink(missing_ok=True)
        self._out.close()  # the lock goes with it
        with contextlib.suppress(StoreError):
            store.forget_journal_mark(self.name)


# -- replay at open -----------------------------------------------------------------------------
def replay_journals(store: RunsStore) -> int:
    """Write the records of every journal of ``store`` whose writer is gone (a process that
    died before its writer caught up); returns how many records were written."""
    folder = journal_dir(store)
    if not folder.is_dir():
        return 0
    total = 0
    for path in sorted(folder.glob("*" + SUFFIX)):
        try:
            total += _replay_one(store, path)
        except (OSError, StoreError, ValueError) as e:  # kept for the next open
            log.warning("could not replay the journal %s: %s", path, e)
    return total


def _replay_one(store: RunsStore, path: Path) -> int:
    with path.open("rb") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # its writer is alive and replays it itself
        header = json.loads(f.readline() or b"{}")
        if header.get("store") != store.location:
            return 0  # another store's (the same folder serves a team store too)
        name = path.name.removesuffix(SUFFIX)
        f.seek(max(f.tell(), store.journal_mark(name) or 0))
        known: dict[str, bool] = {}
        written = 0
        for batch in _batches(f):
            writes = [_write_of(rec, store, known) for rec, _mark in batch]
            try:
                store.write_batch([w for w in writes if w], journal_mark=(name, batch[-1][1]))
            except StoreUnavailableError:
                raise  # the store is down: the next open tries again
            except Exception:  # one record the store refuses: the others still go in
                for (rec, mark), w in zip(batch, writes, strict=True):
                    try:
                        store.write_batch([w] if w else [], journal_mark=(name, mark))
                    except StoreUnavailableError:
                        raise
                    except Exception as e:
                        log.warning(
                            "journal %s: a record of run %s was refused: %s",
                            name,
                            rec["run"][:8],
                            e,
                        )
                        store.write_batch([], journal_mark=(name, mark))
            written += len(batch)
        path.unlink()
    with contextlib.suppress(StoreError):
        store.forget_journal_mark(name)
    if written:
        log.info("replayed %d record(s) from the journal %s", written, path.name)
    return written


def _write_of(
    rec: dict[str, Any], store: RunsStore, known: dict[str, bool]
) -> RunStart | tuple[str, RunUpdate] | None:
    """What to write for a record: None for a run the store does not have (its creation was
    still queued in memory when the process died, so the run was never recorded)."""
    rid = rec["run"]
    if rec.get("start") is not None:
        known[rid] = True
        return rec["start"]
    if rid not in known:
        try:
            store.get_run(rid)
            known[rid] = True
        except LookupError:
            known[rid] = False
            log.warning("journal: run %s was never recorded; its later records are dropped", rid)
    return (rid, rec["update"]) if known[rid] else None


def _batches(f: Any) -> Iterator[list[tuple[dict[str, Any], int]]]:
    batch: list[tuple[dict[str, Any], int]] = []
    items = 0
    while True:
        line = f.readline()
        if not line.endswith(b"\n"):  # the end, or a record cut by a kill: never taken
            break
        rec = decode_record(line)
        batch.append((rec, f.tell()))
        items += record_weight(rec.get("update"))
        if items >= REPLAY_BATCH_ITEMS:
            yield batch
            batch, items = [], 0
    if batch:
        yield batch


__all__ = ["Journal", "decode_record", "encode_record", "record_weight", "replay_journals"]
