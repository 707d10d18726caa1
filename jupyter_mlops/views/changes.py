"""What changed in the store since a client last looked: the question behind the panel's live
updates (``GET events``, server-sent) and ``GET changes?since=REV`` (plain REST).

A :class:`ChangeLog` compares successive change marks of the store (``store/sql_changes.py``:
a few index probes) and numbers each difference with a *revision*. Revisions start at the
log's creation time in milliseconds and grow by one per change, so a revision handed out by
an earlier server (or one the log no longer remembers) is simply older than anything known:
the answer is then "everything may have changed", never a wrong "nothing".
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from ..exceptions import ValidationError
from .values import View

HISTORY = 1000  # changes remembered; a client further behind is told everything changed


class ChangeKind(str, Enum):
    """What a change touches, by the panel view that shows it."""

    RUNS = "runs"
    PIPELINES = "pipelines"
    MODELS = "models"
    MONITORS = "monitors"


ALL_KINDS = tuple(ChangeKind)


@dataclasses.dataclass(frozen=True)
class Changes(View):
    """The kinds of record that changed after revision ``since`` up to ``revision`` (every kind
    when ``since`` is None or older than the log remembers); pass ``revision`` back next time."""

    revision: int
    since: int | None
    kinds: list[ChangeKind]

    @property
    def empty(self) -> bool:
        return not self.kinds


Marks = dict[str, Any]


def changed_kinds(old: Marks | None, new: Marks | None) -> list[ChangeKind]:
    """The kinds whose marks differ (every kind when the store appeared or went away)."""
    if old is None or new is None:
        return [] if old is new else list(ALL_KINDS)
    kinds = {k for k in ALL_KINDS if old.get(k.value) != new.get(k.value)}
    if ChangeKind.RUNS in kinds and _pipeline_run_changed(old["runs"], new["runs"]):
        kinds.add(ChangeKind.PIPELINES)
    return [k for k in ALL_KINDS if k in kinds]


def _pipeline_run_changed(old: Any, new: Any) -> bool:
    """Whether a run of a pipeline started or ended: the rows (id, kind, …) of the runs marks
    that are in one and not the other."""
    rows_old = {row for probe in old for row in probe}
    rows_new = {row for probe in new for row in probe}
    return any(row[1] == "pipeline" for row in rows_old ^ rows_new)


class ChangeLog:
    """Revisions of the store as one server saw it; thread-safe. ``clock`` gives the first
    revision (injected in tests)."""

    def __init__(self, clock: Callable[[], float] = time.time, history: int = HISTORY) -> None:
        self.revision = int(clock() * 1000)
        self.first = self.revision
        self._marks: Marks | None = None
        self._seen = False
        self._log: deque[tuple[int, tuple[ChangeKind, ...]]] = deque(maxlen=history)
        self._lock = threading.Lock()

    def observe(self, marks: Marks | None) -> Changes | None:
        """Take the store's current marks; the change they make, or None."""
        with self._lock:
            if not self._seen:  # the first look is the baseline, not a change
                self._seen, self._marks = True, marks
                return None
            kinds = changed_kinds(self._marks, marks)
            self._marks = marks
            if not kinds:
                return None
            self.revision += 1
            self._log.append((self.revision, tuple(kinds)))
            return Changes(self.revision, self.revision - 1, kinds)

    def since(self, since: int | None) -> Changes:
        """What changed after ``since``: every kind when unknown, too old or not from this log."""
        with self._lock:
            # The log knows every change after `floor` (older ones may have been let go).
            floor = self._log[0][0] - 1 if self._log else self.revision
            if since is None or since < floor or since > self.revision:
                return Changes(self.revision, since, list(ALL_KINDS))
            return Changes(self.revision, since, _union(k for r, k in self._log if r > since))


def _union(groups: Iterable[tuple[ChangeKind, ...]]) -> list[ChangeKind]:
    seen = {k for group in groups for k in group}
    return [k for k in ALL_KINDS if k in seen]


def parse_revision(value: str | None) -> int | None:
    """A client's ``since`` (query parameter or ``Last-Event-ID``): a revision or nothing."""
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 19:
        raise ValidationError(
            f"since must be a revision (a whole number) from an earlier answer, not {value[:40]!r}"
        )
    return int(value)


def store_marks(read: Callable[[], Marks]) -> Marks | None:
    """The store's marks, None while there is no store (it is made by the first run)."""
    from ..exceptions import MLOpsError

    try:
        return read()
    except MLOpsError:
        return None


def changes_since(log: ChangeLog, read: Callable[[], Marks], since: str | None) -> Changes:
    """``GET changes?since=REV``: look at the store now, then answer from the log."""
    rev = parse_revision(since)
    log.observe(store_marks(read))
    return log.since(rev)
