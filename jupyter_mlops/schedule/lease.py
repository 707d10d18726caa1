"""Holding a lease while a firing runs: taken atomically in the store, renewed by a heartbeat
thread, released however the block ends.

No firing starts twice, even with several schedulers on one store: each pipeline is fired
under a lease row (``schedule:NAME``), taken over once it expired (``ttl`` seconds after its
holder's last heartbeat, e.g. after a ``kill -9``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..exceptions import MLOpsError
from ..store.schedule_store import ScheduleStore

log = logging.getLogger(__name__)

# How long a lease outlives its holder's last heartbeat: a scheduler killed mid-run blocks its
# pipeline this long at most. Heartbeats come every third of it.
LEASE_TTL = 30.0


@contextmanager
def leased(
    store: ScheduleStore, key: str, holder: str, ttl: float, clock: Callable[[], float]
) -> Iterator[bool]:
    """Hold lease ``key`` (renewed by a heartbeat thread) for the block; yields False,
    holding nothing, when another scheduler has it.

    The lease is released however the block ends, including when Ctrl-C or SIGTERM lands
    between the acquiring commit and the ``yield``: releasing a lease this holder does not
    hold changes nothing, so the release needs no knowledge of how far the acquire got."""
    done = threading.Event()
    beater: threading.Thread | None = None

    def beat() -> None:
        try:
            while not done.wait(ttl / 3):
                try:
                    if not store.renew_lease(key, holder, ttl, clock()):
                        if not done.is_set():
                            log.error("lost the lease of %s (expired and taken over)", key)
                        return
                except MLOpsError as e:  # a busy store now and then must not end the beat
                    log.warning("could not renew the lease of %s: %s", key, e)
        finally:
            store.release_thread()

    try:
        if not store.acquire_lease(key, holder, ttl, clock()):
            yield False
            return
        beater = threading.Thread(target=beat, name=f"lease-{key}", daemon=True)
        beater.start()
        yield True
    finally:
        done.set()
        _release(store, key, holder)  # first: an interrupt in join() must not skip it
        if beater is not None:
            beater.join()


def _release(store: ScheduleStore, key: str, holder: str) -> None:
    """Release the lease even when Ctrl-C or SIGTERM (raised as KeyboardInterrupt by the CLI)
    lands inside the release itself, as it can when a stop arrives just as a firing ends: the
    interrupted release is tried once more (releasing is idempotent), then the interrupt goes
    on. Otherwise the lease would stay held until it expires, blocking other schedulers."""
    try:
        store.release_lease(key, holder)
    except KeyboardInterrupt:
        store.release_lease(key, holder)
        raise
