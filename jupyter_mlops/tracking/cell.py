"""Track one notebook cell as a run: the core of ``%%track``, with no IPython in sight.

The front-end calls :meth:`CellTracker.begin` just before the shell runs the cell and
:meth:`CellTracker.finish` just after, so the user's code runs exactly as it would untracked.
``begin`` parses the code (:mod:`.analysis`), fingerprints what the cell reads, seeds, and
watches the files it opens and its stdout; ``finish`` gathers what the cell made
(:mod:`.collect`) into one :class:`CellRecord`, ends the run and finds what it is compared
with (:mod:`.changes`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ..config import default_experiment
from ..entities import Artifact, DataRef, DataRole, Environment, Run, RunKind
from ..exceptions import MLOpsError, StoreError
from ..store import RunUpdate
from .analysis import CellAnalysis, analyze_cell, code_sha, is_metric_name, metric_matcher
from .changes import CELL_ID_TAG, LastRuns, cell_keys
from .collect import (
    CellMade,
    Metric,
    PendingCell,
    SessionCode,
    TrackOptions,
    collect_cell,
    expand_reads,
    figure_numbers,
    fingerprint_names,
    literal_inputs,
)
from .environment import peak_rss, reset_peak_rss
from .filewatch import FileCollector
from .seeding import RNG_STATE_TAG, RngRecorder
from .stdout_tail import StdoutTail
from .tracker import ActiveRun, Tracker, status_for_exception

log = logging.getLogger(__name__)

CWD_TAG = "cwd"  # the kernel's working directory when the cell ran


@dataclass(frozen=True)
class CellResult:
    """What ``track_cell`` recorded (``run`` is None when the store could not be written)."""

    run: Run | None
    previous: Run | None = None
    not_recorded: str | None = None
    error: BaseException | None = None
    value: Any = None


@dataclass(frozen=True)
class CellRecord:
    """Everything a finished cell adds to its run, as one value: what it made, its code (texts
    the store does not hold yet, by sha), the session's history, the RNG state it started from,
    the tail of its stdout and its peak memory. ``environment`` is a future in a session's first
    cells, recorded once ready."""

    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()
    data: tuple[DataRef, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    warnings: tuple[str, ...] = ()
    environment: Environment | Future[Environment] | None = None
    code_sha: str | None = None
    code: Mapping[str, str] = field(default_factory=dict)
    history: tuple[str, ...] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    stdout_tail: str | None = None
    peak_memory: int | None = None

    def run_update(self) -> RunUpdate:
        """The record as the store's unit of writing."""
        env = self.environment
        return RunUpdate(
            params=dict(self.params),
            metrics=list(self.metrics),
            tags=dict(self.tags),
            data=list(self.data),
            artifacts=list(self.artifacts),
            code=dict(self.code),
            code_sha=self.code_sha,
            history=None if self.history is None else list(self.history),
            environment=env if isinstance(env, Environment) else None,
            warnings=list(self.warnings),
            stdout_tail=self.stdout_tail,
            peak_memory=self.peak_memory,
        )


def cell_record(
    made: CellMade,
    code: tuple[str, dict[str, str], list[str] | None] | None,
    rng: tuple[str, str] | None,
    stdout_tail: str | None,
    peak_memory: int | None,
) -> CellRecord:
    """Assemble the record from what each step of ``finish`` returned (``code``: from
    :meth:`SessionCode.record`; ``rng``: the sha and text of the RNG state)."""
    sha, texts, history = code if code is not None else (None, {}, None)
    tags = {}
    if rng is not None:  # content-addressed: `reproduce` restores it before the replay
        texts = {**texts, rng[0]: rng[1]}
        tags[RNG_STATE_TAG] = rng[0]
    return CellRecord(
        params=made.params,
        metrics=made.metrics,
        data=made.data,
        artifacts=made.artifacts,
        warnings=made.warnings,
        environment=made.environment,
        code_sha=sha,
        code=texts,
        history=None if history is None else tuple(history),
        tags=tags,
        stdout_tail=stdout_tail,
        peak_memory=peak_memory,
    )


