"""REST handlers for what the run detail and compare draw: a run's curves grouped by metric,
one metric of several runs overlaid, and a ``table`` artifact as rows (and its top features
by importance). Each parses its query, makes one view call and returns the value."""

from __future__ import annotations

from typing import Any

from .. import bounds
from ..views.curves import DEFAULT_POINTS, MAX_POINTS, compare_curves, run_curves
from ..views.tables import DEFAULT_ROWS, MAX_ROWS, artifact_table
from .base import MLOpsHandler


class RunCurvesHandler(MLOpsHandler):
    """``GET runs/ID/curves?points=N``: every stepped metric of the run, grouped, each curve
    downsampled to at most N points (min and max per bucket, the last point exact)."""

    def read(self, run_id: str) -> Any:
        points = bounds.parse_int(
            self.param("points") or str(DEFAULT_POINTS), "points", 2, MAX_POINTS
        )
        return run_curves(self.ctx.tracker(), run_id, points)


class CompareCurvesHandler(MLOpsHandler):
    """``GET compare/curves?ids=A,B&metric=KEY&points=N``: metric KEY of the first five runs
    overlaid; the others are named in ``omitted``."""

    def read(self) -> Any:
        ids = [i for v in self.get_arguments("ids") for i in v.split(",") if i.strip()]
        points = bounds.parse_int(
            self.param("points") or str(DEFAULT_POINTS), "points", 2, MAX_POINTS
        )
        return compare_curves(self.ctx.tracker(), ids, self.param("metric") or "", points)


class ArtifactTableHandler(MLOpsHandler):
    """``GET runs/ID/table/NAME?rows=N&by=COLUMN``: a ``table`` artifact's first N rows and,
    when it has a column of feature importance, its top 20 features by COLUMN."""

    def read(self, run_id: str, name: str) -> Any:
        rows = bounds.parse_int(self.param("rows") or str(DEFAULT_ROWS), "rows", 1, MAX_ROWS)
        return artifact_table(self.ctx.tracker(), run_id, name, rows, self.param("by"))
