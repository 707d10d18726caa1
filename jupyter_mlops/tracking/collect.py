"""What a tracked cell reads and makes, as values: the set-up :meth:`CellTracker.begin` hands
over (:class:`PendingCell`), and what the finished cell produced (:class:`CellMade`: params,
metrics, data read and written, figures, models, the environment), each piece returned by the
function that finds it."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, SupportsFloat, TypeGuard

from ..codec import dumps
from ..entities import Artifact, DataRef, DataRole, Environment
from ..exceptions import MLOpsError
from .analysis import CellAnalysis, code_sha, metric_matcher
from .environment import environment_nowait
from .filewatch import FileCollector
from .fitted import (
    code_names,
    estimator_params,
    fitted_estimators,
    fitted_objects,
    param_value,
    trained_by_functions,
)
from .searches import is_search, record_searches
from .seeding import RngRecorder, random_state_unpinned
from .stdout_tail import StdoutTail
from .tracker import ActiveRun, figure_png
from .trained import trained_models

Metric = tuple[str, float, int, float]  # key, value, step, time


@dataclass(frozen=True)
class TrackOptions:
    experiment: str | None = None
    name: str | None = None
    seed: int | Literal["auto"] | None = "auto"
    params: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    log_model: bool = False
    register: str | None = None  # a model name: the front-end registers the cell's model


@dataclass(frozen=True)
class PendingCell:
    """A tracked cell between :meth:`CellTracker.begin` and :meth:`CellTracker.finish`: the run
    is started, inputs are fingerprinted and the file and stdout watchers are on."""

    run: ActiveRun | None
    code: str
    namespace: dict[str, Any]
    options: TrackOptions
    analysis: CellAnalysis | None = None
    cell_key: tuple[str, ...] = ()
    inputs: tuple[DataRef, ...] = ()
    input_warnings: tuple[str, ...] = ()
    figures_before: frozenset[int] = frozenset()
    rss0: int | None = None
    files: FileCollector | None = None
    tail: StdoutTail | None = None
    rng: RngRecorder | None = None
    not_recorded: str | None = None


@dataclass(frozen=True)
class CellMade:
    """What a finished cell produced. ``environment`` is a future in a session's first cells
    (the installation is still being read): it is recorded when ready."""

    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()
    data: tuple[DataRef, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    warnings: tuple[str, ...] = ()
    environment: Environment | Future[Environment] | None = None


def collect_cell(pending: PendingCell, files: list[str], figures: list[bytes] | None) -> CellMade:
    """What the cell produced; figures and models are stored as content-addressed artifacts
    (``figures``: PNGs the front-end displayed; None: render open matplotlib figures)."""
    run = pending.run
    assert run is not None  # finish() returned early for a run that never started
    ns, analysis = pending.namespace, pending.analysis
    is_metric = metric_matcher(run.tracker.settings.metric_names)
    loop_vars = analysis.loop_vars if analysis else ()
    writes = tuple(w for w in (analysis.writes if analysis else ()) if w not in loop_vars)
    # Only what the cell's code trains is a model of this run: a cell that reads a fitted
    # model (`search.best_score_`, `clf.score(X, y)`) records no params for it.
    trained_here = (
        (*analysis.trained, *trained_by_functions(ns, analysis.calls)) if analysis else ()
    )
    fitted = fitted_objects(ns, trained_here, loop_vars)
    trained = trained_models(run, fitted, list(fitted), log_model=pending.options.log_model)
    estimators = {
        k: v for k, v in fitted_estimators(fitted, fitted).items() if k not in trained.models
    }
    params, param_warnings = cell_params(pending, estimators, is_metric)
    searches = record_searches(run, estimators)
    models = {**estimators, **trained.models}
    data, data_warnings = cell_data(pending, files, writes, models)
    artifacts, artifact_warnings = cell_artifacts(pending, estimators, figures)
    return CellMade(
        params={**params, **searches.params, **trained.params},
        metrics=(
            *cell_metrics(ns, writes, is_metric, run.curve_end),
            *searches.metrics,
            *trained.metrics,
        ),
        data=data,
        artifacts=(*artifacts, *searches.artifacts, *trained.artifacts),
        # The order they were found in: inputs at the start, outputs, figures, then settings.
        warnings=(
            *pending.input_warnings,
            *data_warnings,
            *artifact_warnings,
            *param_warnings,
            *trained.warnings,
        ),
        environment=environment_nowait(),
    )


def cell_params(
    pending: PendingCell, estimators: Mapping[str, Any], is_metric: Callable[[str], bool]
) -> tuple[dict[str, Any], list[str]]:
    """Literal params, ``--params`` names and fitted estimators' params, with the warnings."""
    params: dict[str, Any] = {}
    warnings: list[str] = []
    analysis, ns = pending.analysis, pending.namespace
    if analysis:
        # `acc = 0.5` under a metric name is a result, not a setting: metric only.
        params.update({k: v for k, v in analysis.literal_params.items() if not is_metric(k)})
        # Unseeded default_rng() in a recording cell gets entropy we draw and record.
        recorded = {"default_rng"} if pending.rng is not None else set()
        warnings.extend(w for name, w in analysis.rng_warnings if name not in recorded)
    for name in pending.options.params:
        if name in ns:
            params[name] = param_value(ns[name])
        else:
            warnings.append(f"--params names {name!r}, which the namespace does not define")
    for name, est in estimators.items():
        if not is_search(est):  # a search's params are what it found (see record_searches)
            params.update(estimator_params(name, est))
        base = getattr(est, "estimator", None) if is_search(est) else None
        for label, e in ((name, est), (f"{name}.estimator", base)):
            if e is not None and hasattr(e, "get_params") and random_state_unpinned(e):
                warnings.append(
                    f"{label} ({type(e).__name__}) has random_state=None: any randomness it "
                    "uses comes from NumPy's global state, which depends on what ran before; "
                    "pass random_state= to pin it"
                )
    return params, warnings


