"""Which columns a runs table shows by default: one rule for the sidebar's grid and the
notebook's runs widget, computed here over a page of rows so every front-end gets the same
answer (it travels on the runs page as ``columns``).

- metrics: the ones most runs of the page have (ties by name);
- params: the ones whose value varies across the page's runs first, shallow names before
  namespaced ones (``C`` before ``clf.C`` or ``clf__C``), so a pipeline's forty constant
  ``clf.*`` defaults never push the metrics off screen; constant params are offered last,
  all-None ones not at all;
- tags: user tags that vary; bookkeeping tags (``rng_state``, ``cwd`` …) are never offered.

A pure function of its input: no store, no clock."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..codec import dumps
from ..entities import RunRow

# Tags the tracker writes for its own bookkeeping: a column of them helps nobody.
SYSTEM_TAGS = frozenset(
    {"rng_state", "cwd", "cell_id", "reproduces", "reproduction", "scheduled_for"}
)
MAX_METRICS = 4  # the panel's "metricColumns" setting defaults to this
MAX_PARAMS = 4
MAX_TAGS = 2
# A namespace (``clf`` of ``clf.C``) gives at most this many default columns, so one estimator
# with many varying hyper-parameters leaves room for the others.
MAX_PER_NAMESPACE = 2


@dataclass(frozen=True)
class RunColumns:
    """The default columns of a runs table (``metrics``, ``params``, ``tags``, in display
    order) and every column a chooser offers (``all_*``, most useful first)."""

    metrics: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    all_metrics: tuple[str, ...] = ()
    all_params: tuple[str, ...] = ()
    all_tags: tuple[str, ...] = ()


def choose_columns(
    rows: Sequence[RunRow],
    tags: Mapping[str, Mapping[str, str]] | None = None,
    max_metrics: int = MAX_METRICS,
    max_params: int = MAX_PARAMS,
    max_tags: int = MAX_TAGS,
) -> RunColumns:
    """The default and available columns for ``rows``; ``tags`` maps a run id to its tags
    (a :class:`RunRow` has none)."""
    metrics = _by_count(r.metrics for r in rows)
    all_params = _rank_params(rows)
    varying = [k for k, v in all_params if v]
    params = _cap_namespaces(varying, max_params)
    if len(rows) == 1:  # nothing can vary: the run's own shallow params
        params = _cap_namespaces([k for k, _ in all_params], max_params)
    tag_maps = [dict(tags.get(r.id, {})) for r in rows] if tags else []
    for t in tag_maps:
        for key in SYSTEM_TAGS & t.keys():
            del t[key]
    all_tags = _by_count(tag_maps)
    tag_values = {k: {t.get(k) for t in tag_maps} for k in all_tags}
    chosen_tags = [k for k in all_tags if len(tag_values[k]) > 1 or len(rows) == 1]
    return RunColumns(
        metrics=tuple(sorted(metrics[: max(max_metrics, 0)])),
        params=tuple(params),
        tags=tuple(chosen_tags[: max(max_tags, 0)]),
        all_metrics=tuple(metrics),
        all_params=tuple(k for k, _ in all_params),
        all_tags=tuple(all_tags),
    )


def _by_count(maps: Iterable[Mapping[str, Any]]) -> list[str]:
    """The keys of ``maps`` that some map gives a value, most frequent first, ties by name."""
    count: Counter[str] = Counter()
    for m in maps:
        count.update(k for k, v in m.items() if v is not None)
    return sorted(count, key=lambda k: (-count[k], k))


def _rank_params(rows: Sequence[RunRow]) -> list[tuple[str, bool]]:
    """Each param that some run sets, with whether it varies, in the order a chooser offers
    them: varying before constant, shallow before namespaced, common before rare, then name."""
    values: dict[str, set[Any]] = {}
    count: Counter[str] = Counter()
    for r in rows:
        for k, v in r.params.items():
            if v is not None:
                values.setdefault(k, set()).add(_hashable(v))
                count[k] += 1
    n = len(rows)
    # A param some runs lack varies too: its column tells those runs apart.
    varies = {k: len(v) > 1 or count[k] < n for k, v in values.items()}
    order = sorted(values, key=lambda k: (not varies[k], _depth(k), -count[k], k))
    return [(k, varies[k]) for k in order]


def _cap_namespaces(keys: list[str], limit: int) -> list[str]:
    """The first ``limit`` of ``keys``, at most MAX_PER_NAMESPACE from one namespace."""
    taken: Counter[str] = Counter()
    out: list[str] = []
    for k in keys:
        if len(out) >= limit:
            break
        ns = _namespace(k)
        if ns and taken[ns] >= MAX_PER_NAMESPACE:
            continue
        taken[ns] += 1
        out.append(k)
    return out


def _namespace(key: str) -> str:
    """``clf`` for ``clf.C`` and for scikit-learn's ``clf__C``; "" for a plain name."""
    return max(key.rpartition(".")[0], key.rpartition("__")[0], key=len)


def _depth(key: str) -> int:
    return key.count(".") + key.count("__")


def _hashable(value: Any) -> Any:
    """A key telling values apart as JSON does (1, 1.0 and True differ); lists and dicts by
    their JSON text. Scalars skip json.dumps: a page has thousands of param values."""
    if isinstance(value, (str, int, float, bool)):
        return (type(value).__name__, value)
    return dumps(value, sort_keys=True)
