"""An entry point whose import fails, as a plug-in with a missing dependency would."""

import mlops_gate_plugin_missing_dependency  # noqa: F401

KIND = None
