"""Pipelines: promote a notebook to a spec, check its typed parameters, schedule it, gate it.

This package holds the store-independent half: specs (:mod:`.spec`), the parameter contract
(:mod:`.params`), cron (:mod:`.cron`), notebooks (:mod:`.notebook`), promote (:mod:`.promote`),
gates (:mod:`.gates`, with the built-in kinds in :mod:`.data_checks` and :mod:`.model_checks`),
drift profiles (:mod:`.drift`) and gate reports (:mod:`.report`). Nothing here imports pandas,
numpy or scikit-learn until data is actually checked.
"""

from __future__ import annotations

from typing import Any

from .cron import CronSchedule, format_duration, parse_duration
from .gates import (
    GATE_KINDS,
    GateContext,
    GateKind,
    GateResult,
    GateSpec,
    GateStatus,
    Severity,
    evaluate_gates,
    gates_passed,
    parse_gates,
    raise_for_gates,
    register_gate_kind,
)
from .notebook import (
    CellDiff,
    check_notebook_unchanged,
    diff_cells,
    notebook_code,
    notebook_code_hash,
    read_notebook,
    read_notebook_parameters,
)
from .params import coerce_params, parse_kv, parse_type, resolve_params
from .promote import PromoteResult, promote
from .report import format_gate_table, render_gate_report_html
from .spec import (
    Parameter,
    PipelineSpec,
    dump_spec,
    load_gates,
    load_pipeline,
    load_spec,
    save_spec,
)

__all__ = [
    "GATE_KINDS",
    "CellDiff",
    "CronSchedule",
    "GateContext",
    "GateKind",
    "GateResult",
    "GateSpec",
    "GateStatus",
    "Parameter",
    "PipelineSpec",
    "PromoteResult",
    "Severity",
    "check_notebook_unchanged",
    "coerce_params",
    "diff_cells",
    "dump_spec",
    "evaluate_gates",
    "format_duration",
    "format_gate_table",
    "gates_passed",
    "load_gates",
    "load_pipeline",
    "load_spec",
    "notebook_code",
    "notebook_code_hash",
    "parse_duration",
    "parse_gates",
    "parse_kv",
    "parse_type",
    "profile_dataframe",
    "promote",
    "raise_for_gates",
    "read_notebook",
    "read_notebook_parameters",
    "register_gate_kind",
    "render_gate_report_html",
    "resolve_params",
    "save_spec",
]


def __getattr__(name: str) -> Any:
    # drift.py imports numpy; load it only when a profile is asked for
    if name == "profile_dataframe":
        from .drift import profile_dataframe

        return profile_dataframe
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
