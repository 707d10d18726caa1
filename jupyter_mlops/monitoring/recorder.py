"""Write-behind for ``mlops.predict``: the batch record is computed and written off the caller's
thread, and shadow versions score the rows off it too.

Why workers of its own rather than the tracking writer (``store/writer.py``): that writer applies
run records (creations and updates, spilled to a journal keyed by run); a scored batch is not a
run record, and most of its cost is not the write but the profiles and the shadows' scoring,
which must leave the caller's thread as well. So one daemon thread runs the recording jobs in
the order they were submitted, and each shadow version has a thread of its own, so that a slow
or hung shadow delays neither the records nor the other shadows.

When a queue is full (policy):

- the record queue holds at most ``MAX_QUEUED_ROWS`` rows (a job always fits an empty queue). A
  caller that finds it full waits at most ``BLOCK_SECONDS`` for room (a loop that outpaces the
  store is slowed to its pace); if there is still none, that batch is not recorded, and the
  number of batches and rows left out is written as a monitor event (``kind="overflow"``) as
  soon as the worker takes its next job: counted and recorded, never dropped silently;
- a shadow's queue holds at most ``SHADOW_QUEUED_ROWS`` rows and never makes the caller wait: a
  batch that does not fit is not scored by that shadow, and the count is recorded
  (``kind="shadow"``, ``status="overflow"``).

``flush()`` waits until everything submitted so far is recorded. Every reader of the monitor
tables calls it first (``store.monitor_store.on_read``), and so does the interpreter's exit. A
shadow still busy after ``SHADOW_WAIT`` seconds is not waited for (a hung model must not hang
the readers): that is recorded (``status="stalled"``), and it is waited for again once it has
finished its job.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..store.monitor_store import on_read

log = logging.getLogger(__name__)

MAX_QUEUED_ROWS = 1_000_000  # rows held by the record queue: bounds the memory of queued batches
BLOCK_SECONDS = 0.5  # how long a caller waits for room in a full record queue
SHADOW_QUEUED_ROWS = 200_000  # rows held by one shadow version's queue
SHADOW_WAIT = 5.0  # how long a flush waits for a busy shadow before passing it over
EXIT_SECONDS = 60.0  # how long the interpreter's exit waits for the records

Job = Callable[[], None]
Report = Callable[[int, int], None]  # (batches, rows) that did not fit: records the overflow

_local = threading.local()  # .worker is True on the workers' own threads


def on_worker_thread() -> bool:
    return getattr(_local, "worker", False)


def _safely(job: Callable[..., None], *args: Any) -> None:
    # A job's failure is its own to record (the jobs catch what they expect); anything else is
    # logged here, so the worker thread never dies and later records still land.
    try:
        job(*args)
    except Exception:
        log.exception("a monitoring record failed")


class Worker:
    """One daemon thread that runs submitted jobs in order from a queue bounded in rows."""

    def __init__(
        self,
        name: str,
        max_rows: int,
        block_seconds: float,
        on_stall: Callable[[Any], None] | None = None,
    ) -> None:
        self.name = name
        self.max_rows = max_rows
        self.block_seconds = block_seconds
        # on_stall(tag of the job being run) when a flush gives up waiting for this worker
        self.on_stall = on_stall
        self.stalled = False
        self._current: Any = None  # the tag of the job being run
        self._cond = threading.Condition()
        self._jobs: deque[tuple[Job, int, Any]] = deque()
        self._rows = 0
        self._busy = False
        self._dropped: dict[Any, list[Any]] = {}  # overflow key -> [batches, rows, report]
        self._thread: threading.Thread | None = None

    def submit(self, job: Job, rows: int, key: Any, report: Report, tag: Any = None) -> bool:
        """Queue ``job`` (weighing ``rows``; ``tag`` says what it is to ``on_stall``); False if
        it did not fit (then counted under ``key``, and ``report(batches, rows)`` is run by the
        worker)."""
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            deadline = time.monotonic() + self.block_seconds
            while self._jobs and self._rows + rows > self.max_rows:
                left = deadline - time.monotonic()
                if left <= 0:
                    entry = self._dropped.setdefault(key, [0, 0, report])
                    entry[0] += 1
                    entry[1] += rows
                    self._cond.notify_all()
                    return False
                self._cond.wait(left)
            self._jobs.append((job, rows, tag))
            self._rows += rows
            self._cond.notify_all()
            return True

    def _run(self) -> None:
        _local.worker = True
        while True:
            with self._cond:
                while not self._jobs and not self._dropped:
                    self._cond.wait()
                dropped, self._dropped = self._dropped, {}
                job = None
                if self._jobs:
                    job, rows, self._current = self._jobs.popleft()
                    self._rows -= rows
                self._busy = True
                self._cond.notify_all()  # a caller waiting for room
            for batches, rows, report in dropped.values():
                _safely(report, batches, rows)
            if job is not None:
                _safely(job)
            with self._cond:
                self._busy = self.stalled = False
                self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the queue is empty and the worker idle; False if ``timeout`` passed
        (then the worker is marked stalled, and ``on_stall`` told, once per job)."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._jobs or self._busy or self._dropped:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    newly = self._busy and not self.stalled
                    self.stalled = self.stalled or self._busy
                    tag = self._current
                    break
                self._cond.wait(left)
            else:
                return True
        if newly:
            log.warning("%s is still busy after %gs; not waiting for it", self.name, timeout)
            if self.on_stall is not None:
                _safely(self.on_stall, tag)
        return False


_RECORDER: Worker | None = None
_SHADOWS: dict[Any, Worker] = {}  # (store location, name, version) -> that shadow's worker
_GUARD = threading.Lock()


def recorder() -> Worker:
    """The process's record worker (started on first use)."""
    global _RECORDER
    with _GUARD:
        if _RECORDER is None:
            _RECORDER = Worker("mlops-monitor-recorder", MAX_QUEUED_ROWS, BLOCK_SECONDS)
        return _RECORDER


