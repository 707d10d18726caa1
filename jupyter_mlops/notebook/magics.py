"""IPython front-end: ``%%track`` (and the extension's loading, which registers ``%mlops`` of
:mod:`.mlops_magic`). Parses, makes one core call, displays."""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import (
    argument,
    magic_arguments,
    parse_argstring,
)
from IPython.display import display

from ..config import notebook_path, parse_pairs
from ..tracking import default_tracker, warn_not_recorded
from ..tracking.cell import CellTracker, PendingCell, TrackOptions
from ..tracking.compare import diff_runs
from ..tracking.filewatch import hide_frames
from ..tracking.summary import RunSummary

log = logging.getLogger(__name__)


_HEADER = re.compile(r"%%track(?:[ \t]+(.*))?$")


def _parse_tags(text: str) -> dict[str, str]:
    def error(item: str) -> UsageError:
        return UsageError(f"--tags expects key=value pairs separated by commas, got {item!r}")

    items = filter(None, (t.strip() for t in text.split(",")))
    return {k: v.strip() for k, v in parse_pairs(items, error).items()}


def split_track_cell(raw: str) -> tuple[str, str] | None:
    """``(options line, body)`` if ``raw`` is a ``%%track`` cell, else None."""
    lines = raw.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip():
            m = _HEADER.match(line.rstrip("\r\n"))
            if m is None:
                return None
            return (m.group(1) or "").strip(), "".join(lines[i + 1 :])
    return None


@lru_cache(maxsize=128)
def parse_track_line(line: str) -> TrackOptions:
    """The options of a ``%%track`` line; UsageError names what is wrong."""
    args = parse_argstring(MLOpsMagics.track, line)
    if args.seed is not None and args.no_seed:
        raise UsageError("--seed and --no-seed cannot be used together; choose one")
    if args.register is not None:
        _check_model_name(args.register)
    return TrackOptions(
        experiment=args.experiment,
        name=args.name,
        seed=None if args.no_seed else (args.seed if args.seed is not None else "auto"),
        params=tuple(p.strip() for p in args.params.split(",") if p.strip()),
        tags=_parse_tags(args.tags),
        log_model=args.log_model or args.register is not None,
        register=args.register,
    )


def _check_model_name(name: str) -> None:
    from ..bounds import check_name
    from ..exceptions import ValidationError

    try:
        check_name(name, "--register", "model")
    except ValidationError as e:
        raise UsageError(str(e)) from None


def _valid_track_cell(raw: str) -> str | None:
    """The body of a ``%%track`` cell whose options parse, else None."""
    split = split_track_cell(raw)
    if split is None:
        return None
    try:
        parse_track_line(split[0])
    except UsageError:
        return None  # left to the %%track magic, which reports it in one line
    return split[1]


def strip_track_header(lines: list[str]) -> list[str]:
    """Input transformer: a ``%%track`` cell becomes its body, run by the shell as a normal
    cell (a trailing ``;``, top-level ``await``, tracebacks, the execution count: all
    IPython's own). The run is started and ended by the pre/post-run-cell hooks."""
    if not lines or ("%%track" not in lines[0] and not lines[0].isspace()):
        return lines  # fast path: the first line decides
    body = _valid_track_cell("".join(lines))
    return lines if body is None else body.splitlines(keepends=True)


class _DisplayCapture:
    """PNGs the shell displays while a cell runs (the inline backend's figures), so the run
    stores the very image the front-end shows instead of rendering every figure again."""

    def __init__(self, display_pub: Any) -> None:
        self.pngs: list[bytes] = []
        self._pub = display_pub
        self._inner = display_pub.publish
        self._had_own = "publish" in getattr(display_pub, "__dict__", {})

        def publish(data: Any, *args: Any, **kwargs: Any) -> Any:
            png = data.get("image/png") if isinstance(data, dict) else None
            if png is not None:
                self._keep(png)
            return self._inner(data, *args, **kwargs)

        self._wrapper = publish
        display_pub.publish = publish

    def _keep(self, png: Any) -> None:
        with contextlib.suppress(ValueError, TypeError):  # not base64: not a PNG to keep
            self.pngs.append(png if isinstance(png, bytes) else base64.b64decode(png))

    def stop(self) -> None:
        if self._pub.__dict__.get("publish") is self._wrapper:
            if self._had_own:
                self._pub.publish = self._inner
            else:
                del self._pub.publish

    def figures(self) -> list[bytes] | None:
        """The PNGs to store; None if matplotlib's figures were not displayed here and are to
        be rendered for the store (a terminal, a non-inline backend)."""
        if self.pngs:
            return self.pngs
        mpl = sys.modules.get("matplotlib")
        if mpl is not None and "inline" in str(mpl.get_backend()):
            return []
        return None


