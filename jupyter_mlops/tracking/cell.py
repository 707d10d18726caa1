"""Track one notebook cell as a run: the core of ``%%track``, with no IPython in sight.

The front-end calls :meth:`CellTracker.begin` just before the shell runs the cell and
:meth:`CellTracker.finish` just after, so the user's code runs exactly as it would untracked.
This module parses the code (params are literal assignments, inputs the names it reads),
fingerprints what the cell reads, seeds, watches the files it opens and its stdout, then records
what it produced.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, SupportsFloat, TypeGuard

from ..codec import dumps
from ..config import default_experiment
from ..entities import DataRef, DataRole, Environment, Run, RunKind
from ..exceptions import MLOpsError, StoreError
from ..store import RunUpdate
from .environment import environment_nowait, peak_rss, reset_peak_rss
from .filewatch import FileCollector
from .seeding import RNG_STATE_TAG, RngRecorder, random_state_unpinned, unseeded_rng_creations
from .stdout_tail import StdoutTail
from .tracker import REPRODUCES_TAG, ActiveRun, Tracker, status_for_exception

log = logging.getLogger(__name__)

_METRIC_PREFIXES = ("", "train_", "val_", "valid_", "test_", "eval_", "cv_", "mean_")
CELL_ID_TAG = "cell_id"  # the Jupyter cell id a run came from, when the front-end sends one
CWD_TAG = "cwd"  # the kernel's working directory when the cell ran
# A literal container larger than this is data (a table typed into the cell), not a setting:
# it is fingerprinted as an input instead of being stored as a param.
MAX_PARAM_ITEMS = 20
MAX_PARAM_CHARS = 250


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
    literal_inputs: dict[str, Any]  # literal containers too large to be params (data)
    reads: tuple[str, ...]  # names read before the cell assigns them, in order of first use
    writes: tuple[str, ...]  # names the cell assigns
    rng_warnings: tuple[tuple[str, str], ...]  # (called name, warning) per unseeded RNG


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
    params: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    for k, v in _literal_params(tree).items():
        if not _is_json_literal(v):
            continue
        (inputs if _is_large_container(v) else params)[k] = v
    return CellAnalysis(
        literal_params=params,
        literal_inputs=inputs,
        reads=tuple(names.reads),
        writes=tuple(names.writes),
        rng_warnings=tuple(unseeded_rng_creations(tree)),
    )


def _is_json_literal(v: Any) -> bool:
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (list, tuple)):
        return all(_is_json_literal(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _is_json_literal(x) for k, x in v.items())
    return False


def _is_large_container(v: Any) -> bool:
    if not isinstance(v, (list, tuple, dict)):
        return False
    if len(v) > MAX_PARAM_ITEMS:
        return True
    return len(dumps(v)) > MAX_PARAM_CHARS


@lru_cache(maxsize=16)
def metric_matcher(metric_names: tuple[str, ...]) -> Callable[[str], bool]:
    """A predicate saying whether a variable name is a metric (``accuracy``, ``val_loss``,
    ``model_f1`` …), built once per settings: a tracked cell asks it for every name it writes."""
    names = frozenset(metric_names)
    prefixes = tuple(p for p in _METRIC_PREFIXES if p)

    @lru_cache(maxsize=4096)
    def is_metric(name: str) -> bool:
        if name in names:
            return True
        for p in prefixes:
            if name.startswith(p) and name[len(p) :] in names:
                return True
        i = name.find("_")
        while i != -1:  # any suffix after an underscore: `model_f1`, `holdout_val_loss`
            if name[i + 1 :] in names:
                return True
            i = name.find("_", i + 1)
        return False

    return is_metric


def is_metric_name(name: str, metric_names: Iterable[str]) -> bool:
    return metric_matcher(tuple(metric_names))(name)


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
    from ..entities import to_jsonable

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


@dataclass
class PendingCell:
    """A tracked cell between :meth:`CellTracker.begin` and :meth:`CellTracker.finish`: the run
    is started, inputs are fingerprinted and the file and stdout watchers are on."""

    run: ActiveRun | None
    code: str
    namespace: dict[str, Any]
    options: TrackOptions
    analysis: CellAnalysis | None = None
    cell_key: tuple[str, ...] = ()
    inputs: list[DataRef] = field(default_factory=list)
    figures_before: set[int] = field(default_factory=set)
    rss0: int | None = None
    files: FileCollector | None = None
    tail: StdoutTail | None = None
    not_recorded: str | None = None
    late_environment: Future[Environment] | None = None
    rng: RngRecorder | None = None


class CellCollector:
    """What a finished ``%%track`` cell produced, gathered into one ``RunUpdate``: params
    (literal, ``--params``, estimators'), metrics, data read and written, figures, models and
    the environment. Figures and models are logged on the run as they are found."""

    def __init__(self, pending: PendingCell, files: list[str], figures: list[bytes] | None) -> None:
        assert pending.run is not None  # finish() returned early for a run that never started
        self.pending = pending
        self.run: ActiveRun = pending.run
        self.ns = pending.namespace
        self.analysis = pending.analysis
        self.files = files
        self.figures = figures
        self.update = RunUpdate()
        self.is_metric = metric_matcher(self.run.tracker.settings.metric_names)
        self.writes = self.analysis.writes if self.analysis else ()
        reads = self.analysis.reads if self.analysis else ()
        self.estimators = _fitted_estimators(self.ns, (*self.writes, *reads))

    def collect(self) -> RunUpdate:
        self.params()
        self.metrics()
        self.data()
        self.artifacts()
        self.environment()
        return self.update

    def params(self) -> None:
        u, analysis = self.update, self.analysis
        if analysis:
            # `acc = 0.5` under a metric name is a result, not a setting: metric only.
            literal = analysis.literal_params.items()
            u.params.update({k: v for k, v in literal if not self.is_metric(k)})
            # Unseeded default_rng() in a recording cell gets entropy we draw and record.
            recorded = {"default_rng"} if self.pending.rng is not None else set()
            u.warnings.extend(w for name, w in analysis.rng_warnings if name not in recorded)
        for name in self.pending.options.params:
            if name in self.ns:
                from ..entities import to_jsonable

                u.params[name] = to_jsonable(self.ns[name])
            else:
                u.warnings.append(f"--params names {name!r}, which the namespace does not define")
        for name, est in self.estimators.items():
            u.params.update(_estimator_params(name, est))
            if random_state_unpinned(est):
                u.warnings.append(
                    f"{name} ({type(est).__name__}) has random_state=None: any randomness it "
                    "uses comes from NumPy's global state, which depends on what ran before; "
                    "pass random_state= to pin it"
                )

    def metrics(self) -> None:
        now = time.time()
        for name in self.writes:
            if self.is_metric(name):
                v = self.ns.get(name)
                if _is_number(v):
                    self.update.metrics.append((name, float(v), 0, now))

    def data(self) -> None:
        from ..hashing.files import file_inputs

        data = self.update.data
        data.extend(self.pending.inputs)
        data.extend(file_inputs(self.files, self.run.warn))
        outputs = [w for w in self.writes if w not in self.estimators]
        data.extend(_fingerprint_names(self.ns, outputs, DataRole.OUTPUT, self.run))

    def artifacts(self) -> None:
        if self.figures is None:
            self._render_figures()
        else:
            for i, png in enumerate(self.figures, 1):
                self.run.log_bytes(png, f"figure-{i}.png", kind="figure")
        if self.pending.options.log_model:
            for name, est in self.estimators.items():
                self.run.log_model(est, name)

    def _render_figures(self) -> None:
        """Figures still open that the front-end did not display (a terminal, a non-inline
        backend): render them once, for the store."""
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return
        for num in sorted(set(plt.get_fignums()) - self.pending.figures_before):
            try:
                self.run.log_figure(plt.figure(num), f"figure-{num}.png")
            except (OSError, ValueError, RuntimeError, MLOpsError) as e:
                self.run.warn(f"figure {num} was not saved: {e}")

    def environment(self) -> None:
        env = environment_nowait()
        if isinstance(env, Future):  # the first cells of a session: recorded when ready
            self.pending.late_environment = env
        else:
            self.update.environment = env


class CellTracker:
    """Per-shell state for ``%%track``: the tracker, the executed-code history and the last
    recorded run of each cell (what the next run of that cell is compared with).

    A front-end calls :meth:`begin` just before the cell's code runs and :meth:`finish` just
    after, so the code runs exactly as it would untracked (the shell runs it, not us).
    """

    def __init__(self, tracker_factory: Callable[[], Tracker]) -> None:
        self._factory = tracker_factory
        self._known_code: dict[str, set[str]] = {}  # store location -> code already written
        self._history: tuple[list[str], list[str]] = ([], [])
        # (store, experiment, cell key) -> the last recorded run of that cell, kept in memory
        # so the comparison costs no store read.
        self._last_runs: dict[tuple[str, str, str], Run] = {}

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
                wait=False,  # waited for below: the set-up runs while the row is written
            )
        except MLOpsError as e:  # unrecordable (read-only store, disk full): the code still runs
            return PendingCell(None, code, namespace, options, not_recorded=str(e))
        pending = PendingCell(run, code, namespace, options, analysis)
        pending.cell_key = _cell_keys(cell_id, code, analysis)
        reads = _expand_reads(namespace, analysis.reads) if analysis else ()
        pending.inputs = _fingerprint_names(namespace, reads, DataRole.INPUT, run)
        if analysis:
            pending.inputs += _literal_inputs(analysis, run)
        pending.figures_before = _figure_numbers()
        pending.rss0 = reset_peak_rss()
        store_dir = str(tracker.store.workdir)
        pending.files = FileCollector(exclude=(store_dir,)).start()
        pending.tail = StdoutTail(tracker.settings.capture_stdout_chars).start()
        if options.seed is not None:  # --no-seed: record nothing
            pending.rng = RngRecorder(None if options.seed == "auto" else options.seed).start()
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
        peak = peak_rss()
        try:
            update = self._collect(pending, files, history, figures)
        except Exception as e:  # collecting must never cost the user the run itself
            log.exception("collecting run details failed")
            update = RunUpdate(warnings=[f"some run details were not collected: {e!r}"])
        update.stdout_tail = pending.tail.text() if pending.tail is not None else None
        if rng is not None:  # content-addressed: `reproduce` restores it before the replay
            update.code[rng[0]] = rng[1]
            update.tags[RNG_STATE_TAG] = rng[0]
        rss0 = pending.rss0
        update.peak_memory = None if (peak is None or rss0 is None) else max(0, peak - rss0)
        run.attach(update)
        result = self._end(run, pending.cell_key, error)
        if pending.late_environment is not None:
            pending.late_environment.add_done_callback(
                lambda f: _record_environment(run.tracker, run.id, f)
            )
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
        result = self.finish(pending, error, history=history)
        result.value = value
        return result

    def _end(
        self, run: ActiveRun, cell_key: tuple[str, ...], error: BaseException | None
    ) -> CellResult:
        tracker = run.tracker
        location = tracker.store.location
        try:
            # Written in the background; the summary shows the run as held in memory.
            run.end(*status_for_exception(error), wait=False)
            recorded = run.snapshot()
            previous = self._previous_run(tracker, run, cell_key)
            failure = run.settle()
        except StoreError as e:
            return CellResult(run=None, not_recorded=str(e), error=error)
        if failure is not None:
            return CellResult(run=None, not_recorded=failure, error=error)
        for key in cell_key:
            self._last_runs[(location, run.experiment, key)] = recorded
        return CellResult(run=recorded, previous=previous, error=error)

    def _previous_run(
        self, tracker: Tracker, run: ActiveRun, cell_key: tuple[str, ...]
    ) -> Run | None:
        """The last run of the same cell: from memory, or, for a Jupyter cell id not yet seen
        in this session (a restarted kernel), the latest run the store holds with that id."""
        location = tracker.store.location
        for key in cell_key:
            found = self._last_runs.get((location, run.experiment, key))
            if found is not None:
                return found
        if cell_key and cell_key[0].startswith("id:"):
            ids = tracker.store.search_run_ids(
                experiment=run.experiment,
                where=f"tags.{CELL_ID_TAG} == {cell_key[0][3:]!r}"
                f" and tags.{REPRODUCES_TAG} is None",
                order_by="-started",
                limit=2,
            )
            for rid in ids:
                if rid != run.id:
                    return tracker.store.get_run(rid)
        return None

    def _collect(
        self,
        pending: PendingCell,
        files: list[str],
        history: list[str] | None,
        figures: list[bytes] | None,
    ) -> RunUpdate:
        update = CellCollector(pending, files, figures).collect()
        assert pending.run is not None
        self._code(update, pending.code, history, pending.run.tracker.store.location)
        return update

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


def _record_environment(tracker: Tracker, run_id: str, future: Future[Environment]) -> None:
    if future.exception() is not None:
        log.warning("could not read the environment of run %s: %s", run_id[:8], future.exception())
        return
    try:
        tracker.store.update_run(run_id, RunUpdate(environment=future.result()))
    except StoreError as e:
        log.warning("could not record the environment of run %s: %s", run_id[:8], e)


def _cell_keys(cell_id: str | None, code: str, analysis: CellAnalysis | None) -> tuple[str, ...]:
    """What identifies "the same cell" across runs: the Jupyter cell id when the front-end
    sends one; otherwise its code lineage: the same code, or the same literal params (the cell
    edited only in its values)."""
    if cell_id:
        return (f"id:{cell_id}",)
    keys = [f"code:{code_sha(code)}"]
    if analysis and analysis.literal_params:
        keys.append("params:" + ",".join(sorted(analysis.literal_params)))
    return tuple(keys)


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


def _figure_numbers() -> set[int]:
    plt = sys.modules.get("matplotlib.pyplot")
    return set(plt.get_fignums()) if plt is not None else set()


def _fingerprint_names(
    ns: Mapping[str, Any], names: Iterable[str], role: DataRole, run: ActiveRun
) -> list[DataRef]:
    from ..hashing import fingerprint, is_data

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


def _literal_inputs(analysis: CellAnalysis, run: ActiveRun) -> list[DataRef]:
    """Large literal containers (a table typed into the cell) as fingerprinted inputs."""
    import dataclasses

    from ..hashing import fingerprint

    refs = []
    for name, value in analysis.literal_inputs.items():
        text = dumps(value, sort_keys=True).encode()
        fp = dataclasses.replace(fingerprint(text), kind="literal", shape=(len(value),))
        refs.append(DataRef(DataRole.INPUT, name, fp))
    return refs


__all__ = [
    "CellAnalysis",
    "CellCollector",
    "CellResult",
    "CellTracker",
    "PendingCell",
    "TrackOptions",
    "analyze_cell",
    "is_metric_name",
    "metric_matcher",
]
