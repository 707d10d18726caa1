"""The gate-kind table: built-in kinds load on first lookup, third-party kinds through the
``jupyter_mlops.gate_kinds`` entry-point group (tests/plugins/mlops_gate_plugin, installed by the
``gate_plugin`` fixture into a folder of the session's own, never into the venv)."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlops.validation.kinds import ENTRY_POINT_GROUP, GateKind, GateKindTable
from tests.conftest import ROOT, run_fresh

PLUGIN = ROOT / "tests" / "plugins" / "mlops_gate_plugin"


@pytest.fixture(scope="session")
def gate_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plug-in package installed (``pip install --target``) into a temporary folder, which
    goes on the ``sys.path`` of the interpreters that load it: the venv is left as it was."""
    src = tmp_path_factory.mktemp("plugin") / "mlops_gate_plugin"
    shutil.copytree(PLUGIN, src)  # the build writes build/ and *.egg-info: not into the repo
    target = tmp_path_factory.mktemp("plugin-site")
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-compile", "--target", str(target), str(src)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    (dist,) = importlib.metadata.distributions(name="mlops-gate-plugin", path=[str(target)])
    assert {ep.name for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP} == {
        "even_rows",
        "broken_kind",
    }
    return target


# Runs in a fresh interpreter, so the table loads with the plug-in installed, as a user's would.
_EVALUATE = r"""
import sys
import pandas as pd
import yaml
from jupyter_mlops.exceptions import GateSpecError
from jupyter_mlops.validation.gates import GateContext, evaluate_gates, parse_gates

assert "jupyter_mlops.validation.data_checks" not in sys.modules  # nothing loaded yet
gates = yaml.safe_load('''
- {kind: even_rows, dataset: train}
- {kind: even_rows, dataset: train, expect: odd, severity: warn}
- {kind: row_count, dataset: train, min: 1}
''')
specs = parse_gates(gates)
assert "jupyter_mlops.validation.data_checks" in sys.modules  # built-ins loaded on lookup
for rows in (4, 3):
    ctx = GateContext(datasets={"train": pd.DataFrame({"x": range(rows)})})
    print(rows, [(r.kind, r.status.value, r.observed) for r in evaluate_gates(specs, ctx)])
for bad in ({"kind": "even_rows", "dataset": "train", "expect": "prime"}, {"kind": "broken_kind"}):
    try:
        parse_gates([bad])
    except GateSpecError as e:
        print(e)
"""


def test_a_plugin_gate_kind_is_evaluated_through_the_gate_spec_path(gate_plugin: Path) -> None:
    even, odd, bad_field, broken = run_fresh(_EVALUATE, path=[gate_plugin]).strip().splitlines()
    assert (
        even == "4 [('even_rows', 'pass', 4), ('even_rows', 'warn', 4), ('row_count', 'pass', 4)]"
    )
    assert odd == "3 [('even_rows', 'fail', 3), ('even_rows', 'pass', 3), ('row_count', 'pass', 3)]"
    assert "(even_rows) field 'expect' must be one of even, odd, got 'prime'" in bad_field
    assert "unknown kind 'broken_kind'" in broken
    assert "plug-in failed to load: ModuleNotFoundError" in broken
    assert "mlops_gate_plugin_missing_dependency" in broken


def test_a_kind_registered_before_the_first_lookup_replaces_the_builtin() -> None:
    table = GateKindTable()
    mine = GateKind(lambda spec, ctx: None, {})  # type: ignore[arg-type,return-value]
    table["metric"] = mine  # loads the built-ins first, so they cannot overwrite it afterwards
    assert table["metric"] is mine
    assert "row_count" in table  # the other built-ins are there


def test_kinds_module_imports_no_kind() -> None:
    code = (
        "import sys, jupyter_mlops.validation.kinds, jupyter_mlops.validation.gates; "
        "print([m for m in sys.modules if m.endswith(('data_checks', 'model_checks'))])"
    )
    assert run_fresh(code).strip() == "[]"