class _TracebackTrim:
    """While a tracked cell runs: the errors it shows, without the frames of the open
    wrappers that collect the files it reads (``tracking.filewatch``), as untracked."""

    def __init__(self, shell: Any) -> None:
        self._shell = shell
        self._had_own = "showtraceback" in vars(shell)
        self._inner = shell.showtraceback

        def showtraceback(exc_tuple: Any = None, *args: Any, **kwargs: Any) -> Any:
            with contextlib.suppress(Exception):  # never cost the user the traceback
                hide_frames(exc_tuple[1] if exc_tuple else sys.exc_info()[1])
            return self._inner(exc_tuple, *args, **kwargs)

        self._wrapper = showtraceback
        shell.showtraceback = showtraceback

    def stop(self) -> None:
        if vars(self._shell).get("showtraceback") is self._wrapper:
            if self._had_own:
                self._shell.showtraceback = self._inner
            else:
                del self._shell.showtraceback


@dataclass
class _Tracked:
    info: Any
    raw_cell: str
    pending: PendingCell
    display: _DisplayCapture | None
    trim: _TracebackTrim | None = None


class TrackHooks:
    """Runs ``%%track`` cells: the input transformer strips the header; ``pre_run_cell`` starts
    the run, ``post_run_cell`` (after the inline backend has shown the figures) ends it and
    shows the summary. Nested cells (``run_cell`` inside a cell) are matched by their info."""

    def __init__(self, shell: InteractiveShell, cells: CellTracker) -> None:
        self.shell = shell
        self.cells = cells
        self._stack: list[_Tracked] = []

    def install(self) -> None:
        cleanup = self.shell.input_transformers_cleanup
        if strip_track_header not in cleanup:
            # First: the body then goes through IPython's own clean-up (leading blank lines,
            # indentation, prompts) exactly as the same cell would untracked.
            cleanup.insert(0, strip_track_header)
        self.shell.events.register("pre_run_cell", self.pre_run_cell)
        self.shell.events.register("post_run_cell", self.post_run_cell)

    def uninstall(self) -> None:
        cleanup = self.shell.input_transformers_cleanup
        while strip_track_header in cleanup:
            cleanup.remove(strip_track_header)
        for event, fn in (
            ("pre_run_cell", self.pre_run_cell),
            ("post_run_cell", self.post_run_cell),
        ):
            with contextlib.suppress(ValueError):  # not registered: nothing to undo
                self.shell.events.unregister(event, fn)

    def pre_run_cell(self, info: Any) -> None:
        raw = info.raw_cell or ""
        if "%%track" not in raw:
            return
        split = split_track_cell(raw)
        if split is None:
            return
        line, body = split
        try:
            options = parse_track_line(line)
        except UsageError:
            return  # the %%track magic runs instead and reports the error
        if not body.strip():
            return  # an empty cell does nothing, tracked or not
        shell = self.shell
        count = shell.execution_count - 1 if info.store_history else shell.execution_count
        try:
            pending = self.cells.begin(
                body,
                shell.user_ns,
                options=options,
                notebook=notebook_path(shell.user_ns),
                execution_count=count,
                cell_id=getattr(info, "cell_id", None),
                analysis_code=getattr(info, "transformed_cell", None),
            )
        except Exception:  # never let tracking stop the cell
            log.exception("%%track could not start the run")
            return
        display_pub = getattr(shell, "display_pub", None)
        capture = _DisplayCapture(display_pub) if display_pub is not None else None
        self._stack.append(_Tracked(info, raw, pending, capture, _TracebackTrim(shell)))

    def post_run_cell(self, result: Any) -> None:
        if not self._stack or self._stack[-1].info is not getattr(result, "info", None):
            return
        tracked = self._stack.pop()
        if tracked.trim is not None:
            tracked.trim.stop()
        figures = None
        if tracked.display is not None:
            tracked.display.stop()
            figures = tracked.display.figures()
        error = result.error_in_exec or result.error_before_exec
        try:
            outcome = self.cells.finish(
                tracked.pending, error, history=self._history(tracked), figures=figures
            )
        except Exception:
            log.exception("%%track could not record the run")
            return
        if outcome.not_recorded:
            warn_not_recorded(outcome.not_recorded)
        elif outcome.run is not None:
            display(RunSummary(outcome.run, diff_runs(outcome.previous, outcome.run)))
            name = tracked.pending.options.register
            if name is not None and error is None:
                self._register(name, outcome.run)

    def _register(self, name: str, run: Any) -> None:
        """``%%track --register NAME``: the cell's model becomes a version of NAME."""
        from ..exceptions import MLOpsError
        from ..registry import ModelRegistry
        from ..validation.registration import register_run_model

        try:
            mv = register_run_model(name, run, None, ModelRegistry(self.cells.tracker.store))
        except MLOpsError as e:
            print(f"%%track --register {name}: not registered: {e}", file=sys.stderr)
            return
        print(f"registered {mv.ref} (a candidate) from run {run.short_id}")

    def _history(self, tracked: _Tracked) -> list[str] | None:
        hm = self.shell.history_manager
        if hm is None:
            return None
        history = list(hm.input_hist_raw[1:])
        if not tracked.info.store_history:  # a nested cell: not in the shell's history
            history.append(tracked.raw_cell.rstrip("\n"))
        return history


