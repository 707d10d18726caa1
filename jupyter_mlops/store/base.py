"""The run store interface every backend implements, and the records written through it.

A store plays four roles, each an interface of its own, so that code types against the role it
needs (as MLflow keeps its tracking and registry stores apart):

- :class:`RunsStore`: runs, their metrics, artifacts index, pipelines and gate results, search;
- :class:`~.registry_store.RegistryStore`: model versions, stages, pins, events;
- :class:`~.schedule_store.ScheduleStore`: firing state, the scheduler's log, leases, the
  notification outbox;
- :class:`~.monitor_store.MonitorStore`: scored batches, labels, monitor events.

:class:`RunStore` is all four: what a backend implements and what ``open_store`` returns.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..entities import (
    Artifact,
    DataRef,
    Environment,
    GateResult,
    GitState,
    PipelineRecord,
    Run,
    RunKind,
    RunsPage,
    RunStatus,
)
from .handle import StoreHandle
from .monitor_store import MonitorBatch, MonitorEvent, MonitorStore
from .registry_store import RegistryStore
from .schedule_store import ScheduleStore

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MonitorBatch",
    "MonitorEvent",
    "MonitorStore",
    "RegistryStore",
    "RunStart",
    "RunStore",
    "RunUpdate",
    "RunsStore",
    "ScheduleStore",
    "StoreHandle",
]


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


class RunsStore(StoreHandle):
    """Where runs live: their records, metrics, code, environments and artifacts index, the
    pipelines they run and their gate results, and the searches over them."""

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

    def forget_journal_mark(self, journal: str) -> None:
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
    def run_tags(self, run_ids: list[str]) -> dict[str, dict[str, str]]:
        """The tags of each of these runs, by run id (one read, whatever their number)."""

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

    # -- pipelines and their gate results ------------------------------------------------------
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


class RunStore(RunsStore, RegistryStore, ScheduleStore, MonitorStore):
    """A whole store, in every role: what a backend implements and ``open_store`` returns."""
