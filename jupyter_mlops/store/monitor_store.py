"""The monitoring role of a store: scored batches, ground-truth labels and monitor events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .handle import StoreHandle

# Hooks run before every read of the monitor tables, with the store's location: the
# write-behind of ``mlops.predict`` (``monitoring/recorder.py``) registers one that waits for
# this process's pending records of that store, so a reader sees every batch scored before it.
# (A hook, not an import: the store layer knows nothing of monitoring.)
_SETTLERS: list[Callable[[str], None]] = []


def on_read(hook: Callable[[str], None]) -> None:
    """Run ``hook(location)`` before each read of a store's monitor tables (once per hook)."""
    if hook not in _SETTLERS:
        _SETTLERS.append(hook)


def settle(location: str) -> None:
    for hook in list(_SETTLERS):
        hook(location)


@dataclass
class MonitorBatch:
    """One batch scored by ``mlops.predict``, for one model version (blessed or shadow)."""

    batch_id: str
    name: str
    version: int
    role: str  # 'blessed' or 'shadow'
    time: float
    n_rows: int
    latency: float | None = None
    profile: dict[str, Any] | None = None  # Profile.to_dict() of the features
    predictions: dict[str, Any] | None = None  # Profile.to_dict() of the predictions
    rows_uri: str | None = None  # the raw rows' artifact, only with keep_rows=True


@dataclass
class MonitorEvent:
    """A monitor evaluation (``kind='evaluation'``), an action it took (``kind='action'``), or
    what serving recorded apart from batches: a model load (``kind='load'``, its seconds), a
    shadow that failed or a record queue that overflowed (``kind='shadow'``/``'overflow'``)."""

    name: str
    time: float
    kind: str
    status: str
    detail: dict[str, Any] = field(default_factory=dict)


class MonitorStore(StoreHandle):
    """What ``mlops.predict``, labels and monitors record."""

    # Not abstract: a backend without monitoring says so in one line instead of failing to load.
    def _no_monitoring(self) -> Any:
        from ..exceptions import StoreError

        raise StoreError(
            f"The store {self.location} does not support production monitoring; "
            "use the embedded store (.mlops/)"
        )

    def record_batch(
        self, batches: Sequence[MonitorBatch], predictions: Sequence[tuple[Any, ...]]
    ) -> None:
        """Record scored batches and their predictions, rows of (name, version, row_id,
        batch_id, prediction JSON, slice, time), in one transaction."""
        self._no_monitoring()

    def log_labels(self, name: str, labels: Sequence[tuple[str, str]], now: float) -> list[str]:
        """Attach (row_id, label JSON) ground truth; a later label for an id replaces it.
        Returns the ids no version of ``name`` has scored (their labels are kept all the same:
        they join a row scored with that id later)."""
        return self._no_monitoring()

    def monitor_batches(
        self,
        name: str,
        since: float | None = None,
        until: float | None = None,
        *,
        version: int | None = None,
        role: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[MonitorBatch]:
        """``name``'s batches with ``since <= time <= until`` (of ``version`` and ``role`` if
        given) in time order, or the first ``limit`` of them (the newest, if asked)."""
        return self._no_monitoring()

    def labelled_predictions(
        self,
        name: str,
        since: float | None = None,
        *,
        version: int | None = None,
        batch_id: str | None = None,
        labelled_since: float | None = None,
        labelled_until: float | None = None,
    ) -> list[tuple[int, str, float, str, str, str | None, float]]:
        """(version, batch_id, time, prediction JSON, label JSON, slice, label time) of the
        labelled rows scored since ``since`` (of ``version`` or ``batch_id`` if given, labelled
        between ``labelled_since`` and ``labelled_until`` inclusive if given)."""
        return self._no_monitoring()

    def monitor_labels(self, name: str) -> dict[str, str]:
        """row_id -> label JSON of every labelled row of ``name`` (the latest label of each)."""
        return self._no_monitoring()

    def log_monitor_event(self, event: MonitorEvent) -> None:
        self._no_monitoring()

    def monitor_events(
        self, name: str, since: float | None = None, until: float | None = None
    ) -> list[MonitorEvent]:
        return self._no_monitoring()
