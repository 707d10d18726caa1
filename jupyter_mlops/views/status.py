"""The store at a glance (``GET status``, ``GET store`` = ``jupyter-mlops store info``), the
schedule (``GET schedule`` = ``jupyter-mlops scheduler --status``) and the notification outbox
(``GET notifications`` = ``jupyter-mlops notify list``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..entities import Notification, RunStatus
from ..schedule.scheduler import SchedulerStatus
from ..store.info import StoreInfo
from .values import View

if TYPE_CHECKING:
    from ..project import Project
    from ..tracking import Tracker


@dataclass(frozen=True)
class Status(View):
    """Where the store is, its schema version and counts of runs by status, experiments,
    pipelines and models."""

    store: str
    schema_version: int
    runs: int
    runs_by_status: dict[str, int]  # every RunStatus value, 0 included
    experiments: int
    pipelines: int
    models: int


def status_summary(tracker: Tracker, pipelines_dir: Path) -> Status:
    from ..pipeline.spec import list_pipelines
    from ..store.schema import SCHEMA_VERSION

    store = tracker.store
    counts = {s.value: len(store.search_run_ids(where=f"status == {s.value!r}")) for s in RunStatus}
    return Status(
        store=store.location,
        schema_version=SCHEMA_VERSION,
        runs=sum(counts.values()),
        runs_by_status=counts,
        experiments=len(store.experiments()),
        pipelines=len(list_pipelines(pipelines_dir)),
        models=len({m.name for m in store.list_models()}),
    )


def store_summary(tracker: Tracker) -> StoreInfo:
    """Backend, location, schema version, counts and sizes of a SQL store."""
    from ..exceptions import StoreError
    from ..store.info import store_info
    from ..store.sql import SQLStore

    store = tracker.store
    if not isinstance(store, SQLStore):
        raise StoreError(f"The store {store.location} is not a SQL store; it has no store info")
    return store_info(store)


def schedule_status(
    tracker: Tracker,
    project: Project,
    clock: Callable[[], dt.datetime] | None = None,
    limit: int = 20,
) -> SchedulerStatus:
    """The next firing of each scheduled pipeline and monitor of ``project``, and the latest
    log entries."""
    from ..schedule.scheduler import Scheduler

    scheduler = Scheduler(project, tracker, clock)
    return scheduler.status(limit=limit)


@dataclass(frozen=True)
class Notifications(View):
    """The outbox: notifications not delivered yet (and the newest delivered ones, on
    request)."""

    notifications: tuple[Notification, ...]


def notifications(tracker: Tracker, include_delivered: bool = False) -> Notifications:
    from ..pipeline.outbox import undelivered

    return Notifications(tuple(undelivered(tracker.store, include_delivered=include_delivered)))