class CellTracker:
    """Per-shell state for ``%%track``: the tracker, the code the session's runs recorded and
    the last recorded run of each cell (what the next run of that cell is compared with).

    A front-end calls :meth:`begin` just before the cell's code runs and :meth:`finish` just
    after, so the code runs exactly as it would untracked (the shell runs it, not us).
    """

    def __init__(self, tracker_factory: Callable[[], Tracker]) -> None:
        self._factory = tracker_factory
        self._code = SessionCode()
        self._last_runs = LastRuns()

    @property
    def tracker(self) -> Tracker:
        return self._factory()

    def begin(
        self,
        code: str,
        namespace: dict[str, Any],
        *,
        options: TrackOptions,
        notebook: str | None = None,
        execution_count: int | None = None,
        cell_id: str | None = None,
        analysis_code: str | None = None,
    ) -> PendingCell:
        """Start the run of a cell about to execute. Never raises for store trouble: the cell
        must run anyway, so the failure is kept in ``not_recorded``. ``analysis_code`` is the
        cell as the shell will run it (magics already turned into calls), if known."""
        analysis = analyze_cell(analysis_code if analysis_code is not None else code)
        tags = dict(options.tags)
        if cell_id:
            tags.setdefault(CELL_ID_TAG, cell_id)
        # Where relative paths resolved: `reproduce` replays there (headless runs know no
        # notebook path, and a kernel may have changed directory).
        tags.setdefault(CWD_TAG, os.getcwd())
        try:
            tracker = self.tracker
            run = tracker.start_run(
                experiment=options.experiment or default_experiment(notebook),
                name=options.name,
                # By default RNG states are recorded, not re-seeded: the cell runs as untracked.
                seed=None if options.seed == "auto" else options.seed,
                kind=RunKind.CELL,
                tags=tags,
                notebook=notebook,
                execution_count=execution_count,
                wait=False,  # waited for below: on a remote store the set-up runs meanwhile
            )
        except MLOpsError as e:  # unrecordable (read-only store, disk full): the code still runs
            return PendingCell(None, code, namespace, options, not_recorded=str(e))
        inputs, warnings = _inputs(namespace, analysis)
        store_dir = str(tracker.store.workdir)
        pending = PendingCell(
            run,
            code,
            namespace,
            options,
            analysis,
            cell_key=cell_keys(cell_id, code, analysis),
            inputs=inputs,
            input_warnings=warnings,
            figures_before=figure_numbers(),
            rss0=reset_peak_rss(),
            files=FileCollector(exclude=(store_dir,)).start(),
            tail=StdoutTail(tracker.settings.capture_stdout_chars).start(),
            # --no-seed records nothing; "auto" records the states the cell starts from.
            rng=None
            if options.seed is None
            else RngRecorder(None if options.seed == "auto" else options.seed).start(),
        )
        run.wait_created()
        run.__enter__()  # the fluent API (mlops.log_metric) inside the cell logs to this run
        return pending

    def finish(
        self,
        pending: PendingCell,
        error: BaseException | None,
        *,
        history: list[str] | None = None,
        figures: list[bytes] | None = None,
    ) -> CellResult:
        """Record what the cell produced and end its run. ``figures`` are PNGs the front-end
        already rendered for display (None: render new matplotlib figures here)."""
        if pending.tail is not None:
            pending.tail.stop()
        files = pending.files.stop_and_drain() if pending.files is not None else []
        rng = pending.rng.stop() if pending.rng is not None else None
        run = pending.run
        if run is None:
            return CellResult(run=None, not_recorded=pending.not_recorded, error=error)
        peak, rss0 = peak_rss(), pending.rss0
        try:
            made = collect_cell(pending, files, figures)
            code = self._code.record(pending.code, history, run.tracker.store.location)
        except Exception as e:  # collecting must never cost the user the run itself
            log.exception("collecting run details failed")
            why = f"some run details were not collected: {e!r}"
            made, code = CellMade(warnings=(*pending.input_warnings, why)), None
        record = cell_record(
            made,
            code,
            rng,
            stdout_tail=pending.tail.text() if pending.tail is not None else None,
            peak_memory=None if (peak is None or rss0 is None) else max(0, peak - rss0),
        )
        run.attach(record.run_update())
        result = self._end(run, pending.cell_key, error)
        late = record.environment
        if isinstance(late, Future):  # the first cells of a session: recorded when ready
            late.add_done_callback(lambda f: _record_environment(run.tracker, run.id, f))
        return result

    def track(
        self,
        code: str,
        namespace: dict[str, Any],
        execute: Callable[[], Any],
        *,
        options: TrackOptions,
        history: list[str] | None = None,
        notebook: str | None = None,
        execution_count: int | None = None,
        cell_id: str | None = None,
    ) -> CellResult:
        """``begin``, ``execute()``, ``finish`` in one call, for front-ends that run the code
        themselves. An exception from ``execute`` is recorded and returned in ``error``."""
        pending = self.begin(
            code,
            namespace,
            options=options,
            notebook=notebook,
            execution_count=execution_count,
            cell_id=cell_id,
        )
        error: BaseException | None = None
        value = None
        try:
            value = execute()
        except BaseException as e:  # recorded, then re-raised by the caller
            error = e
        return dataclasses.replace(self.finish(pending, error, history=history), value=value)

    def _end(
        self, run: ActiveRun, cell_key: tuple[str, ...], error: BaseException | None
    ) -> CellResult:
        tracker = run.tracker
        try:
            # Written at once on a local store, else in the background; either way the summary
            # shows the run as held in memory and settle() waits a bounded time for the write.
            run.end(*status_for_exception(error), wait=False, now=True)
            recorded = run.snapshot()
            previous = self._last_runs.previous(tracker, run.experiment, run.id, cell_key)
            failure = run.settle()
        except StoreError as e:
            return CellResult(run=None, not_recorded=str(e), error=error)
        if failure is not None:
            return CellResult(run=None, not_recorded=failure, error=error)
        self._last_runs.remember(tracker.store.location, cell_key, recorded)
        return CellResult(run=recorded, previous=previous, error=error)


def _inputs(
    namespace: dict[str, Any], analysis: CellAnalysis | None
) -> tuple[tuple[DataRef, ...], tuple[str, ...]]:
    """What the cell reads, fingerprinted before it runs (names, the globals of notebook
    functions it calls, large literals), and a warning per name that could not be."""
    if analysis is None:
        return (), ()
    reads = expand_reads(namespace, analysis.reads)
    refs, warnings = fingerprint_names(namespace, reads, DataRole.INPUT)
    return (*refs, *literal_inputs(analysis)), tuple(warnings)


def _record_environment(tracker: Tracker, run_id: str, future: Future[Environment]) -> None:
    if future.exception() is not None:
        log.warning("could not read the environment of run %s: %s", run_id[:8], future.exception())
        return
    try:
        tracker.store.update_run(run_id, RunUpdate(environment=future.result()))
    except StoreError as e:
        log.warning("could not record the environment of run %s: %s", run_id[:8], e)


__all__ = [
    "CELL_ID_TAG",
    "CWD_TAG",
    "CellAnalysis",
    "CellRecord",
    "CellResult",
    "CellTracker",
    "PendingCell",
    "TrackOptions",
    "analyze_cell",
    "cell_record",
    "code_sha",
    "is_metric_name",
    "metric_matcher",
]
