from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.mark.slow
def test_package_type_checks(tmp_path: Path) -> None:
    """mypy passes on the package with the ``[tool.mypy]`` settings of pyproject.toml."""
    pytest.importorskip("mypy")
    # A cache of our own: the result must not depend on a cache another checkout left behind.
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy"), "jupyter_mlops"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, f"mypy failed:\n{out.stdout}{out.stderr}"
