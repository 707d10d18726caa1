"""The run store interface every backend implements, and the records written through it."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..entities import (
    Artifact,
    DataRef,
    Environment,
    GateResult,
    GitState,
    ModelEvent,
    ModelPin,
    ModelVersion,
    Notification,
    NotificationStatus,
    PipelineRecord,
    Run,
    RunKind,
    RunsPage,
    RunStatus,
    ScheduleEvent,
)

if TYPE_CHECKING:
    import pandas as pd

    from .artifacts import ArtifactStore


@dataclass
class RunStart:
    """What is known when a run begins (written at once, so a killed process leaves a trace)."""

    id: str
    experiment: str
    kind: RunKind
    started: float
    name: str | None = None
    parent_id: str | None = None
    seed: int | None = None
    notebook: str | None = None
    execution_count: int | None = None
    host: str | None = None
    pid: int | None = None
    pid_start: str | None = None


@dataclass
class RunUpdate:
    """Everything a run collected; written in one transaction (at the end or on a flush)."""

    params: dict[str, Any] = field(default_factory=dict)
    metrics: list[tuple[str, float, int, float]] = field(default_factory=list)  # key,value,step,t
    tags: dict[str, str] = field(default_factory=dict)
    data: list[DataRef] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    code: dict[str, str] = field(default_factory=dict)  # sha -> text, content-addressed sources
    code_sha: str | None = None
    history: list[str] | None = None
    environment: Environment | None = None
    git: GitState | None = None
    warnings: list[str] = field(default_factory=list)
    # Set only when the run ends:
    status: RunStatus | None = None
    ended: float | None = None
    duration: float | None = None
    peak_memory: int | None = None
    error: str | None = None
    stdout_tail: str | None = None

    def merge(self, other: RunUpdate) -> RunUpdate:
        """Add ``other``'s records to this update; its set single values win. Returns self."""
        self.params.update(other.params)
        self.metrics.extend(other.metrics)
        self.tags.update(other.tags)
        self.data.extend(other.data)
        self.artifacts.extend(other.artifacts)
        self.code.update(other.code)
        self.warnings.extend(other.warnings)
        for name in (
            "code_sha",
            "history",
            "environment",
            "git",
            "peak_memory",
            "stdout_tail",
            "status",
            "ended",
            "duration",
            "error",
        ):
            if getattr(other, name) is not None:
                setattr(self, name, getattr(other, name))
        return self

    def is_empty(self) -> bool:
        return not (
            self.params
            or self.metrics
            or self.tags
            or self.data
            or self.artifacts
            or self.code
            or self.warnings
            or self.status
            or self.git
            or self.environment
            or self.code_sha
            or self.history is not None
            or self.peak_memory is not None
            or self.stdout_tail is not None
        )


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


