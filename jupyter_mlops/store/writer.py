"""Write-behind for run records: one daemon thread per store applies run creations and updates in
the order they were submitted, coalescing whatever is queued into one transaction.

Why: nothing may stand between a data scientist and the next cell. Another process holding
SQLite's write lock (the scheduler, a pipeline registering its model, a gc) or, later, a remote
store's round-trips would otherwise add to every tracked cell. Callers that need durability wait
for it explicitly (:meth:`StoreWriter.wait`); failures are kept per run and handed back to the
caller to report, so nothing ever surfaces as a thread traceback.

Failure rules, which keep a run honest and never half-written:

- a run whose creation failed is not recorded, and later records for it are dropped;
- a failed intermediate update is carried into the run's next update, so no data is skipped;
- a failed final update leaves the row ``running``; a closing record (status, times, "details
  not recorded") is retried in front of every later batch, and if the process dies first the
  liveness sweep marks the row ``interrupted`` the next time the store is opened.

The queue is bounded (``MAX_QUEUED_ITEMS`` rows: metric rows, params, tags, data), so a loop
logging faster than the store writes, or a store locked for minutes, cannot grow memory without
bound. When a record does not fit:

1. the caller blocks, at most ``BLOCK_SECONDS``, until the writer takes a batch and frees room
   (a loop that outpaces the store is slowed to the store's pace: backpressure);
2. if there is still no room, the record is spilled to an append-only journal file under the
   store (``<store>/journal/``, see ``journal.py``), and so is every later record until the
   writer has caught up, so the store still receives them in submission order;
3. the writer replays the journal once its queue is empty, each batch in one transaction with
   the journal's mark, then deletes it; if the process dies first, the next open of the store
   replays it. Never dropped silently, never written twice.

:class:`RunImage` folds the same records the way the store does, so a front-end can show a run
as it will be stored without reading it back.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..codec import to_jsonable, utc
from ..entities import Artifact, DataRef, GitState, Run, RunStatus
from ..exceptions import StoreError
from .base import RunStart, RunStore, RunUpdate
from .journal import REPLAY_BATCH_ITEMS, Journal, encode_record, record_weight
from .rows import supersedes

log = logging.getLogger(__name__)

MAX_BATCH = 1000  # operations per transaction: bounds one transaction's size and lock time
IDLE_SECONDS = 5.0  # an idle writer thread exits (and closes its connection) after this
DEFAULT_EXIT_TIMEOUT = 10.0
# The queue's bound, in rows (metric rows, params, tags, data; see record_weight): about 15 MB
# of metric rows. A record always fits an empty queue, so the bound is this plus one record.
MAX_QUEUED_ITEMS = 100_000
BLOCK_SECONDS = 0.5  # how long a caller waits for room in a full queue before spilling


@dataclass
class _Op:
    run_id: str
    start: RunStart | None = None
    update: RunUpdate | None = None
    final: bool = False  # the run's last update (status, end time)
    report: bool = True  # a failure is the user's business (a late git state is not)
    seq: int = 0
    weight: int = 1  # rows it holds (record_weight)
    mark: int | None = None  # read from the spill journal: the offset just after it


def _reason(e: BaseException) -> str:
    return str(e) if isinstance(e, StoreError) else f"{type(e).__name__}: {e}"


class StoreWriter:
    """Applies run records to ``store`` on a background thread; see the module docstring."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.exit_timeout = DEFAULT_EXIT_TIMEOUT
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # the writer thread waits for work
        self._progress = threading.Condition(self._lock)  # callers wait for the writer
        self._queue: deque[_Op] = deque()
        self._inflight: list[_Op] = []
        self._submitted = 0
        self._done = 0
        self._busy = False  # the current batch found the store locked by another writer
        self._stopping = False  # stop() asked an idle thread to end now
        self._thread: threading.Thread | None = None
        self._carry: dict[str, RunUpdate] = {}  # failed intermediate updates, per run
        self._unclosed: dict[str, RunUpdate] = {}  # closing records of runs whose end failed
        self._lost: dict[str, str] = {}  # runs whose creation failed -> why
        self._errors: dict[str, tuple[str, bool]] = {}  # unreported: run -> (why, final)
        self.max_queued = MAX_QUEUED_ITEMS
        self.block_seconds = BLOCK_SECONDS
        self._queued = 0  # rows in _queue
        self._room = threading.Condition(self._lock)  # callers wait for room in the queue
        self._journal: Journal | None = None  # spilling: every new record goes there, in order
        self.spilled = 0  # records spilled to a journal so far (for tests and benchmarks)

    # -- submitting and waiting -----------------------------------------------------------------
    def create(self, start: RunStart) -> int:
        """Queue the creation of a run; returns a ticket for :meth:`wait`."""
        return self._submit(_Op(start.id, start=start))

    def update(
        self, run_id: str, update: RunUpdate, *, final: bool = False, report: bool = True
    ) -> int:
        """Queue an update of a run (``final``: its end); returns a ticket for :meth:`wait`."""
        return self._submit(_Op(run_id, update=update, final=final, report=report))

    def _submit(self, op: _Op) -> int:
        op.weight = record_weight(op.update)
        with self._lock:
            if self._journal is not None and self._journal.pid != os.getpid():
                self._journal = None  # a forked child: the journal is its parent's
            if self._journal is None and not self._has_room(op.weight):
                # Full: give the writer a moment to take a batch (the caller is logging
                # faster than the store writes), then spill rather than grow.
                self._ensure_thread()
                deadline = time.monotonic() + self.block_seconds
                while not self._has_room(op.weight) and (left := deadline - time.monotonic()) > 0:
                    self._room.wait(left)
            self._submitted += 1
            op.seq = self._submitted
            if self._journal is None and self._has_room(op.weight):
                self._queue.append(op)
                self._queued += op.weight
            else:
                self._spill(op)
            self._work.notify()
            self._ensure_thread()
            return op.seq

    def _has_room(self, weight: int) -> bool:
        return not self._queue or self._queued + weight <= self.max_queued

    def _spill(self, op: _Op) -> None:
        """Append ``op`` to the journal (opened on the first spill); once spilling, every later
        record goes there too, so the store still gets them in submission order."""
        if self._journal is None:
            self._journal = Journal(self.store)
            log.info("writer queue full: spilling to %s", self._journal.path)
        self._journal.append(
            encode_record(op.seq, op.run_id, op.start, op.update, op.final, op.report)
        )
        self.spilled += 1

    def _ensure_thread(self) -> None:
        # A forked child inherits this object but not the thread; an idle thread has exited.
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._loop, daemon=True, name="jupyter-mlops-writer")
        self._thread.start()

    def wait(
        self, ticket: int | None = None, timeout: float | None = None, *, until_busy: bool = False
    ) -> bool:
        """Wait until the operation ``ticket`` (default: all submitted so far) was applied or
        failed. False when ``timeout`` passed first or, with ``until_busy``, as soon as the store
        is found locked by another writer: a caller that must not be held up by contention."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            target = self._submitted if ticket is None else ticket
            while self._done < target:
                if until_busy and self._busy:
                    return False
                if self._queue and not self._inflight:
                    try:
                        self._ensure_thread()
                    except RuntimeError:  # interpreter shutting down: no new threads
                        return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._progress.wait(remaining)
            return True

    @property
    def busy(self) -> bool:
        """True while the store refuses the current batch because another writer holds it."""
        return self._busy

    @property
    def pending(self) -> int:
        """Operations submitted but not yet applied or failed."""
        with self._lock:
            return self._submitted - self._done

    # -- failures -------------------------------------------------------------------------------
    def take_error(self, run_id: str) -> str | None:
        """Why records of ``run_id`` could not be written (reported once), else None."""
        with self._lock:
            found = self._errors.pop(run_id, None)
        return found[0] if found else None

    def take_errors(self) -> dict[str, str]:
        """Every unreported failure, run id -> why; each is handed out once."""
        with self._lock:
            errors, self._errors = self._errors, {}
        return {rid: why for rid, (why, _final) in errors.items()}

    def journal_left(self) -> tuple[Path, int] | None:
        """The spill journal still holding records not written yet, and how many; None when
        there is none (what the next open of the store replays, should the process end now)."""
        with self._lock:
            j = self._journal
            if j is None or j.drained:
                return None
            return j.path, j.records - j.taken

    def unwritten(self) -> list[str]:
        """Runs with records still queued or being written (in submission order)."""
        with self._lock:
            ops = [*self._inflight, *self._queue]
        return list(dict.fromkeys(op.run_id for op in ops if op.report))

    # -- the writer thread ------------------------------------------------------------------------
    def stop(self, timeout: float | None = None) -> None:
        """Let the writer thread end now if it has nothing left to write (it would after
        ``IDLE_SECONDS``), and wait for it; a later submission starts a new one."""
        with self._lock:
            thread = self._thread
            self._stopping = True
            self._work.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            journal = self._journal
            if journal is not None and (thread is None or not thread.is_alive()):
                # Unlocked and left in place: the next open of the store writes the rest.
                self._journal = None
                journal.close()

    def _loop(self) -> None:
        try:
            self._serve()
        finally:
            self.store.release_thread()

    def _serve(self) -> None:
        while True:
            with self._lock:
                journal = self._journal
                if not self._queue and journal is None:
                    if not self._stopping:
                        self._work.wait(IDLE_SECONDS)
                    if not self._queue and self._journal is None:
                        self._stopping = False
                        if self._thread is threading.current_thread():
                            self._thread = None
                        return
                    continue
                if self._queue:  # older than anything in the journal
                    n = min(len(self._queue), MAX_BATCH)
                    batch = self._inflight = [self._queue.popleft() for _ in range(n)]
                    self._queued -= sum(op.weight for op in batch)
                    self._room.notify_all()
                elif journal is not None and journal.drained:
                    self._journal = None  # all of it written: back to the queue
                    batch = []
                else:
                    assert journal is not None
                    batch = self._inflight = self._from_journal(journal)
            if not batch:
                if journal is not None:
                    journal.retire(self.store)
                continue
            try:
                self._apply(batch)
            except Exception:  # a bug here must not kill the thread and strand every waiter
                log.exception("jupyter-mlops writer failed on a batch")
                with self._lock:
                    for op in batch:
                        self._errors.setdefault(op.run_id, ("internal error in writer", True))
            with self._lock:
                self._inflight = []
                self._done = batch[-1].seq
                self._busy = False
                self._progress.notify_all()

    def _from_journal(self, journal: Journal) -> list[_Op]:
        """The next records of the journal as operations (under the lock: appends go on)."""
        return [
            _Op(
                rec["run"],
                start=rec.get("start"),
                update=rec.get("update"),
                final=rec["final"],
                report=rec["report"],
                seq=rec["seq"],
                mark=mark,
            )
            for rec, mark in journal.take(REPLAY_BATCH_ITEMS)
        ]

    def _on_busy(self) -> None:
        with self._lock:
            if not self._busy:
                self._busy = True
                self._progress.notify_all()

    def _apply(self, batch: list[_Op]) -> None:
        with self._lock:
            ops = [op for op in batch if op.run_id not in self._lost]
            closing = dict(self._unclosed)
            writes: list[RunStart | tuple[str, RunUpdate]] = list(closing.items())
            carried: set[str] = set()
            for op in ops:
                if op.start is not None:
                    writes.append(op.start)
                    continue
                assert op.update is not None
                update = op.update
                if op.run_id in self._carry and op.run_id not in carried:
                    carried.add(op.run_id)
                    update = RunUpdate().merge(self._carry[op.run_id]).merge(update)
                writes.append((op.run_id, update))
        marks = [op.mark for op in batch if op.mark is not None]
        journal_mark = None
        if marks and self._journal is not None:
            journal_mark = (self._journal.name, marks[-1])
        try:
            if journal_mark is None:
                self.store.write_batch(writes, on_busy=self._on_busy)
            else:
                self.store.write_batch(writes, on_busy=self._on_busy, journal_mark=journal_mark)
        except Exception as e:
            if not isinstance(e, StoreError) and len(ops) > 1:
                # Not the store's fault (a value it cannot take): isolate the one record.
                for op in ops:
                    self._apply([op])
                return
            with self._lock:
                for op in ops:
                    self._failed(op, _reason(e))
            return
        with self._lock:
            for rid in closing:
                self._unclosed.pop(rid, None)
            for rid in carried:
                self._carry.pop(rid, None)
            for op in ops:  # a later write that succeeded supersedes a carried failure
                if op.run_id in self._errors and not self._errors[op.run_id][1]:
                    del self._errors[op.run_id]

    def _failed(self, op: _Op, why: str) -> None:
        rid = op.run_id
        if not op.report:
            log.warning("could not record details of run %s: %s", rid[:8], why)
            return
        if op.start is not None:
            self._lost[rid] = why
            self._errors[rid] = (why, True)
            return
        assert op.update is not None
        if op.final:
            u = op.update
            self._carry.pop(rid, None)
            # The row says 'running' while this process lives on: close it honestly at the next
            # write that succeeds (the details are lost).
            self._unclosed[rid] = RunUpdate(
                status=u.status,
                ended=u.ended,
                duration=u.duration,
                error=f"{u.error + chr(10) if u.error else ''}details not recorded: {why}",
            )
            self._errors[rid] = (why, True)
            return
        if rid in self._carry:  # it was part of this write: add the new records to it
            self._carry[rid].merge(op.update)
        else:
            self._carry[rid] = op.update
        self._errors.setdefault(rid, (f"{why}; kept for the run's next write", False))


_registry_lock = threading.Lock()
_writers: weakref.WeakSet[StoreWriter] = weakref.WeakSet()
_ATTR = "_jupyter_mlops_writer"


def writer_for(store: RunStore) -> StoreWriter:
    """The one writer of ``store`` in this process (created on first use)."""
    writer: StoreWriter | None = getattr(store, _ATTR, None)
    if writer is not None:
        return writer
    with _registry_lock:
        writer = getattr(store, _ATTR, None)
        if writer is None:
            writer = StoreWriter(store)
            setattr(store, _ATTR, writer)
            _writers.add(writer)
        return writer


def existing_writer(store: RunStore) -> StoreWriter | None:
    return getattr(store, _ATTR, None)


def all_writers() -> list[StoreWriter]:
    with _registry_lock:
        return list(_writers)


# -- the run as it will be stored -------------------------------------------------------------


def _as_stored(value: Any) -> Any:
    """A param value as reading it back from the store gives it (tuples become lists …)."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    return to_jsonable(value, fallback=str)


