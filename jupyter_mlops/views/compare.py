"""Runs side by side (``GET compare``, ``jupyter-mlops compare``, ``%mlops compare``) and the
list of experiments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import ValidationError
from .values import View, to_jsonable

if TYPE_CHECKING:
    import pandas as pd

    from ..entities import Run
    from ..tracking import Tracker


@dataclass(frozen=True)
class CompareRow(View):
    """A param or metric (``params.C``, ``metrics.acc``) across the runs, by short id."""

    key: str
    differs: bool
    values: dict[str, Any]  # short id -> value: params are free-form


@dataclass(frozen=True)
class Comparison(View):
    """Params and metrics of runs aligned, differing rows first in each group. ``names``: each
    run's name (its short id when it has none), what charts label it by; ``stepped``: the
    metrics some run logged as a curve (at a step above 0), the others are scalars."""

    runs: tuple[str, ...]
    columns: tuple[str, ...]  # the runs' short ids, the keys of each row's values
    inputs_changed: dict[str, dict[str, list[str]]]  # input -> run id -> changed parts
    rows: tuple[CompareRow, ...]
    names: tuple[str, ...]
    stepped: tuple[str, ...]

    def frame(self) -> pd.DataFrame:
        """As ``compare_frame`` lays it out: ``differs``, then a column per run (short id)."""
        import pandas as pd

        return pd.DataFrame(
            [[r.differs, *(r.values.get(c) for c in self.columns)] for r in self.rows],
            index=[r.key for r in self.rows],
            columns=["differs", *self.columns],
            dtype=object,
        )


NEEDS_TWO = "compare needs at least two run ids, e.g. 3f2a 9c1e"


def compare_runs(tracker: Tracker, run_ids: list[str]) -> Comparison:
    """Runs ``run_ids`` (ids or unique prefixes) compared; at least two."""
    from ..tracking.compare import compare_frame, inputs_changed

    if len(run_ids) < 2:
        raise ValidationError(NEEDS_TWO)
    runs = [tracker.get_run(r) for r in run_ids]
    frame = compare_frame(runs)
    columns = tuple(r.short_id for r in runs)
    rows = tuple(
        CompareRow(str(key), bool(row["differs"]), {c: to_jsonable(row[c]) for c in columns})
        for key, row in frame.iterrows()
    )
    stepped: set[str] = set()
    for run in runs:
        hist = tracker.metric_history(run.id)
        stepped.update(hist.loc[hist["step"] > 0, "key"].tolist())
    return Comparison(
        tuple(r.id for r in runs),
        columns,
        inputs_changed(runs),
        rows,
        run_labels(runs),
        tuple(sorted(stepped)),
    )


def run_labels(runs: list[Run]) -> tuple[str, ...]:
    """Each run's name, with its short id when it has none or shares it with another run."""
    names = [r.name or "" for r in runs]
    return tuple(
        n if n and names.count(n) == 1 else f"{n} {r.short_id}".strip()
        for n, r in zip(names, runs, strict=True)
    )


@dataclass(frozen=True)
class Experiments(View):
    experiments: tuple[str, ...]


def experiments(tracker: Tracker) -> Experiments:
    return Experiments(tuple(tracker.store.experiments()))
