"""The operations the background writer queues: from its callers, or read back from a spill
journal (``journal.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import StoreError
from .base import RunStart, RunUpdate
from .journal import REPLAY_BATCH_ITEMS, Journal


@dataclass
class Op:
    """One queued write: a run's creation or an update of it."""

    run_id: str
    start: RunStart | None = None
    update: RunUpdate | None = None
    final: bool = False  # the run's last update (status, end time)
    report: bool = True  # a failure is the user's business (a late git state is not)
    seq: int = 0
    weight: int = 1  # rows it holds (record_weight)
    mark: int | None = None  # read from the spill journal: the offset just after it


def failure_reason(e: BaseException) -> str:
    return str(e) if isinstance(e, StoreError) else f"{type(e).__name__}: {e}"


def ops_from_journal(journal: Journal) -> list[Op]:
    """The next records of the journal as operations (called under the writer's lock, as
    appends go on)."""
    return [
        Op(
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