def cell_metrics(
    ns: Mapping[str, Any],
    writes: Iterable[str],
    is_metric: Callable[[str], bool],
    curve_end: Callable[[str], int] = lambda key: 0,
) -> tuple[Metric, ...]:
    """Numbers the cell assigned to metric names (``acc = …``): a final value, at the end of
    the metric's curve if the run logged one (:meth:`ActiveRun.curve_end`), else at step 0."""
    now = time.time()
    return tuple(
        (name, float(v), curve_end(name), now)
        for name in writes
        if is_metric(name) and _is_number(v := ns.get(name))
    )


def cell_data(
    pending: PendingCell, files: list[str], writes: Iterable[str], estimators: Mapping[str, Any]
) -> tuple[tuple[DataRef, ...], list[str]]:
    """Data read (names fingerprinted at the start, files opened) and written (names)."""
    from ..hashing.files import file_inputs

    warnings: list[str] = []
    read = file_inputs(files, warnings.append)
    outputs = [w for w in writes if w not in estimators]
    written, more = fingerprint_names(pending.namespace, outputs, DataRole.OUTPUT)
    return (*pending.inputs, *read, *written), warnings + more


def cell_artifacts(
    pending: PendingCell, estimators: Mapping[str, Any], figures: list[bytes] | None
) -> tuple[tuple[Artifact, ...], list[str]]:
    """Figures (as displayed, else rendered once) and, with ``--log-model``, the estimators."""
    run = pending.run
    assert run is not None
    warnings: list[str] = []
    if figures is None:
        figures_made = _render_figures(pending.figures_before, warnings)
    else:
        figures_made = [(f"figure-{i}.png", png) for i, png in enumerate(figures, 1)]
    artifacts = [run.put_bytes(png, name, kind="figure") for name, png in figures_made]
    if pending.options.log_model:
        from ..model_format import dumps

        artifacts += [
            run.put_bytes(dumps(est, name), name, kind="model") for name, est in estimators.items()
        ]
    return tuple(artifacts), warnings


