"""A run being recorded (``ActiveRun``), the active run of the context, and the rules a logged
key or value must follow. The ``Tracker`` that starts runs is :mod:`.tracker`."""

from __future__ import annotations

import contextvars
import logging
import numbers
import os
import pickle
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..entities import (
    Artifact,
    DataRef,
    DataRole,
    Fingerprint,
    Run,
    RunKind,
    RunStatus,
    to_jsonable,
)
from ..exceptions import ValidationError
from ..frameworks import HOOKS
from ..store import RunStart, RunUpdate
from ..store.writer import RunImage
from .run_values import MAX_TAG_VALUE as MAX_TAG_VALUE
from .run_values import _as_float, _check_key, _check_tag_value

# The tag every run recorded by a reproduction carries (the value: the reproduced run's id).
REPRODUCES_TAG = "reproduces"

if TYPE_CHECKING:
    from .tracker import Tracker

log = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
FLUSH_ITEMS = 5000
HEARTBEAT_SECONDS = 30.0
# Inside IPython, how long the end of a run waits for its records to be written when the store
# answers but slowly. A local SQLite store takes about a millisecond, so write errors (disk full)
# are reported under the very cell that caused them; a store locked by another process is not
# waited for at all (the writer says so as soon as it finds the lock taken).
SETTLE_SECONDS = 0.2
PARENT_ENV = "JUPYTER_MLOPS_PARENT_RUN"
DEFAULT_EXPERIMENT = "default"

_active: contextvars.ContextVar[ActiveRun | None] = contextvars.ContextVar(
    "jupyter_mlops_active_run", default=None
)


# The fallback under the ContextVar ``_active``, and deliberately a process global: a pipeline
# kernel runs each cell in a fresh copy of the context, so a run set in the ContextVar by the
# first cell would be gone in the next. Only ``pipeline.in_kernel`` sets it, once per kernel
# (one notebook, one run); an active run of the current context always wins over it.
_ambient: ActiveRun | None = None


def set_ambient_run(run: ActiveRun | None) -> None:
    """The run the fluent API falls back to when no run is active: a pipeline run, inside the
    kernel executing its notebook (a ContextVar set in one cell is not seen by the next)."""
    global _ambient
    if (run is None) != (_ambient is None):  # the frameworks' hooks span the pipeline's run
        HOOKS.on(active_run) if run is not None else HOOKS.off()
    _ambient = run


def active_run() -> ActiveRun | None:
    return _active.get() or _ambient


class TrackingWarning(UserWarning):
    """Something could not be recorded; the user's code went on."""


