"""The ``Tracker`` (a store and the runs started on it) and the ``ActiveRun`` it hands out.

The fluent module API over a default tracker is :mod:`jupyter_mlops.tracking.fluent`; both are
re-exported, with the batching and durability rules, from :mod:`jupyter_mlops.tracking`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from .. import bounds
from ..config import Settings, load_settings
from ..entities import (
    Run,
    RunKind,
)
from ..exceptions import StoreError, ValidationError
from ..project import Project, find_project
from ..store import RunStart, RunStore, RunUpdate, open_store
from ..store.liveness import hostname, own_start
from ..store.writer import StoreWriter, writer_for
from .active import DEFAULT_EXPERIMENT as DEFAULT_EXPERIMENT
from .active import FLUSH_ITEMS as FLUSH_ITEMS
from .active import FLUSH_SECONDS as FLUSH_SECONDS
from .active import HEARTBEAT_SECONDS as HEARTBEAT_SECONDS
from .active import MAX_TAG_VALUE as MAX_TAG_VALUE
from .active import PARENT_ENV as PARENT_ENV
from .active import REPRODUCES_TAG as REPRODUCES_TAG
from .active import SETTLE_SECONDS as SETTLE_SECONDS
from .active import ActiveRun as ActiveRun
from .active import TrackingWarning as TrackingWarning
from .active import _active as _active
from .active import _as_float as _as_float
from .active import _check_key as _check_key
from .active import _check_tag_value as _check_tag_value
from .active import _in_ipython as _in_ipython
from .active import active_run as active_run
from .active import figure_png as figure_png
from .active import set_ambient_run as set_ambient_run
from .active import status_for_exception as status_for_exception

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


class Tracker:
    """Records runs into one store. Thread-safe; one per store is plenty."""

    def __init__(
        self, store: RunStore, settings: Settings | None = None, project: Project | None = None
    ) -> None:
        self.store = store
        if project is None:
            # A store opened by hand: the project around it, its run outputs beside that store.
            project = find_project(settings=settings, store=None if settings else store.workdir)
        self.project = project
        self.settings = project.settings
        self._runs: dict[str, ActiveRun] = {}
        self._runs_lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        self._recent: dict[str, Run] = {}  # experiment -> the last run this tracker ended
        self._code_texts: OrderedDict[str, str] = OrderedDict()  # recent cells' code, by sha
        self.writer.exit_timeout = self.settings.flush_timeout
        from .environment import GitProbe

        self.git_probe = GitProbe()

    @property
    def writer(self) -> StoreWriter:
        """The background writer of this tracker's store (one per store and process)."""
        return writer_for(self.store)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, create: bool = True) -> Tracker:
        """``create=False``: StoreNotFoundError rather than a new, empty store (reads)."""
        return cls.from_project(find_project(settings=settings or load_settings()), create=create)

    @classmethod
    def from_project(cls, project: Project, *, create: bool = True) -> Tracker:
        """The tracker of ``project``'s store (``create=False``: StoreNotFoundError rather
        than a new, empty store)."""
        store = open_store(
            project.store,
            create=create,
            artifacts=project.artifact_store,
            workdir=project.store_dir,
        )
        return cls(store, project.settings, project)

    def start_run(
        self,
        *,
        experiment: str | None = None,
        name: str | None = None,
        seed: int | Literal["auto"] | None = "auto",
        kind: RunKind = RunKind.SCRIPT,
        parent_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        notebook: str | None = None,
        execution_count: int | None = None,
        probe_git: bool = True,
        run_id: str | None = None,
        wait: bool = True,
    ) -> ActiveRun:
        """Create a run (recorded at once as ``running``) and seed the RNGs.

        ``seed="auto"`` draws a seed and records it; an int is used as given; ``None`` leaves
        the RNGs alone and records no seed. ``run_id`` (32 hex digits) pre-assigns the id, so a
        caller that starts the run in another process can answer with it at once.
        ``wait=False``: return while the row is being written; the caller calls
        :meth:`ActiveRun.wait_created` before the run's code runs (the ``%%track`` cell does its
        own set-up meanwhile).
        """
        from .seeding import apply_seed

        seed = _checked_seed(seed)
        if run_id is not None and not re.fullmatch(r"[0-9a-f]{32}", run_id):
            raise ValidationError(f"A run id is 32 lowercase hex digits, got {run_id!r}")
        if tags:  # refused before the run exists, not left running behind the error
            tags = {_check_key("Tag", k): _check_tag_value(k, v) for k, v in tags.items()}
        start = RunStart(
            id=run_id or uuid.uuid4().hex,
            experiment=experiment or DEFAULT_EXPERIMENT,
            kind=kind,
            started=time.time(),
            name=name,
            parent_id=parent_id if parent_id is not None else _parent_id(),
            seed=seed,
            notebook=notebook,
            execution_count=execution_count,
            host=hostname(),
            pid=os.getpid(),
            pid_start=own_start(),
        )
        run = self._create(start, wait)
        if probe_git:
            run._git_future = self.git_probe.request()
        if seed is not None:
            apply_seed(seed)
        if tags:
            run.set_tags(tags)
        if params:
            run.log_params(params)
        with self._runs_lock:
            self._runs[run.id] = run
        self._ensure_heartbeat()
        return run

    def _create(self, start: RunStart, wait: bool) -> ActiveRun:
        """The run's row, written (or queued, ``wait=False``), and its ActiveRun."""
        self._report_errors()
        # Written at once when the store is local and idle: every caller waits for the row
        # (a pipeline's kernel writes into it, a cell's code may kill the process).
        ticket = self.writer.create(start, now=True)
        if start.kind is RunKind.PIPELINE:
            # Its id goes to the kernel process at once, which writes into that row.
            self.writer.wait(ticket)
            failure = self.writer.take_error(start.id)
            if failure is not None:
                raise StoreError(failure)
        run = ActiveRun(self, start)
        run._ticket = run._created = ticket
        if start.kind is not RunKind.PIPELINE and wait:
            run.wait_created()
        return run

    def attach_run(self, run_id: str) -> ActiveRun:
        """A handle to log into an existing run that another process started and will end."""
        run = self.get_run(run_id)
        start = RunStart(
            id=run.id,
            experiment=run.experiment,
            kind=run.kind,
            started=run.started.timestamp(),
            seed=run.seed,
        )
        return ActiveRun(self, start)

    def _forget(self, run: ActiveRun) -> None:
        with self._runs_lock:
            self._runs.pop(run.id, None)

    def _late_git(self, run_id: str, future: Any) -> None:
        if future.exception() is None:
            self.writer.update(run_id, RunUpdate(git=future.result()), report=False)

    def _remember_code(self, update: RunUpdate) -> None:
        # A cell's code is sent once per store; later runs of it only name its sha.
        if update.code_sha is not None and update.code_sha in update.code:
            self._code_texts[update.code_sha] = update.code[update.code_sha]
            while len(self._code_texts) > 64:
                self._code_texts.popitem(last=False)

    def _remember_run(self, run: Run) -> None:
        self._recent[run.experiment] = run

    def previous_run(self, run: Run) -> Run | None:
        """The latest run of ``run``'s experiment started before it: from the store, or the
        last one this tracker ended if it is newer (its records may still be queued)."""
        stored = self.store.previous_run(run.experiment, run.started, run.id)
        mine = self._recent.get(run.experiment)
        if mine is None or mine.id == run.id or mine.started > run.started:
            return stored
        if stored is None or mine.started >= stored.started:
            return mine
        return stored

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record queued for this tracker's store is written (or ``timeout``
        seconds pass). True when all of it is in the store; failures are reported as
        :class:`TrackingWarning`."""
        done = self.writer.wait(timeout=timeout)
        return self._report_errors() and done

    def _report_errors(self) -> bool:
        """Warn about records the writer could not write; True when there were none."""
        errors = self.writer.take_errors()
        for run_id, why in errors.items():
            warn_not_recorded(why, run_id)
        return not errors

    def _read_own_writes(self) -> None:
        self.writer.wait()
        self._report_errors()

    def _ensure_heartbeat(self) -> None:
        with self._runs_lock:
            if self._heartbeat is not None and self._heartbeat.is_alive():
                return
            self._heartbeat = threading.Thread(
                target=self._beat, daemon=True, name="jupyter-mlops-heartbeat"
            )
            self._heartbeat.start()

    def _beat(self) -> None:
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            with self._runs_lock:
                ids = list(self._runs)
                if not ids:  # restarted by the next start_run
                    self._heartbeat = None
                    self.store.release_thread()
                    return
            try:
                self.store.heartbeat(ids, time.time())
            except StoreError as e:
                log.warning("heartbeat failed: %s", e)

    def active_runs(self) -> list[ActiveRun]:
        with self._runs_lock:
            return list(self._runs.values())

    # -- reading ---------------------------------------------------------------------------
    def get_run(self, run_id: str) -> Run:
        self._read_own_writes()
        return self.store.get_run(run_id)

    def runs(
        self,
        experiment: str | None = None,
        where: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int | None = None,
        include_reproductions: bool = False,
    ) -> pd.DataFrame:
        """Runs as a DataFrame; the runs a ``reproduce`` recorded only with
        ``include_reproductions`` (they re-record earlier cells and would swamp the listing)."""
        self._read_own_writes()
        if limit is not None:
            bounds.check_int(limit, "limit", 1, bounds.MAX_OFFSET)
        if not include_reproductions and self.store.search_run_ids(
            where=f"tags.{REPRODUCES_TAG} is not None", limit=1
        ):  # checked first so a store without reproductions keeps the fast listing
            mine = f"tags.{REPRODUCES_TAG} is None"
            where = f"({where}) and {mine}" if where else mine
        return self.store.runs_frame(
            experiment=experiment, where=where, order_by=order_by, limit=limit
        )

    def metric_history(self, run_id: str, key: str | None = None) -> pd.DataFrame:
        self._read_own_writes()
        return self.store.metric_history(run_id, key)


def warn_not_recorded(reason: BaseException | str, run_id: str | None = None) -> None:
    which = f"run {run_id[:8]}" if run_id else "this run"
    warnings.warn(
        f"jupyter-mlops: {which} was not recorded: {reason}", TrackingWarning, stacklevel=3
    )


def _checked_seed(seed: int | Literal["auto"] | None) -> int | None:
    """``"auto"``: a drawn seed; an int within the seed range as given; None: no seeding."""
    from .seeding import MAX_SEED, draw_seed

    if seed == "auto":
        return draw_seed()
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED
    ):
        raise ValidationError(f"seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    return seed


def _parent_id() -> str | None:
    """A new run's parent when none is given: the active run, else the one the environment
    names (a pipeline kernel's)."""
    current = active_run()
    return current.id if current is not None else os.environ.get(PARENT_ENV) or None
