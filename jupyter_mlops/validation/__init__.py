"""Validation: gates and what they measure.

- :mod:`.gates` parses gate definitions and evaluates them in order, each result with its
  observed value, threshold and message.
- :mod:`.kinds` is the table of gate kinds: built-in kinds (:mod:`.data_checks`,
  :mod:`.model_checks`) load on first lookup, third-party kinds through the
  ``jupyter_mlops.gate_kinds`` entry-point group.
- :mod:`.profiles` sketches data in mergeable profiles; :mod:`.drift` measures drift;
  :mod:`.report` renders gate results.

Nothing here imports :mod:`jupyter_mlops.pipeline`: pipelines use validation, not the reverse.
"""

from __future__ import annotations

from ..lazy_exports import lazy_exports

# Loaded on first use, so parsing a spec pays for neither pandas nor the built-in checks.
_EXPORTS: dict[str, str] = {
    "DriftReport": "drift",
    "GATE_KINDS": "gates",
    "GateContext": "gates",
    "GateKind": "gates",
    "GateResult": "gates",
    "GateSpec": "gates",
    "GateStatus": "gates",
    "Outcome": "gates",
    "Profile": "profiles",
    "Severity": "gates",
    "SliceProfiles": "drift_slices",
    "check_drift": "drift",
    "evaluate_gates": "gates",
    "format_gate_table": "report",
    "gates_passed": "gates",
    "parse_gates": "gates",
    "log_profile": "profiles",
    "profile": "profiles",
    "profile_dataframe": "profiles",
    "profile_slices": "drift_slices",
    "raise_for_gates": "gates",
    "register_gate_kind": "gates",
    "render_gate_report_html": "report",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, __name__)
