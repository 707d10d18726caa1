"""Track one notebook cell as a run: the core of ``%%track``, with no IPython in sight.

The front-end hands over the cell's code, its namespace and a callable that executes it; this
module parses the code (params are literal assignments, inputs the names it reads), fingerprints
what the cell reads, seeds, watches the files it opens and its stdout, then records what it
produced. Everything the user's code does runs exactly once and exceptions pass through unchanged.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, SupportsFloat, TypeGuard

from .entities import DataRef, DataRole, Run, RunKind
from .environment import current_environment, peak_rss, reset_peak_rss
from .exceptions import MLOpsError, StoreError
from .filewatch import files_opened
from .outputs import StdoutTail
from .seeding import random_state_unpinned, unseeded_rng_calls
from .store import RunUpdate
from .tracking import ActiveRun, Tracker, status_for_exception

log = logging.getLogger(__name__)

_METRIC_PREFIXES = ("", "train_", "val_", "valid_", "test_", "eval_", "cv_", "mean_")


@dataclass(frozen=True)
class TrackOptions:
    experiment: str | None = None
    name: str | None = None
    seed: int | Literal["auto"] | None = "auto"
    params: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    log_model: bool = False


@dataclass(frozen=True)
class CellAnalysis:
    literal_params: dict[str, Any]
    reads: tuple[str, ...]  # names read before the cell assigns them, in order of first use
    writes: tuple[str, ...]  # names the cell assigns
    rng_warnings: tuple[str, ...]


@dataclass
class CellResult:
    """What ``track_cell`` recorded (``run`` is None when the store could not be written)."""

    run: Run | None
    previous: Run | None = None
    not_recorded: str | None = None
    error: BaseException | None = None
    value: Any = None


def code_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class _Names(ast.NodeVisitor):
    """Names a cell reads (before assigning them) and writes, in source order."""

    def __init__(self) -> None:
        self.reads: dict[str, None] = {}
        self.writes: dict[str, None] = {}

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if node.id not in self.writes:
                self.reads.setdefault(node.id)
        else:
            self.writes.setdefault(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)  # the right side is evaluated first
        for t in node.targets:
            self.visit(t)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.reads.setdefault(node.target.id) if node.target.id not in self.writes else None
        self.visit(node.target)

    def _scope(self, node: ast.AST) -> None:
        # Function/class bodies run later (or never): only their name is written now.
        self.writes.setdefault(node.name)  # type: ignore[attr-defined]
        for d in getattr(node, "decorator_list", []):
            self.visit(d)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scope

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for a in node.names:
            self.writes.setdefault((a.asname or a.name).split(".")[0])

    visit_ImportFrom = visit_Import


def _literal_params(tree: ast.Module) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and value is not None:
            try:
                params[target.id] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    return params


@lru_cache(maxsize=256)
def analyze_cell(code: str) -> CellAnalysis | None:
    """Params, reads, writes and RNG warnings of ``code``; None if it is not plain Python."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    names = _Names()
    names.visit(tree)
    return CellAnalysis(
        literal_params={k: v for k, v in _literal_params(tree).items() if _is_json_literal(v)},
        reads=tuple(names.reads),
        writes=tuple(names.writes),
        rng_warnings=tuple(unseeded_rng_calls(tree)),
    )


