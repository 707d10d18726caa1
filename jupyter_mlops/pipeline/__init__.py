"""Pipelines: promote a notebook to a spec, check its typed parameters, schedule it, gate it.

This package holds the store-independent half: specs (:mod:`.spec`), the parameter contract
(:mod:`.params`), cron (:mod:`.cron`), notebooks (:mod:`.notebook`), promote (:mod:`.promotion`),
gates (:mod:`.gates`, with the built-in kinds in :mod:`.data_checks` and :mod:`.model_checks`),
drift profiles (:mod:`.drift`) and gate reports (:mod:`.report`). Nothing here imports pandas,
numpy or scikit-learn until data is actually checked.
"""

from __future__ import annotations

import importlib
from typing import Any

# Names are loaded on first use: the kernel side of a pipeline run imports
# ``jupyter_mlops.pipeline.kernel`` and must not pay for specs, gates and notebooks.
_EXPORTS: dict[str, str] = {
    "CellDiff": "notebook",
    "CronSchedule": "cron",
    "GATE_KINDS": "gates",
    "GateContext": "gates",
    "GateKind": "gates",
    "GateResult": "gates",
    "GateSpec": "gates",
    "GateStatus": "gates",
    "Parameter": "spec",
    "PipelineSpec": "spec",
    "PromoteResult": "promotion",
    "Severity": "gates",
    "check_notebook_unchanged": "notebook",
    "coerce_params": "params",
    "diff_cells": "notebook",
    "dump_spec": "spec",
    "evaluate_gates": "gates",
    "format_duration": "cron",
    "format_gate_table": "report",
    "gates_passed": "gates",
    "load_gates": "spec",
    "load_pipeline": "spec",
    "load_spec": "spec",
    "notebook_code": "notebook",
    "notebook_code_hash": "notebook",
    "parse_duration": "cron",
    "parse_gates": "gates",
    "parse_kv": "params",
    "parse_type": "params",
    "profile_dataframe": "drift",
    "promote": "promotion",
    "raise_for_gates": "gates",
    "read_notebook": "notebook",
    "read_notebook_parameters": "notebook",
    "register_gate_kind": "gates",
    "render_gate_report_html": "report",
    "resolve_params": "params",
    "save_spec": "spec",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
