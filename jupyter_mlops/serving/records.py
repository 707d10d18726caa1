"""Each answered request recorded as ``mlops.predict`` records a batch: by the same recorder
(:mod:`jupyter_mlops.monitoring.recorder`) and the same record (``recording.record``: profiles,
predictions, latency, ids, then the shadow versions' scores on threads of their own).

The app hands a request's batches here after its response is sent, so no store write is ever
in a request's latency. The batch id is the request id (``X-Request-Id``), so rows sent without
ids get ``REQUEST_ID:ROW`` ids and ``log_labels`` can join either. A record that fails (the
store is down) or does not fit the full queue costs the record, never the response: it is
counted in ``/metrics`` (``mlops_serve_records_lost``) and logged. Each batch answered, then
recorded or counted lost, is counted in the process's ledger (:mod:`.ledger`) too: after a
``kill -9`` the next start counts what was answered and never recorded.
"""

from __future__ import annotations

import logging
import threading
import time

from ..monitoring import recorder
from ..monitoring.recording import Batch, record
from ..store.base import MonitorEvent, RunStore
from .ledger import Ledger
from .telemetry import Telemetry

log = logging.getLogger(__name__)


class _HandOffs:
    """Requests answered whose batches are not yet queued (the hand-off runs after the
    response is sent): ``flush`` waits for them too, so answered = recorded after a flush."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._count = 0

    def start(self) -> None:
        with self._cond:
            self._count += 1

    def done(self) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify_all()

    def wait(self, timeout: float | None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._count <= 0, timeout)


HAND_OFFS = _HandOffs()


def submit_batch(job: Batch, telemetry: Telemetry, ledger: Ledger | None = None) -> None:
    """Queue ``job``'s record (shadows included) behind the response; ``ledger`` counted the
    batch answered and counts it settled once recorded or counted lost."""
    name, rows = job.name, len(job.X)

    def run() -> None:
        try:
            record(job, False)
        except Exception as e:  # the store is down or refused the write: counted, not raised
            telemetry.lost.labels(name, "store").inc()
            log.warning("the record of request %s (%s) was lost: %s", job.batch_id, name, e)
        if ledger is not None:
            ledger.settled(name, 1, rows)

    def overflow(batches: int, rows: int) -> None:
        telemetry.lost.labels(name, "queue").inc(batches)
        event = MonitorEvent(
            name,
            job.when,
            "overflow",
            "dropped",
            {"batches": batches, "rows": rows, "why": "the server's record queue was full"},
        )
        try:
            job.st.log_monitor_event(event)
        except Exception as e:  # a full queue often means the store is down: still counted
            log.warning("overflow of %s not recorded: %s", name, e)

    telemetry.recorded.labels(name).inc()
    queued = recorder.recorder().submit(run, max(rows, 1), (job.st.location, name), overflow)
    if not queued and ledger is not None:  # counted by ``overflow`` as the worker reports it
        ledger.settled(name, 1, rows)


def submit_error(st: RunStore, name: str, when: float, version: int, rows: int, why: str) -> None:
    """Queue the record of a version's failure to score a request (a monitor event of kind
    ``error``: a canary's ``error_rate`` guardrail counts them per version) behind the response."""
    event = MonitorEvent(
        name, when, "error", "model", {"version": version, "rows": rows, "why": why}
    )

    def run() -> None:
        try:
            st.log_monitor_event(event)
        except Exception as e:  # the store is down: the response went out; the record is lost
            log.warning("the error of version %s of %s was not recorded: %s", version, name, e)

    recorder.recorder().submit(run, 1, (st.location, name), lambda batches, rows: None)


def flush(timeout: float | None = None) -> bool:
    """Wait until every answered request's record landed (shadows included); True when all
    did within ``timeout`` seconds."""
    end = None if timeout is None else time.monotonic() + timeout
    if not HAND_OFFS.wait(timeout):
        return False
    return recorder.flush(None if end is None else max(0.0, end - time.monotonic()))
