"""The lab extension's own checks (stylelint, prettier, eslint, its vitest unit tests), and the
facts its TypeScript restates from Python: the REST API's path (the types and enums are
generated from Python: tests/test_view_types.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlops.server import API_PREFIX

LABEXT = Path(__file__).resolve().parents[1] / "labextension"
SRC = LABEXT / "src"


def _jlpm() -> str | None:
    """The venv's jlpm (CI runs pytest as .venv/bin/python without activating the venv)."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which("jlpm", path=path)


def _jlpm_or_skip() -> str:
    jlpm = _jlpm()
    if jlpm is None:
        pytest.skip("jlpm is missing: pip install -e '.[dev]' (it comes with jupyterlab)")
    if not (LABEXT / "node_modules").is_dir():
        pytest.skip("labextension/node_modules is missing: pip install -e . runs jlpm install")
    return jlpm


def _run(script: str) -> str:
    jlpm = _jlpm_or_skip()
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"}
    env["PATH"] = os.pathsep.join([str(Path(jlpm).parent), env.get("PATH", "")])
    done = subprocess.run(
        [jlpm, script],
        cwd=LABEXT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=270,  # under the suite's 300 s per test, so the failure names the script
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"jlpm {script} failed ({done.returncode}):\n{out[-6000:]}"
    return out


@pytest.mark.slow
def test_lint_check_passes() -> None:
    """stylelint, prettier and eslint as the extension template configures them."""
    out = _run("lint:check")
    assert "All matched files use Prettier code style!" in out


@pytest.mark.slow
def test_typescript_unit_tests_pass() -> None:
    """`jlpm test`: tsc over the sources and the tests, then vitest."""
    out = _run("test")
    counts = re.search(r"Tests\s+(\d+) passed", out)
    assert counts and int(counts.group(1)) > 0, out[-3000:]
    assert not re.search(r"\d+ failed", out), out[-3000:]


def test_one_api_prefix_equal_to_the_server_one() -> None:
    """request.ts's API_PREFIX is the server's, and no other source spells the path."""
    request_ts = (SRC / "request.ts").read_text()
    found = re.search(r"export const API_PREFIX = '([^']+)';", request_ts)
    assert found and found.group(1) == API_PREFIX
    spelled = [
        p.name
        for p in sorted(SRC.glob("*.ts*"))
        if p.name != "request.ts" and API_PREFIX in p.read_text()
    ]
    assert spelled == [], f"{spelled} spell {API_PREFIX!r}: use API_PREFIX from request.ts"


def test_settings_schema_is_the_plugins() -> None:
    """JupyterLab finds a plugin's schema as schemaDir/<id after ':'>.json."""
    package = json.loads((LABEXT / "package.json").read_text())
    schema_dir = LABEXT / package["jupyterlab"]["schemaDir"]
    plugin_id = re.search(r"id: '([^']+)'", (SRC / "index.ts").read_text())
    assert plugin_id, "index.ts names no plugin id"
    package_name, _, plugin = plugin_id.group(1).partition(":")
    assert package_name == package["name"]
    schema = json.loads((schema_dir / f"{plugin}.json").read_text())
    assert schema["type"] == "object" and schema["properties"]