class RunStore(abc.ABC):
    """Where runs live. One instance per store location per process; thread-safe."""

    location: str  # what error messages name: the database file, or a server URL
    # The local directory the store keeps its files in (``.mlops/`` for the embedded store:
    # the database, artifacts, pipeline locks, executed notebooks); what a child process is
    # pointed at to use the same store, and what a tracked cell's file reads must skip.
    workdir: Path
    artifacts: ArtifactStore

    @property
    def child_location(self) -> str:
        """The store location a child process (a pipeline's kernel, a reproduction) is given:
        the directory of an embedded store; a server store's URL, without its password."""
        return str(self.workdir)

    @abc.abstractmethod
    def create_run(self, start: RunStart) -> None: ...

    @abc.abstractmethod
    def update_run(self, run_id: str, update: RunUpdate) -> None:
        """Apply ``update`` atomically: all of it is recorded or none of it."""

    def write_batch(
        self,
        writes: Sequence[RunStart | tuple[str, RunUpdate]],
        on_busy: Callable[[], None] | None = None,
        journal_mark: tuple[str, int] | None = None,
    ) -> None:
        """Create and update runs in this order, all or none where the backend can (the
        background writer's unit of work). ``on_busy`` is called while another writer holds the
        store, so whoever waits for this write can stop waiting. ``journal_mark`` (journal,
        offset): these records come from a spill journal (``journal.py``), written up to
        there; the mark is kept in the same transaction."""
        if journal_mark is not None:
            raise NotImplementedError("this store keeps no journal marks")
        for w in writes:
            if isinstance(w, RunStart):
                self.create_run(w)
            else:
                self.update_run(*w)

    def journal_mark(self, journal: str) -> int | None:
        """How far the spill journal ``journal`` was written into this store (None: not yet)."""
        return None

    def forget_journal_mark(self, journal: str) -> None:  # noqa: B027 (optional, as above)
        """Drop the mark of a journal whose file is gone."""

    @abc.abstractmethod
    def heartbeat(self, run_ids: list[str], now: float) -> None: ...

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with this id or unique id prefix; raises RunNotFoundError."""

    @abc.abstractmethod
    def previous_run(
        self, experiment: str, before: float | dt.datetime, exclude: str
    ) -> Run | None:
        """The latest run of ``experiment`` started before ``before``, other than ``exclude``."""

    @abc.abstractmethod
    def search_run_ids(
        self,
        *,
        experiment: str | None = None,
        where: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int | None = None,
        parent_id: str | None = None,
        text: str | None = None,
    ) -> list[str]:
        """Ids of matching runs in order; ``text`` is a case-insensitive substring of the name,
        experiment, a tag key or a tag value."""

    @abc.abstractmethod
    def runs_frame(
        self,
        *,
        experiment: str | None = None,
        where: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """One row per run (``rows.FRAME_COLUMNS``, then ``params.*``, ``metrics.*``), in one
        read snapshot. Raises ExperimentNotFoundError for an unknown ``experiment`` and
        ValidationError for a bad filter or an ordering by a key no run has."""

    @abc.abstractmethod
    def runs_page(
        self,
        *,
        experiment: str | None = None,
        where: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunsPage:
        """``limit`` runs filtered and ordered as ``runs_frame`` does, from where ``cursor``
        (a page's ``next_cursor``) left off; ValidationError for a cursor of another query."""

    @abc.abstractmethod
    def metric_history(self, run_id: str, key: str | None = None) -> pd.DataFrame: ...

    @abc.abstractmethod
    def get_code(self, shas: list[str]) -> dict[str, str]: ...

    @abc.abstractmethod
    def get_environment(self, env_id: str) -> Environment | None: ...

    @abc.abstractmethod
    def experiments(self) -> list[str]: ...

    @abc.abstractmethod
    def mark_interrupted_runs(self) -> list[str]:
        """Mark ``running`` runs whose process is gone as interrupted; returns their ids."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def release_thread(self) -> None:  # noqa: B027 (optional hook: most backends hold nothing)
        """Close what the calling thread holds open (its connection); a background thread
        calls this as it ends, so that its file descriptors do not wait for the garbage
        collector."""

    def release_ended_threads(self) -> None:  # noqa: B027 (optional hook, as release_thread)
        """Close what threads that have ended left open (a server's stopped worker pool)."""

    # -- pipelines, gate results and the model registry --------------------------------------
    @abc.abstractmethod
    def save_pipeline(
        self,
        name: str,
        spec: dict[str, Any],
        notebook: str,
        notebook_hash: str,
        schedule: str | None,
    ) -> None: ...

    @abc.abstractmethod
    def list_pipelines(self) -> list[PipelineRecord]: ...

    @abc.abstractmethod
    def save_gate_results(self, run_id: str, results: Sequence[GateResult]) -> None:
        """Replace the run's gate results with these, in this order."""

    @abc.abstractmethod
    def gate_results(self, run_id: str) -> list[GateResult]: ...

    @abc.abstractmethod
    def register_model(
        self,
        name: str,
        run_id: str,
        artifact_uri: str,
        artifact_sha: str,
        size: int,
        metrics: dict[str, float],
        data: list[DataRef],
        pipeline: str | None,
        actor: str | None = None,
    ) -> ModelVersion: ...

    @abc.abstractmethod
    def get_model(self, name: str, version: int | None = None) -> ModelVersion:
        """A version, or the blessed one when ``version`` is None; ModelNotFoundError."""

    @abc.abstractmethod
    def list_models(self, name: str | None = None) -> list[ModelVersion]: ...

    @abc.abstractmethod
    def model_events(self, name: str) -> list[ModelEvent]: ...

    @abc.abstractmethod
    def bless_model(
        self,
        name: str,
        version: int,
        actor: str | None = None,
        reason: str | None = None,
        action: str = "bless",
        *,
        force: bool = False,
        now: float | None = None,
    ) -> ModelVersion:
        """Bless ``name@version`` and archive the previously blessed version, atomically;
        ModelPinnedError if the model is pinned at ``now``, unless ``force`` (the pin moves)."""

    @abc.abstractmethod
    def offer_model(
        self,
        name: str,
        version: int,
        actor: str | None = None,
        reason: str | None = None,
        now: float | None = None,
    ) -> ModelPin | None:
        """Bless unless pinned (atomically); when pinned, record a ``held`` event and return
        the pin."""

    @abc.abstractmethod
    def rollback_model(
        self,
        name: str,
        to: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        *,
        until: float | None = None,
        now: float | None = None,
    ) -> tuple[ModelVersion, ModelVersion]:
        """Re-bless the previous (or ``to``) version and pin it; returns (old, new)."""

    @abc.abstractmethod
    def pin_model(
        self,
        name: str,
        version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        *,
        until: float | None = None,
        now: float | None = None,
    ) -> ModelPin: ...

    @abc.abstractmethod
    def unpin_model(
        self, name: str, actor: str | None = None, reason: str | None = None
    ) -> ModelPin | None: ...

    @abc.abstractmethod
    def model_pin(self, name: str) -> ModelPin | None:
        """The pin of ``name``, expired or not; None when it has none."""

    # -- the embedded scheduler ---------------------------------------------------------------
    @abc.abstractmethod
    def schedule_state(self) -> dict[str, float]: ...

    @abc.abstractmethod
    def set_schedule_state(self, pipeline: str, last_fire: float) -> None: ...

    @abc.abstractmethod
    def log_schedule(
        self,
        pipeline: str,
        scheduled_for: float,
        outcome: str,
        run_id: str | None = None,
        message: str | None = None,
    ) -> None: ...

    @abc.abstractmethod
    def schedule_log(self, pipeline: str | None = None, limit: int = 50) -> list[ScheduleEvent]:
        """The newest ``limit`` events (of ``pipeline``), newest first."""

    # -- leases (one holder at a time, across processes and, on a server database, hosts) ------
    @abc.abstractmethod
    def acquire_lease(self, name: str, holder: str, ttl: float, now: float) -> bool:
        """Atomically take lease ``name`` if free, expired or already ``holder``'s."""

    @abc.abstractmethod
    def renew_lease(self, name: str, holder: str, ttl: float, now: float) -> bool:
        """Extend ``holder``'s lease; False if it was lost."""

    @abc.abstractmethod
    def release_lease(self, name: str, holder: str) -> None: ...

    @abc.abstractmethod
    def lease_holder(self, name: str, now: float) -> str | None: ...

    # -- the notification outbox (see sql_notify.py for how rows are claimed) ------------------
    @abc.abstractmethod
    def queue_notifications(self, items: Sequence[Notification]) -> None: ...

    @abc.abstractmethod
    def claim_notification(
        self,
        holder: str,
        now: float,
        until: float,
        skip_targets: Sequence[str] = (),
        only: Sequence[str] | None = None,
    ) -> Notification | None:
        """Atomically claim the longest-due pending notification (of ``only``, if given) for
        ``holder`` until ``until``; None when nothing is due."""

    @abc.abstractmethod
    def mark_notification_delivered(self, notification_id: str, now: float) -> None: ...

    @abc.abstractmethod
    def mark_notification_failed(
        self, notification_id: str, holder: str, error: str, next_attempt: float, give_up: bool
    ) -> None: ...

    @abc.abstractmethod
    def notifications(
        self,
        status: NotificationStatus | None = None,
        created_since: float | None = None,
        limit: int | None = None,
    ) -> list[Notification]:
        """Newest first."""

    @abc.abstractmethod
    def retry_notifications(self, ids: Sequence[str] | None, now: float) -> int:
        """Make undelivered notifications (all when ``ids`` is None) due at ``now``."""

    @abc.abstractmethod
    def next_notification_due(self) -> float | None: ...

    # -- production monitoring ----------------------------------------------------------------
    # Not abstract: a backend without monitoring says so in one line instead of failing to load.
    def _no_monitoring(self) -> Any:
        from ..exceptions import StoreError

        raise StoreError(
            f"The store {self.location} does not support production monitoring; "
            "use the embedded store (.mlops/)"
        )

    def set_model_stage(
        self,
        name: str,
        version: int,
        stage: str,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelVersion:
        """Move ``name@version`` to ``stage`` (``shadow`` or ``candidate``), with an event."""
        return self._no_monitoring()

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