def _is_json_literal(v: Any) -> bool:
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (list, tuple)):
        return all(_is_json_literal(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _is_json_literal(x) for k, x in v.items())
    return False


def is_metric_name(name: str, metric_names: Iterable[str]) -> bool:
    names = set(metric_names)
    return any(name.startswith(p) and name[len(p) :] in names for p in _METRIC_PREFIXES) or any(
        name.endswith("_" + n) for n in names
    )


def _is_number(v: Any) -> TypeGuard[SupportsFloat]:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    mod = type(v).__module__
    return mod == "numpy" and getattr(v, "ndim", None) == 0 and v.dtype.kind in "iuf"


def _fitted_estimators(ns: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """scikit-learn estimators among ``names`` that are fitted (pipelines included)."""
    if "sklearn" not in sys.modules:
        return {}
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    out = {}
    for n in names:
        obj = ns.get(n)
        if isinstance(obj, BaseEstimator):
            try:
                check_is_fitted(obj)
            except (NotFittedError, TypeError, ValueError, AttributeError):
                continue
            out[n] = obj
    return out


def _holds_estimators(value: Any) -> bool:
    if not isinstance(value, (list, tuple)):
        return False
    items = [i for v in value for i in (v if isinstance(v, tuple) else (v,))]
    return any(hasattr(i, "get_params") for i in items)


def _estimator_params(name: str, est: Any) -> dict[str, Any]:
    from .entities import to_jsonable

    out = {}
    for k, v in est.get_params(deep=True).items():
        if _holds_estimators(v):  # Pipeline.steps and the like: the steps' params follow
            continue
        if hasattr(v, "get_params"):  # a nested estimator: its own params follow as a__b
            v = type(v).__name__
        elif callable(v):
            v = getattr(v, "__name__", repr(v))
        out[f"{name}.{k}"] = to_jsonable(v)
    return out


class CellTracker:
    """Per-shell state for ``%%track``: the tracker and the executed-code history."""

    def __init__(self, tracker_factory: Callable[[], Tracker]) -> None:
        self._factory = tracker_factory
        self._known_code: dict[str, set[str]] = {}  # store location -> code already written
        self._history: tuple[list[str], list[str]] = ([], [])

    @property
    def tracker(self) -> Tracker:
        return self._factory()

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
    ) -> CellResult:
        """Execute ``execute()`` as a tracked run. Exceptions from it propagate unchanged after
        the run is recorded; store failures never stop the user's code (``not_recorded``)."""
        analysis = analyze_cell(code)
        try:
            tracker = self.tracker
            experiment = options.experiment or _default_experiment(notebook)
            run = tracker.start_run(
                experiment=experiment,
                name=options.name,
                seed=options.seed,
                kind=RunKind.CELL,
                tags=options.tags,
                notebook=notebook,
                execution_count=execution_count,
            )
        except MLOpsError as e:
            # Unrecordable (read-only store, disk full): the code still runs.
            return CellResult(run=None, not_recorded=str(e), value=execute())
        reads = _expand_reads(namespace, analysis.reads) if analysis else ()
        inputs = _fingerprint_names(namespace, reads, DataRole.INPUT, run)
        figs_before = _figure_numbers()
        rss0 = reset_peak_rss()
        tail = StdoutTail(tracker.settings.capture_stdout_chars)
        error: BaseException | None = None
        value = None
        with files_opened(exclude=(str(tracker.store.workdir),)) as files:
            run.__enter__()
            try:
                with tail:
                    value = execute()
            except BaseException as e:  # recorded below, then re-raised unchanged by the caller
                error = e
        peak = peak_rss()
        try:
            update = self._collect(
                run, code, namespace, analysis, options, inputs, files, figs_before, history
            )
        except Exception as e:  # collecting must never cost the user the run itself
            log.exception("collecting run details failed")
            update = RunUpdate(warnings=[f"some run details were not collected: {e!r}"])
        update.stdout_tail = tail.text()
        update.peak_memory = None if (peak is None or rss0 is None) else max(0, peak - rss0)
        run.attach(update)
        return self._end(run, error, value)

    def _end(self, run: ActiveRun, error: BaseException | None, value: Any) -> CellResult:
        tracker = run.tracker
        try:
            # Written in the background; the summary shows the run as held in memory.
            run.end(*status_for_exception(error), wait=False)
            recorded = run.snapshot()
            previous = tracker.previous_run(recorded)
            failure = run.settle()
        except StoreError as e:
            return CellResult(run=None, not_recorded=str(e), error=error, value=value)
        if failure is not None:
            return CellResult(run=None, not_recorded=failure, error=error, value=value)
        return CellResult(run=recorded, previous=previous, error=error, value=value)

    def _collect(
        self,
        run: ActiveRun,
        code: str,
        ns: dict[str, Any],
        analysis: CellAnalysis | None,
        options: TrackOptions,
        inputs: list[DataRef],
        files: list[str],
        figs_before: set[int],
        history: list[str] | None,
    ) -> RunUpdate:
        u = RunUpdate()
        settings = run.tracker.settings
        writes = analysis.writes if analysis else ()
        if analysis:
            # `acc = 0.5` under a metric name is a result, not a setting: metric only.
            u.params.update(
                {
                    k: v
                    for k, v in analysis.literal_params.items()
                    if not is_metric_name(k, settings.metric_names)
                }
            )
            u.warnings.extend(analysis.rng_warnings)
        for name in options.params:
            if name in ns:
                from .entities import to_jsonable

                u.params[name] = to_jsonable(ns[name])
            else:
                u.warnings.append(f"--params names {name!r}, which the namespace does not define")
        estimators = _fitted_estimators(ns, (*writes, *(analysis.reads if analysis else ())))
        for name, est in estimators.items():
            u.params.update(_estimator_params(name, est))
            if random_state_unpinned(est):
                u.warnings.append(
                    f"{name} ({type(est).__name__}) has random_state=None: any randomness it "
                    "uses comes from NumPy's global state, which depends on what ran before; "
                    "pass random_state= to pin it"
                )
        now = time.time()
        for name in writes:
            v = ns.get(name)
            if is_metric_name(name, settings.metric_names) and _is_number(v):
                u.metrics.append((name, float(v), 0, now))
        u.data.extend(inputs)
        u.data.extend(_fingerprint_files(files, run))
        u.data.extend(
            _fingerprint_names(ns, [w for w in writes if w not in estimators], DataRole.OUTPUT, run)
        )
        self._figures(run, figs_before)
        if options.log_model:
            for name, est in estimators.items():
                run.log_model(est, name)
        self._code(u, code, history, run.tracker.store.location)
        u.environment = current_environment()
        return u

    def _figures(self, run: ActiveRun, before: set[int]) -> None:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return
        for num in sorted(set(plt.get_fignums()) - before):
            try:
                run.log_figure(plt.figure(num), f"figure-{num}.png")
            except (OSError, ValueError, RuntimeError, MLOpsError) as e:
                run.warn(f"figure {num} was not saved: {e}")

    def _code(self, u: RunUpdate, code: str, history: list[str] | None, store: str) -> None:
        known = self._known_code.setdefault(store, set())
        u.code_sha = code_sha(code)
        texts = {u.code_sha: code}
        if history is not None:
            u.history = self._history_shas(history)
            texts.update(zip(u.history, history, strict=True))
        u.code = {s: t for s, t in texts.items() if s not in known}
        known.update(texts)

    def _history_shas(self, history: list[str]) -> list[str]:
        """Hashes of the session's cells; only cells added since the last run are hashed
        (the history only grows, unless reset, which the identity check notices)."""
        texts, shas = self._history
        n = len(texts)
        if len(history) < n or any(history[i] is not texts[i] for i in (0, n - 1) if n):
            texts, shas, n = [], [], 0
        shas = shas + [code_sha(t) for t in history[n:]]
        self._history = (list(history), shas)
        return shas


def _code_names(code: Any, out: dict[str, None]) -> None:
    out.update(dict.fromkeys(code.co_names))
    for const in code.co_consts:  # nested functions, lambdas, comprehensions
        if hasattr(const, "co_names"):
            _code_names(const, out)


def _expand_reads(ns: Mapping[str, Any], reads: Iterable[str], depth: int = 3) -> list[str]:
    """Names the cell reads, plus the globals read by functions it calls that were defined in
    the notebook (``train(C)`` reading ``X_train``), followed ``depth`` levels deep."""
    seen: dict[str, None] = dict.fromkeys(reads)
    frontier = list(seen)
    for _ in range(depth):
        found: dict[str, None] = {}
        for name in frontier:
            fn = ns.get(name)
            code = getattr(fn, "__code__", None)
            if code is not None and getattr(fn, "__globals__", None) is ns:
                _code_names(code, found)
        frontier = [n for n in found if n not in seen and n in ns]
        seen.update(dict.fromkeys(frontier))
    return list(seen)


def _default_experiment(notebook: str | None) -> str:
    return Path(notebook).stem if notebook else "default"


def _figure_numbers() -> set[int]:
    plt = sys.modules.get("matplotlib.pyplot")
    return set(plt.get_fignums()) if plt is not None else set()


def _fingerprint_names(
    ns: Mapping[str, Any], names: Iterable[str], role: DataRole, run: ActiveRun
) -> list[DataRef]:
    from .hashing import fingerprint, is_data

    refs = []
    for name in names:
        obj = ns.get(name)
        if obj is None or not is_data(obj):
            continue
        try:
            refs.append(DataRef(role, name, fingerprint(obj)))
        except MLOpsError as e:
            run.warn(f"{name} was not fingerprinted: {e}")
    return refs


def _fingerprint_files(paths: list[str], run: ActiveRun) -> list[DataRef]:
    from .hashing import fingerprint_file

    refs = []
    cwd = Path.cwd()
    for p in paths:
        try:
            name = str(Path(p).relative_to(cwd))
        except ValueError:
            name = p
        try:
            refs.append(DataRef(DataRole.INPUT, name, fingerprint_file(p)))
        except MLOpsError as e:
            run.warn(f"file {p} was not fingerprinted: {e}")
    return refs


__all__ = [
    "CellAnalysis",
    "CellResult",
    "CellTracker",
    "TrackOptions",
    "analyze_cell",
    "is_metric_name",
]