def _render_figures(before: frozenset[int], warnings: list[str]) -> list[tuple[str, bytes]]:
    """Figures still open that the front-end did not display (a terminal, a non-inline
    backend): rendered once, for the store."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    out = []
    for num in sorted(set(plt.get_fignums()) - before):
        try:
            out.append((f"figure-{num}.png", figure_png(plt.figure(num))))
        except (OSError, ValueError, RuntimeError, MLOpsError) as e:
            warnings.append(f"figure {num} was not saved: {e}")
    return out


def figure_numbers() -> frozenset[int]:
    plt = sys.modules.get("matplotlib.pyplot")
    return frozenset(plt.get_fignums()) if plt is not None else frozenset()


def _is_number(v: Any) -> TypeGuard[SupportsFloat]:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    mod = type(v).__module__
    return mod == "numpy" and getattr(v, "ndim", None) == 0 and v.dtype.kind in "iuf"


def expand_reads(ns: Mapping[str, Any], reads: Iterable[str], depth: int = 3) -> list[str]:
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
                code_names(code, found)
        frontier = [n for n in found if n not in seen and n in ns]
        seen.update(dict.fromkeys(frontier))
    return list(seen)


def _attribute_value(ns: Mapping[str, Any], name: str) -> Any:
    """The value of ``base.attr`` when ``base`` is a namespace object holding data (a
    scikit-learn ``Bunch``, a ``SimpleNamespace``): read from its dict, so that no property
    runs. None for data itself (``df.values``: ``df`` is the input) and for models."""
    from ..hashing import is_data

    base, _, attr = name.partition(".")
    obj = ns.get(base)
    if obj is None or is_data(obj) or isinstance(obj, ModuleType):  # np.pi is no input
        return None
    if hasattr(obj, "fit") or hasattr(obj, "predict"):  # a model's fitted attributes
        return None
    if isinstance(obj, Mapping):
        return obj.get(attr)
    return getattr(obj, "__dict__", {}).get(attr)


def fingerprint_names(
    ns: Mapping[str, Any], names: Iterable[str], role: DataRole
) -> tuple[list[DataRef], list[str]]:
    """The data among ``names`` fingerprinted (``digits.data``: an attribute of a namespace
    object), and a warning per one that could not be."""
    from ..hashing import fingerprint, is_data

    refs, warnings = [], []
    for name in names:
        obj = _attribute_value(ns, name) if "." in name else ns.get(name)
        if obj is None or not is_data(obj) or holds_plot_handles(obj):
            continue
        try:
            refs.append(DataRef(role, name, fingerprint(obj)))
        except MLOpsError as e:
            warnings.append(f"{name} was not fingerprinted: {e}")
    return refs, warnings


# Libraries whose objects are drawings, not data: `fig, axes = plt.subplots(1, 2)` and
# `df.hist()` return NumPy arrays of matplotlib Axes, which is_data takes for data.
_PLOT_LIBRARIES = frozenset(
    {"matplotlib", "seaborn", "plotly", "bokeh", "altair", "holoviews", "hvplot", "mpl_toolkits"}
)


def holds_plot_handles(obj: Any) -> bool:
    """True for an object array of plotting objects (Axes, figures), which is no dataset."""
    if getattr(getattr(obj, "dtype", None), "kind", None) != "O" or not getattr(obj, "size", 0):
        return False
    flat = getattr(obj, "flat", None)
    if flat is None:  # a pandas object of objects: plots in a Series are rare, and it is data
        return False
    # The first few suffice: a plotting call fills the whole array with its handles.
    return all(type(x).__module__.partition(".")[0] in _PLOT_LIBRARIES for x in flat[:16])


def literal_inputs(analysis: CellAnalysis) -> list[DataRef]:
    """Large literal containers (a table typed into the cell) as fingerprinted inputs."""
    from ..hashing import fingerprint

    refs = []
    for name, value in analysis.literal_inputs.items():
        text = dumps(value, sort_keys=True).encode()
        fp = dataclasses.replace(fingerprint(text), kind="literal", shape=(len(value),))
        refs.append(DataRef(DataRole.INPUT, name, fp))
    return refs


class SessionCode:
    """The code a session's runs record: each cell's text is sent once per store (later runs
    name its sha), and the session history's hashes are computed once per cell."""

    def __init__(self) -> None:
        self._known: dict[str, set[str]] = {}  # store location -> code already written
        self._history: tuple[list[str], list[str]] = ([], [])

    def record(
        self, code: str, history: list[str] | None, store: str
    ) -> tuple[str, dict[str, str], list[str] | None]:
        """``(sha of code, texts not yet sent to store by sha, history shas)``."""
        known = self._known.setdefault(store, set())
        sha = code_sha(code)
        texts = {sha: code}
        shas = None
        if history is not None:
            shas = self._history_shas(history)
            texts.update(zip(shas, history, strict=True))
        new = {s: t for s, t in texts.items() if s not in known}
        known.update(texts)
        return sha, new, shas

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


__all__ = [
    "CellMade",
    "PendingCell",
    "SessionCode",
    "TrackOptions",
    "collect_cell",
    "expand_reads",
    "figure_numbers",
    "fingerprint_names",
    "fitted_estimators",
    "holds_plot_handles",
    "literal_inputs",
]