@dataclass
class RunImage:
    """A run folded from its start and every update, by the store's own rules: one value per
    param/tag key and per data (role, name) and artifact name, the last one winning; the latest
    metric is the highest step, then the newest time; listed in the order the store lists them."""

    start: RunStart
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # step, t, value
    tags: dict[str, str] = field(default_factory=dict)
    data: dict[tuple[str, str], DataRef] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    code: str | None = None
    code_sha: str | None = None
    history: list[str] | None = None
    environment_id: str | None = None
    git: GitState | None = None
    peak_memory: int | None = None
    stdout_tail: str | None = None
    status: RunStatus = RunStatus.RUNNING
    ended: float | None = None
    duration: float | None = None
    error: str | None = None

    def fold(self, u: RunUpdate, code_texts: dict[str, str] | None = None) -> None:
        self.params.update({k: _as_stored(v) for k, v in u.params.items()})
        for key, value, step, t in u.metrics:
            old = self.metrics.get(key)
            if supersedes((step, t), None if old is None else old[:2]):
                self.metrics[key] = (step, t, value)
        self.tags.update({k: str(v) for k, v in u.tags.items()})
        for d in u.data:
            self.data[(d.role.value, d.name)] = d
        for a in u.artifacts:
            self.artifacts[a.name] = a
        if u.warnings:
            self.warnings += [w for w in u.warnings if w not in self.warnings]
        if u.code_sha is not None:
            self.code_sha = u.code_sha
            texts = {**(code_texts or {}), **u.code}
            self.code = texts.get(u.code_sha, self.code)
        if u.history is not None:
            self.history = list(u.history)
        if u.environment is not None:
            self.environment_id = u.environment.id
        for name in ("git", "peak_memory", "stdout_tail"):
            if getattr(u, name) is not None:
                setattr(self, name, getattr(u, name))
        if u.status is not None:
            self.status, self.ended, self.duration, self.error = (
                u.status,
                u.ended,
                u.duration,
                u.error,
            )

    def copy(self) -> RunImage:
        return replace(
            self,
            params=dict(self.params),
            metrics=dict(self.metrics),
            tags=dict(self.tags),
            data=dict(self.data),
            artifacts=dict(self.artifacts),
            warnings=list(self.warnings),
        )

    def to_run(self) -> Run:
        s = self.start
        return Run(
            id=s.id,
            experiment=s.experiment,
            status=self.status,
            kind=s.kind,
            started=utc(s.started),
            name=s.name,
            parent_id=s.parent_id,
            ended=utc(self.ended),
            duration=self.duration,
            seed=s.seed,
            notebook=s.notebook,
            execution_count=s.execution_count,
            code=self.code,
            history=tuple(self.history or ()),
            peak_memory=self.peak_memory,
            git=self.git or GitState(),
            environment_id=self.environment_id,
            error=self.error,
            stdout_tail=self.stdout_tail,
            host=s.host,
            pid=s.pid,
            params=dict(sorted(self.params.items())),
            metrics={k: float(v[2]) for k, v in sorted(self.metrics.items())},
            tags=dict(sorted(self.tags.items())),
            data=tuple(v for _k, v in sorted(self.data.items())),
            artifacts=tuple(v for _k, v in sorted(self.artifacts.items())),
            warnings=tuple(self.warnings),
        )


__all__ = ["RunImage", "StoreWriter", "all_writers", "existing_writer", "writer_for"]
