"""The REST handler the panel's *Run now* form uses besides the pipeline routes of
:mod:`.handlers`: checking parameter values without starting a run."""

from __future__ import annotations

from typing import Any

from .. import bounds
from ..views.pipeline_form import check_run_params
from .base import MLOpsHandler


class PipelineParamsHandler(MLOpsHandler):
    """``POST pipelines/NAME/check`` with ``{"params": {...}}``: the values converted to their
    declared types, or the 400 that ``pipelines/NAME/run`` would answer with for them."""

    fields = ("params",)

    def act(self, name: str, body: bounds.Body) -> Any:
        bounds.check_name(name, "pipeline name")
        params = body.mapping("params")
        for key in params:
            bounds.check_key(key, "a parameter name", bounds.MAX_NAME_LENGTH)
        return check_run_params(self.ctx.pipelines_dir, name, params)