class ActiveRun:
    """A run in progress. Use as a context manager, or call :meth:`end` yourself."""

    def __init__(self, tracker: Tracker, start: RunStart) -> None:
        self.tracker = tracker
        self.id = start.id
        self.experiment = start.experiment
        self.seed = start.seed
        self.kind = start.kind
        self.started = start.started
        self._start_mono = time.perf_counter()
        self._pending = RunUpdate()
        self._image = RunImage(start)  # everything handed to the writer, folded
        self._ticket = 0  # the writer's ticket for this run's latest handed-over records
        self._created = 0  # the writer's ticket for the run's row
        self._final: Run | None = None  # the snapshot once the run ended
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self._token: contextvars.Token[ActiveRun | None] | None = None
        self.ended = False
        self.status: RunStatus = RunStatus.RUNNING
        self._git_future: Any = None
        self._hooked = False  # the frameworks' training hooks are on for this run

    def __repr__(self) -> str:
        return f"<ActiveRun {self.id[:8]} experiment={self.experiment!r}>"

    # -- logging ---------------------------------------------------------------------------
    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        with self._lock:
            for k, v in params.items():
                self._pending.params[_check_key("Param", k)] = to_jsonable(v)
        self._maybe_flush()

    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        self.log_metrics({key: value}, step=step)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        now = time.time()
        if step is not None and (isinstance(step, bool) or not isinstance(step, numbers.Integral)):
            raise ValidationError(f"step must be an integer, got {step!r}")
        checked = [(_check_key("Metric", k), _as_float(k, v)) for k, v in metrics.items()]
        with self._lock:
            rows = [
                (k, v, self._curve_end(k) if step is None else int(step), now) for k, v in checked
            ]
            self._pending.metrics.extend(rows)
        self._maybe_flush()

    def log_curve(self, key: str, values: Iterable[Any], start: int = 0) -> None:
        """``values`` as metric ``key`` at steps ``start``, ``start + 1`` …: a framework's
        whole learning curve in one call (1,000 rounds cost one lock, not 1,000)."""
        now = time.time()
        key = _check_key("Metric", key)
        rows = [(key, _as_float(key, v), start + i, now) for i, v in enumerate(values)]
        with self._lock:
            self._pending.metrics.extend(rows)
        self._maybe_flush()

    def curve_end(self, key: str) -> int:
        """The step a value of ``key`` logged without a step is recorded at: the last step of
        its curve so far, 0 when it has none. A final value (``acc = …`` after a loop logging
        ``acc`` per epoch) so ends its curve and is the latest value, instead of adding a point
        at step 0 that every chart would draw as a spike."""
        with self._lock:
            return self._curve_end(key)

    def _curve_end(self, key: str) -> int:
        folded = self._image.metrics.get(key)
        steps = [s for k, _, s, _ in self._pending.metrics if k == key]
        return max([*steps, folded[0] if folded else 0])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        checked = {_check_key("Tag", k): _check_tag_value(k, v) for k, v in tags.items()}
        with self._lock:
            self._pending.tags.update(checked)

    def log_dataset(
        self,
        name: str,
        obj: Any,
        role: str = "input",
        save: bool | None = None,
        keep: bool | None = None,
    ) -> Fingerprint:
        """Fingerprint ``obj`` (DataFrame, array or file path) and record it under ``name``.

        ``keep=True`` (or its older name ``save``) also keeps a DataFrame's content as a dataset
        version (``store/columns.py``: each column chunk stored once, by content), so that
        ``load_dataset`` and pipeline data gates get it back; the default keeps inside
        pipeline runs only.
        """
        from ..hashing import fingerprint

        fp = fingerprint(obj)
        with self._lock:
            self._pending.data.append(DataRef(DataRole(role), name, fp))
        keep = keep if keep is not None else save
        if keep is None:
            keep = self.kind is RunKind.PIPELINE
        if keep and fp.kind == "dataframe":
            from ..store.columns import put_frame

            manifest = put_frame(self.tracker.store.artifacts, obj)
            data = manifest.to_json()  # stored by put_frame: this only names it on the run
            self.log_bytes(data, f"dataset:{name}", kind="dataset")
        return fp

    def log_validation_data(self, X: Any, y: Any) -> Artifact:
        """Keep the validation set (pickled) so gates can score the candidate and the blessed
        model on the very same rows."""
        data = pickle.dumps((X, y), protocol=pickle.HIGHEST_PROTOCOL)
        return self.log_bytes(data, "validation", kind="validation")

    def add_data(self, refs: list[DataRef]) -> None:
        with self._lock:
            self._pending.data.extend(refs)

    def log_artifact(
        self, path: str | os.PathLike[str], name: str | None = None, kind: str = "file"
    ) -> Artifact:
        sha, size, uri = self.tracker.store.artifacts.put_file(path)
        art = Artifact(name or Path(path).name, kind, sha, size, uri)
        with self._lock:
            self._pending.artifacts.append(art)
        return art

    def put_bytes(self, data: bytes, name: str, kind: str = "file") -> Artifact:
        """Store ``data`` content-addressed and return its artifact, not yet recorded on the
        run (the ``%%track`` cell records what it made in one record)."""
        sha, size, uri = self.tracker.store.artifacts.put_bytes(data)
        return Artifact(name, kind, sha, size, uri)

    def log_bytes(self, data: bytes, name: str, kind: str = "file") -> Artifact:
        art = self.put_bytes(data, name, kind)
        with self._lock:
            self._pending.artifacts.append(art)
        return art

    def log_model(self, model: Any, name: str = "model") -> Artifact:
        """Save ``model`` into the store as a content-addressed artifact of kind ``model``.

        scikit-learn estimators go to skops (loading one runs no pickle); anything else to
        cloudpickle, which stores classes and functions defined in the notebook by value, so
        the model loads in another process (the pipeline runner, a server) that never ran the
        notebook. ``model_format`` reads the format back from the bytes.
        """
        from ..model_format import dumps

        return self.log_bytes(dumps(model, name), name, kind="model")

    def log_figure(self, figure: Any, name: str = "figure.png") -> Artifact:
        png = figure_png(figure)
        return self.log_bytes(png, name if name.endswith(".png") else name + ".png", "figure")

    def warn(self, message: str) -> None:
        with self._lock:
            self._pending.warnings.append(message)

    def attach(self, update: RunUpdate) -> None:
        """Merge fields collected by a front-end (code, history, environment …) into the run."""
        with self._lock:
            self._pending.merge(update)

    # -- persistence -----------------------------------------------------------------------
    def _take(self) -> RunUpdate:
        with self._lock:
            pending, self._pending = self._pending, RunUpdate()
            self._last_flush = time.monotonic()
            self._image.fold(pending, self.tracker._code_texts)
        self.tracker._remember_code(pending)
        return pending

    def _maybe_flush(self) -> None:
        p = self._pending
        if (
            time.monotonic() - self._last_flush > FLUSH_SECONDS
            or len(p.metrics) + len(p.params) > FLUSH_ITEMS
        ):
            self._send()

    def _send(self) -> None:
        """Hand what was logged so far to the background writer (does not wait)."""
        update = self._take()
        if not update.is_empty():
            self._ticket = self.tracker.writer.update(self.id, update)

    def flush(self) -> None:
        """Write what was logged so far and wait until it is in the store; a failure is
        reported as a :class:`TrackingWarning` (the records are kept for the next write)."""
        self._send()
        self.tracker.writer.wait(self._ticket)
        self.tracker._report_errors()

    def snapshot(self) -> Run:
        """The run as this process holds it: what the store will hold once everything logged
        so far is written (read nothing back, so it costs no round-trip)."""
        with self._lock:
            if self._final is not None and self._pending.is_empty():
                return self._final
            image = self._image.copy()
            image.fold(self._pending, self.tracker._code_texts)
        return image.to_run()

    def end(
        self,
        status: RunStatus = RunStatus.FINISHED,
        error: str | None = None,
        *,
        wait: bool | None = None,
        now: bool = False,
    ) -> None:
        """Record everything collected and the final status; safe to call twice.

        ``wait`` (default: True outside IPython) waits until the run is in the store; inside
        IPython the run is written in the background (see :meth:`settle`). ``now``: the
        caller settles at once, so the records are written on this thread when the store is
        local and idle (``wait`` implies it)."""
        if self.ended:
            return
        self.ended = True
        self.status = status
        with self._lock:
            update = self._pending
            update.status = status
            update.ended = time.time()
            update.duration = time.perf_counter() - self._start_mono
            update.error = error
        git = self._git_future
        if update.git is None and git is not None and git.done() and git.exception() is None:
            update.git = git.result()
        waiting = wait if wait is not None else not _in_ipython()
        try:
            update = self._take()
            writer = self.tracker.writer
            self._ticket = writer.update(self.id, update, final=True, now=now or waiting)
            self._final = self._image.to_run()
            self.tracker._remember_run(self._final)
        finally:
            self.tracker._forget(self)
            self._unhook()
            if self._token is not None:
                try:
                    _active.reset(self._token)
                except ValueError:  # ended from another context: just clear ours
                    _active.set(None)
                self._token = None
        if update.git is None and git is not None:
            # Git is slow; record it when the probe finishes instead of waiting for it.
            git.add_done_callback(lambda f: self.tracker._late_git(self.id, f))
        if waiting:
            self.tracker.writer.wait(self._ticket)
            self.tracker._report_errors()

    def wait_created(self) -> None:
        """Wait until the run's row is in the store, so a process killed (or a disk filled) by
        the code about to run leaves a trace; at most ``SETTLE_SECONDS``, and not at all once
        the store is found locked by another process (a busy store is not waited for)."""
        self.tracker.writer.wait(self._created, SETTLE_SECONDS, until_busy=True)

    def settle(self, timeout: float = SETTLE_SECONDS) -> str | None:
        """Wait up to ``timeout`` for this run's records to be written, and not at all once the
        store is found locked by another process. Returns why the run could not be recorded,
        if that is known by then (it is then not reported again)."""
        writer = self.tracker.writer
        writer.wait(self._ticket, timeout, until_busy=True)
        return writer.take_error(self.id)

    def __enter__(self) -> ActiveRun:
        self._token = _active.set(self)
        if not self._hooked:  # what the frameworks train while the run is active is recorded
            HOOKS.on(active_run)
            self._hooked = True
        return self

    def _unhook(self) -> None:
        if self._hooked:
            HOOKS.off()
            self._hooked = False

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> Literal[False]:
        status, error = status_for_exception(exc)
        self.end(status, error)
        return False


def figure_png(figure: Any) -> bytes:
    """A matplotlib figure as the PNG a run stores."""
    import io

    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return buf.getvalue()


def status_for_exception(exc: BaseException | None) -> tuple[RunStatus, str | None]:
    """The status a run ends with when its code raised ``exc`` (None: it did not)."""
    if exc is None:
        return RunStatus.FINISHED, None
    if isinstance(exc, KeyboardInterrupt):
        return RunStatus.INTERRUPTED, "KeyboardInterrupt"
    if isinstance(exc, SystemExit) and exc.code in (None, 0):
        return RunStatus.FINISHED, None
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return RunStatus.FAILED, text[-20000:]


def _in_ipython() -> bool:
    """True inside an IPython shell or kernel (the core never imports IPython itself)."""
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None