@magics_class
class MLOpsMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.cells = CellTracker(default_tracker)
        self.hooks = TrackHooks(shell, self.cells)

    @property
    def _shell(self) -> InteractiveShell:
        # IPython calls a magic through the shell it is registered with, so it is set.
        assert self.shell is not None
        return self.shell

    @magic_arguments()
    @argument("-e", "--experiment", help="Experiment name (default: the notebook's name).")
    @argument("-n", "--name", help="A name for this run.")
    @argument(
        "--seed", type=int, help="Seed for random, NumPy, torch, tensorflow (default: drawn)."
    )
    @argument("--no-seed", action="store_true", help="Do not seed; record no seed.")
    @argument("--params", default="", help="Comma-separated names to record as params.")
    @argument("--tags", default="", help="Comma-separated key=value tags.")
    @argument("--log-model", action="store_true", help="Save fitted estimators as artifacts.")
    @argument(
        "--register",
        metavar="NAME",
        help="Log the cell's model and register it as a new version of NAME (if the cell "
        "raises, nothing is registered).",
    )
    @cell_magic
    def track(self, line: str, cell: str) -> None:
        """Record this cell's execution as a run: params, metrics, seed, data fingerprints,
        code, environment and git state; shows a summary and what changed since the last run.

        As the first line of a cell, ``%%track`` is handled before the cell runs and the cell
        runs as it would untracked; this magic only sees cells whose options are wrong, and
        explicit ``run_cell_magic('track', ...)`` calls, which run the body as a nested cell."""
        parse_track_line(line)  # raises UsageError for bad options
        if cell.strip():
            self._shell.run_cell(f"%%track {line}\n{cell}", store_history=False)


def load_ipython_extension(ipython: Any) -> None:
    from ..tracking.environment import prewarm

    prewarm()  # read the installation's package versions before the first tracked cell
    from .mlops_magic import MLOpsCommands

    magics = MLOpsMagics(ipython)
    ipython.register_magics(magics, MLOpsCommands(ipython))
    magics.hooks.install()
    ipython._jupyter_mlops_magics = magics  # found again by unload


def unload_ipython_extension(ipython: Any) -> None:
    found = getattr(ipython, "_jupyter_mlops_magics", None)
    if found is not None:
        found.hooks.uninstall()
        del ipython._jupyter_mlops_magics
    magics = ipython.magics_manager.magics
    magics["cell"].pop("track", None)
    magics["line"].pop("mlops", None)


__all__ = [
    "MLOpsMagics",
    "TrackHooks",
    "load_ipython_extension",
    "parse_track_line",
    "split_track_cell",
    "unload_ipython_extension",
]
