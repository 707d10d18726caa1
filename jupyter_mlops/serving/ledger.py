"""What a server process answered and what of it was recorded, per model, in a file that
outlives the process: after a ``kill -9`` the next server to start counts the difference as lost.

Each serving process keeps one ledger, ``<workdir>/serve/ledgers/PID-STARTED-N.ledger`` (the pid
and the process's start time in milliseconds: a reused pid is a different process), memory-mapped
(``mmap``, a shared mapping of the file). A request's batches are counted as *answered* just
before its response goes out, and as *settled* when their record lands, or is counted lost
already (store down, queue full: ``mlops_serve_records_lost_total{why="store"|"queue"}``). A write
to a shared mapping is in the page cache at once, so it survives the process being killed; a
machine crash (power loss, kernel panic) before the kernel writes the page back is NOT covered.

On start, :func:`recover` claims the ledgers of processes that are gone (an atomic ``rename``:
of two servers starting at once, one claims a ledger), records for each model with answered >
settled a monitor event of kind ``lost`` (detail: batches, rows, the dead process, the ledger)
and counts it in ``/metrics`` (``why="killed"``), then removes the ledger. A claimer killed in
the middle leaves its claim to the next start, which skips the models whose event exists.

Counts are exact up to the kill's own race: a response written but not yet read by the client
when the process died, and a record committed but not yet counted, are both counted lost.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import mmap
import os
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from ..store.base import MonitorEvent, RunStore

log = logging.getLogger(__name__)

MAGIC = b"MLOPSLG1"
SLOT = 4096  # a page: 4 counters, the name's length, the name (model names are <= 1000 chars)
SLOTS = 256  # models one process counts; the file is sparse: only used pages take disk
_COUNTERS = struct.Struct("<4q")  # answered batches, answered rows, settled batches, rows
_LENGTH = struct.Struct("<I")
_NAME_AT = _COUNTERS.size + _LENGTH.size
SIZE = len(MAGIC) + SLOT * SLOTS
SUFFIX = ".ledger"
_SEQ = itertools.count()  # two servers in one process (a notebook, tests) keep two ledgers


def folder(store: RunStore) -> Path:
    return store.workdir / "serve" / "ledgers"


def _started(pid: int) -> int | None:
    """Process ``pid``'s start time in milliseconds; None when there is no such process."""
    try:
        return round(psutil.Process(pid).create_time() * 1000)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


@dataclass(frozen=True)
class Loss:
    """What one dead process answered for one model and never recorded."""

    name: str
    batches: int
    rows: int


class Ledger:
    """This process's ledger: thread-safe; an update is a few packed integers in a mapping."""

    def __init__(self, directory: Path, pid: int | None = None) -> None:
        pid = os.getpid() if pid is None else pid
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{pid}-{_started(pid) or 0}-{next(_SEQ)}{SUFFIX}"
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, SIZE)
            self._map = mmap.mmap(fd, SIZE, mmap.MAP_SHARED)
        finally:
            os.close(fd)
        self._map[: len(MAGIC)] = MAGIC
        self._lock = threading.Lock()
        self._slots: dict[str, tuple[int, list[int]]] = {}
        self._full = False

    def _slot(self, name: str) -> tuple[int, list[int]] | None:
        found = self._slots.get(name)
        if found is not None or self._full:
            return found
        raw = name.encode()[: SLOT - _NAME_AT]
        if len(self._slots) >= SLOTS:
            self._full = True
            log.warning("the serve ledger counts %d models at most; %s is not counted", SLOTS, name)
            return None
        at = len(MAGIC) + SLOT * len(self._slots)
        self._map[at + _NAME_AT : at + _NAME_AT + len(raw)] = raw
        _LENGTH.pack_into(self._map, at + _COUNTERS.size, len(raw))  # last: the slot is whole
        found = self._slots[name] = (at, [0, 0, 0, 0])
        return found

    def _add(self, name: str, first: int, batches: int, rows: int) -> None:
        with self._lock:
            slot = self._slot(name)
            if slot is None:
                return
            at, counts = slot
            counts[first] += batches
            counts[first + 1] += rows
            _COUNTERS.pack_into(self._map, at, *counts)

    def answered(self, name: str, batches: int, rows: int) -> None:
        self._add(name, 0, batches, rows)

    def settled(self, name: str, batches: int, rows: int) -> None:
        """Recorded, or counted lost already (store down, queue full)."""
        self._add(name, 2, batches, rows)

    def pending(self) -> list[Loss]:
        with self._lock:
            return _losses(bytes(self._map))

    def close(self) -> None:
        """Unmap; the file is removed when everything answered was settled, else left for the
        next start to count."""
        with self._lock:
            left = _losses(bytes(self._map))
            self._map.close()
            self._slots.clear()
            self._full = True
        if not left:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _losses(data: bytes) -> list[Loss]:
    if not data.startswith(MAGIC):
        return []
    out = []
    for i in range(SLOTS):
        at = len(MAGIC) + SLOT * i
        if at + SLOT > len(data):
            break
        (length,) = _LENGTH.unpack_from(data, at + _COUNTERS.size)
        if length == 0:
            break  # slots are taken in order
        name = data[at + _NAME_AT : at + _NAME_AT + length].decode(errors="replace")
        ab, ar, sb, sr = _COUNTERS.unpack_from(data, at)
        if ab > sb:
            out.append(Loss(name, ab - sb, max(ar - sr, 0)))
    return out