def shadow_worker(key: Any, on_stall: Callable[[Any], None]) -> Worker:
    """The worker that scores batches with the shadow version ``key``."""
    with _GUARD:
        if key not in _SHADOWS:
            name = f"mlops-shadow-{key[1]}@{key[2]}"
            _SHADOWS[key] = Worker(name, SHADOW_QUEUED_ROWS, 0.0, on_stall)
        return _SHADOWS[key]


def flush(timeout: float | None = None) -> bool:
    """Wait until every batch ``predict`` scored so far in this process is recorded, shadow
    scores included; True when all landed. A shadow still busy after ``SHADOW_WAIT`` seconds
    is not waited for longer (that is recorded): its scores land once it finishes."""
    return _flush(timeout, pass_stalled=False)


def _flush(timeout: float | None, pass_stalled: bool) -> bool:
    if on_worker_thread():  # a worker's own reads must not wait for itself
        return True
    done = _RECORDER is None or _RECORDER.flush(timeout)
    # after the recorder: its jobs are what hand batches to the shadows
    wait = SHADOW_WAIT if timeout is None else min(timeout, SHADOW_WAIT)
    for worker in list(_SHADOWS.values()):
        if (pass_stalled and worker.stalled) or not worker.flush(wait):
            done = False
    return done


def _settle(location: str) -> None:
    # A reader passes over a shadow already found stalled: one hung model must not make every
    # read of the monitor tables wait SHADOW_WAIT.
    _flush(None, pass_stalled=True)


def _at_exit() -> None:
    if not flush(EXIT_SECONDS):
        log.error("some monitoring records were not written before exit (see the log above)")


def _reset_in_child() -> None:
    # A forked child has none of the parent's threads: it starts its own workers when needed.
    global _RECORDER
    _RECORDER = None
    _SHADOWS.clear()


on_read(_settle)
atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_in_child)
