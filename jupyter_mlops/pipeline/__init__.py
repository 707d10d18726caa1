"""Pipelines: define a notebook pipeline and execute it.

Defining: specs (:mod:`.spec`), the parameter contract (:mod:`.params`), notebooks
(:mod:`.notebook`), promote (:mod:`.promotion`). Executing: engines (:mod:`.engine`, the only
papermill import), the kernel side of a run (:mod:`.in_kernel`), what the gates look at
(:mod:`.gate_inputs`) and the runner (:mod:`.runner`).

Gates live in :mod:`jupyter_mlops.validation`, cron in :mod:`jupyter_mlops.cron`, the scheduler
in :mod:`jupyter_mlops.schedule`; their public names stay importable from here. Nothing here
imports pandas, numpy or scikit-learn until data is actually checked.
"""

from __future__ import annotations

from ..lazy_exports import lazy_exports

# Names are loaded on first use: the kernel side of a pipeline run imports
# ``jupyter_mlops.pipeline.in_kernel`` and must not pay for specs, gates and notebooks.
# Values are modules relative to ``jupyter_mlops``; names that moved out of this package in the
# room-per-concern split are re-exported here so user code importing them keeps working.
_EXPORTS: dict[str, str] = {
    "CellDiff": "pipeline.notebook",
    "CronSchedule": "cron",
    "GATE_KINDS": "validation.gates",
    "GateContext": "validation.gates",
    "GateKind": "validation.gates",
    "GateResult": "validation.gates",
    "GateSpec": "validation.gates",
    "GateStatus": "validation.gates",
    "Parameter": "pipeline.params",
    "PipelineSpec": "pipeline.spec",
    "PromoteResult": "pipeline.promotion",
    "Severity": "validation.gates",
    "check_notebook_unchanged": "pipeline.notebook",
    "coerce_params": "pipeline.params",
    "diff_cells": "pipeline.notebook",
    "dump_spec": "pipeline.spec",
    "evaluate_gates": "validation.gates",
    "format_duration": "cron",
    "format_gate_table": "validation.report",
    "gates_passed": "validation.gates",
    "load_gates": "pipeline.spec",
    "load_pipeline": "pipeline.spec",
    "load_spec": "pipeline.spec",
    "notebook_code": "pipeline.notebook",
    "notebook_code_hash": "pipeline.notebook",
    "parse_duration": "cron",
    "parse_gates": "validation.gates",
    "parse_kv": "pipeline.params",
    "parse_type": "pipeline.params",
    "profile_dataframe": "validation.drift",
    "promote": "pipeline.promotion",
    "raise_for_gates": "validation.gates",
    "read_notebook": "pipeline.notebook",
    "read_notebook_parameters": "pipeline.notebook",
    "register_gate_kind": "validation.gates",
    "render_gate_report_html": "validation.report",
    "resolve_params": "pipeline.params",
    "save_spec": "pipeline.spec",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, "jupyter_mlops")