def _owner(path: Path) -> tuple[int, int] | None:
    """(pid, start ms) of a ledger, or of the claimer of a claimed one (``….claimed-PID-MS``)."""
    text = path.name.rsplit(".claimed-", 1)[-1] if ".claimed-" in path.name else path.stem
    pid, _, started = text.removesuffix(SUFFIX).partition("-")
    started = started.split("-", 1)[0]
    if not (pid.isdigit() and started.isdigit()):
        return None
    return int(pid), int(started)


def _alive(owner: tuple[int, int]) -> bool:
    pid, started = owner
    try:
        now = round(psutil.Process(pid).create_time() * 1000)
    except psutil.AccessDenied:
        return True  # another user's process: never taken for dead
    except psutil.NoSuchProcess:  # zombies included: they serve nothing
        return False
    return started == 0 or abs(now - started) <= 1


def claim(directory: Path, me: int | None = None) -> Iterator[tuple[Path, str]]:
    """The ledgers of processes that are gone (and claims their dead claimers left), each
    renamed atomically to a claim of this process first: (claimed path, the dead process)."""
    me = os.getpid() if me is None else me
    tag = f".claimed-{me}-{_started(me) or 0}"
    for path in sorted(directory.glob(f"*{SUFFIX}*")):
        owner = _owner(path)
        if owner is None or _alive(owner) or path.name.endswith(tag):
            continue
        dead = path.name.split(".", 1)[0]
        target = path.with_name(path.name.split(".claimed-", 1)[0] + tag)
        try:
            os.rename(path, target)  # atomic: a second claimer finds the name gone
        except FileNotFoundError:
            continue
        yield target, dead


def recover(
    store: RunStore, on_loss: Callable[[Loss], None], clock: Callable[[], float]
) -> list[Loss]:
    """Count what the dead serving processes of ``store``'s folder answered and never
    recorded: a monitor event of kind ``lost`` per model, ``on_loss`` (the metric), and the
    ledger removed. A ledger whose event cannot be written (the store is down) is kept."""
    directory = folder(store)
    if not directory.is_dir():
        return []
    found: list[Loss] = []
    for path, dead in claim(directory):
        try:
            losses = _losses(path.read_bytes())
            for loss in losses:
                if _record(store, loss, dead, path.name.split(".", 1)[0], clock()):
                    on_loss(loss)
                    found.append(loss)
            path.unlink()
        except Exception as e:  # the store is down: the claim stays for a later start
            log.warning("could not count the losses of server process %s: %s", dead, e)
    return found


def _record(st: RunStore, loss: Loss, dead: str, ledger: str, when: float) -> bool:
    """Write the ``lost`` event; False when a claimer killed after writing it left it."""
    pid = dead.split("-", 1)[0]
    seen = st.monitor_events(loss.name)
    if any(e.kind == "lost" and e.detail.get("ledger") == ledger for e in seen):
        return False
    detail = {
        "batches": loss.batches,
        "rows": loss.rows,
        "process": int(pid),
        "ledger": ledger,
        "why": f"server process {pid} ended (kill -9?) before recording them",
    }
    st.log_monitor_event(MonitorEvent(loss.name, when, "lost", "killed", detail))
    return True


__all__ = ["Ledger", "Loss", "claim", "folder", "recover"]
