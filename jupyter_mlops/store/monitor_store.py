"""The monitoring role of a store: scored batches, ground-truth labels and monitor events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .handle import StoreHandle


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
    """A monitor evaluation (``kind='evaluation'``) or an action it took (``kind='action'``)."""

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

    def monitor_batches(self, name: str, since: float | None = None) -> list[MonitorBatch]:
        return self._no_monitoring()

    def labelled_predictions(
        self, name: str, since: float | None = None
    ) -> list[tuple[int, str, float, str, str, str | None, float]]:
        """(version, batch_id, time, prediction JSON, label JSON, slice, label time) of the
        labelled rows scored since ``since``."""
        return self._no_monitoring()

    def monitor_labels(self, name: str) -> dict[str, str]:
        """row_id -> label JSON of every labelled row of ``name`` (the latest label of each)."""
        return self._no_monitoring()

    def log_monitor_event(self, event: MonitorEvent) -> None:
        self._no_monitoring()

    def monitor_events(self, name: str, since: float | None = None) -> list[MonitorEvent]:
        return self._no_monitoring()
