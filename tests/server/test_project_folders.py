"""The server, the CLI and the magics find the same project: a pipeline promoted from a
subfolder with the CLI is the one the sidebar's endpoint lists and ``%mlops config`` names,
with the pipelines folder moved by a setting."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli import main
from jupyter_mlops.tracking import reset_default_tracker

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture
def jp_root_dir(tmp_path: Path) -> Path:
    """The server runs in the project's ``notebooks/`` subfolder (``jupyter lab`` started
    there); the project root, above it, moves its pipelines to ``flows/``."""
    (tmp_path / "pyproject.toml").write_text('[tool.jupyter_mlops]\npipelines_dir = "flows"\n')
    sub = tmp_path / "notebooks"
    sub.mkdir()
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", sub / "train_ok.ipynb")
    return sub


async def test_server_cli_and_magics_see_the_same_pipelines(
    api, jp_root_dir: Path, tmp_path: Path, monkeypatch, capsys, shell
) -> None:
    monkeypatch.chdir(jp_root_dir)
    reset_default_tracker()
    mlops.default_tracker()  # the store the server reads (made by the first run, as in demo.sh)
    assert main(["promote", "train_ok.ipynb", "--schedule", "0 3 * * *", "--json"]) == 0
    written = Path(json.loads(capsys.readouterr().out)["path"])
    assert written == tmp_path / "flows" / "train_ok.yaml"

    code, body = await api("pipelines")
    assert code == 200, body
    assert [p["name"] for p in body["pipelines"]] == ["train_ok"]
    code, detail = await api("pipelines", "train_ok")
    assert code == 200 and detail["name"] == "train_ok"

    reset_default_tracker()
    shell.run("%mlops config")
    out = capsys.readouterr().out
    folders = dict(line.split(None, 1) for line in out.splitlines() if line.strip())
    assert folders["pipelines"] == str(tmp_path / "flows")
    assert folders["monitors"] == str(tmp_path / "monitors")
