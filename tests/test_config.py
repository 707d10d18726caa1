from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlops.config import find_project_root, load_settings
from jupyter_mlops.exceptions import ConfigError

from .conftest import python_env


def test_root_is_nearest_marker(tmp_path: Path) -> None:
    (tmp_path / "proj" / "notebooks" / "deep").mkdir(parents=True)
    (tmp_path / "proj" / "pyproject.toml").write_text("")
    assert find_project_root(tmp_path / "proj" / "notebooks" / "deep") == tmp_path / "proj"
    (tmp_path / "proj" / "notebooks" / ".mlops").mkdir()
    assert (
        find_project_root(tmp_path / "proj" / "notebooks" / "deep")
        == tmp_path / "proj" / "notebooks"
    )


def test_precedence_argument_env_pyproject_default(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("JUPYTER_MLOPS_STORE", raising=False)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.jupyter_mlops]\nstore = "runs-store"\nmetric_names = ["acc", "custom"]\n'
    )
    s = load_settings(start=tmp_path)
    assert s.store == str(tmp_path / "runs-store")
    assert s.metric_names == ("acc", "custom")
    monkeypatch.setenv("JUPYTER_MLOPS_STORE", str(tmp_path / "env-store"))
    assert load_settings(start=tmp_path).store == str(tmp_path / "env-store")
    assert load_settings("explicit", start=tmp_path).store == str(tmp_path / "explicit")
    (tmp_path / "pyproject.toml").unlink()
    monkeypatch.delenv("JUPYTER_MLOPS_STORE")
    (tmp_path / ".git").mkdir()
    assert load_settings(start=tmp_path).store == str(tmp_path / ".mlops")


def test_bad_pyproject_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.jupyter_mlops\n")
    with pytest.raises(ConfigError, match="fix the TOML"):
        load_settings(start=tmp_path)


def test_metric_names_from_pyproject_drive_tracking(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.jupyter_mlops]\nmetric_names = "custom"\n')
    assert load_settings(start=tmp_path).metric_names == ("custom",)


def test_extension_loads_from_ipython_config(tmp_path: Path) -> None:
    code = "get_ipython().run_cell_magic('track', '-e cfg', 'acc = 0.5')"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "IPython",
            "--quick",
            "--no-banner",
            "--colors=NoColor",
            "--InteractiveShellApp.extensions=['jupyter_mlops']",
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        env=python_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "experiment cfg" in out.stdout
