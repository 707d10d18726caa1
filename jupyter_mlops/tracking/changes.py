""" "Changes vs": which earlier run a tracked cell is compared with. The last run of each cell is
kept in memory, so re-running a cell costs no store read; only a Jupyter cell id this session
has not seen (a restarted kernel) asks the store for the latest run with that id."""

from __future__ import annotations

from ..entities import Run
from .analysis import CellAnalysis, code_sha
from .tracker import REPRODUCES_TAG, Tracker

CELL_ID_TAG = "cell_id"  # the Jupyter cell id a run came from, when the front-end sends one


def cell_keys(cell_id: str | None, code: str, analysis: CellAnalysis | None) -> tuple[str, ...]:
    """What identifies "the same cell" across runs: the Jupyter cell id when the front-end
    sends one; otherwise its code lineage: the same code, or the same literal params (the cell
    edited only in its values)."""
    if cell_id:
        return (f"id:{cell_id}",)
    keys = [f"code:{code_sha(code)}"]
    if analysis and analysis.literal_params:
        keys.append("params:" + ",".join(sorted(analysis.literal_params)))
    return tuple(keys)


class LastRuns:
    """The last recorded run of each cell, per store and experiment."""

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str, str], Run] = {}

    def previous(
        self, tracker: Tracker, experiment: str, run_id: str, keys: tuple[str, ...]
    ) -> Run | None:
        """The last run of the cell ``keys`` name, other than ``run_id``: from memory, or, for
        a Jupyter cell id not yet seen in this session, the latest the store holds."""
        location = tracker.store.location
        for key in keys:
            found = self._runs.get((location, experiment, key))
            if found is not None:
                return found
        if keys and keys[0].startswith("id:"):
            ids = tracker.store.search_run_ids(
                experiment=experiment,
                where=f"tags.{CELL_ID_TAG} == {keys[0][3:]!r} and tags.{REPRODUCES_TAG} is None",
                order_by="-started",
                limit=2,
            )
            for rid in ids:
                if rid != run_id:
                    return tracker.store.get_run(rid)
        return None

    def remember(self, location: str, keys: tuple[str, ...], run: Run) -> None:
        for key in keys:
            self._runs[(location, run.experiment, key)] = run


__all__ = ["CELL_ID_TAG", "LastRuns", "cell_keys"]
