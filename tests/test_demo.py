"""The README's main job, as a newcomer runs it: ``example_notebooks/demo.sh`` end to end.

Run in a copy of the example folder under a fresh project root, so the test writes nothing into
the repository; the script's own checks (the bad hyperparameter's exit code 3) run too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.timeout(900)
def test_the_main_job_runs_end_to_end(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "example_notebooks", project / "example_notebooks")
    (project / "pyproject.toml").write_text("[tool.jupyter_mlops]\n")  # marks the root
    # The demo's own project, as on a clone: no store or folder settings from the test session.
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_MLOPS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "demo.sh"],
        cwd=project / "example_notebooks",  # the script finds the root itself
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    spec = yaml.safe_load((project / "pipelines" / "breast-cancer.yaml").read_text())
    assert spec["schedule"] == "0 3 * * *"
    assert "rolled back breast-cancer" in done.stdout
    assert "reproduced: run" in done.stdout
    assert (project / ".mlops" / "mlops.db").is_file()
