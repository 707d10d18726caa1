"""A pipeline can register a model without blessing it, to shadow it before it serves:
``jupyter-mlops run NAME --candidate`` for one run, ``register: candidate`` in the spec for
every run. The gates still run and are recorded; the version's stage is ``candidate``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jupyter_mlops.cli.app import main
from jupyter_mlops.entities import ModelStage
from jupyter_mlops.exceptions import PipelineSpecError
from jupyter_mlops.pipeline.runner import run_pipeline
from jupyter_mlops.pipeline.spec import load_spec
from jupyter_mlops.store import open_store

pytestmark = pytest.mark.slow
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
GATES = "- {kind: metric, metric: accuracy, min: 0.5}\n"


def _promote(tmp_path: Path, name: str) -> Path:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    (tmp_path / "gates.yaml").write_text(GATES)
    assert main(["promote", "train_ok.ipynb", "--name", name, "--gates", "gates.yaml"]) == 0
    return tmp_path / "pipelines" / f"{name}.yaml"


def test_run_candidate_registers_without_blessing_then_shadow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec_path = _promote(tmp_path, "m")
    before = spec_path.read_text()
    capsys.readouterr()
    assert main(["run", "m", "--candidate", "--no-progress", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["outcome"] == "passed" and not out["blessed"]
    assert out["model"]["stage"] == "candidate" and out["model"]["version"] == 1
    assert out["held"].startswith("registered as a candidate (run --candidate")
    assert [(g["kind"], g["status"]) for g in out["gates"]] == [("metric", "pass")]
    store = open_store(str(tmp_path / ".mlops"))
    assert [g.status.value for g in store.gate_results(out["run"]["id"])] == ["pass"]
    assert spec_path.read_text() == before  # one run's choice: the spec is unchanged
    assert main(["models", "shadow", "m@1"]) == 0
    assert "m@1 is now in shadow" in capsys.readouterr().out
    assert store.get_model("m", 1).stage is ModelStage.SHADOW


def test_register_candidate_in_the_spec(tmp_path: Path) -> None:
    spec_path = _promote(tmp_path, "nightly")
    spec_path.write_text(spec_path.read_text() + "register: candidate\n")
    result = run_pipeline("nightly", progress=False, seed=1)
    assert result.model is not None and not result.blessed
    assert result.model.stage is ModelStage.CANDIDATE
    assert [g.status.value for g in result.gates] == ["pass"]
    assert "put it in shadow with `jupyter-mlops models shadow nightly@1`" in (result.held or "")
    store = open_store(str(tmp_path / ".mlops"))
    assert [m.stage for m in store.list_models("nightly")] == [ModelStage.CANDIDATE]
    # A re-promote keeps the hand-written setting.
    assert main(["promote", "train_ok.ipynb", "--name", "nightly"]) == 0
    assert load_spec(spec_path).register == "candidate"


@pytest.mark.parametrize("value", ["maybe", "null", "true"])
def test_a_bad_register_setting_is_one_line(tmp_path: Path, value: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"name: p\nnotebook: p.ipynb\nregister: {value}\n")
    with pytest.raises(PipelineSpecError) as e:
        load_spec(path)
    message = str(e.value)
    assert message.startswith(f"{path}: field 'register': ") and "\n" not in message
    assert "use bless (bless a model whose gates pass) or candidate" in message


def test_a_sweep_of_a_candidate_pipeline_refuses_bless_best_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec_path = _promote(tmp_path, "cands")
    spec_path.write_text(spec_path.read_text() + "register: candidate\n")
    capsys.readouterr()
    args = ["sweep", "cands", "--grid", "C=1,2", "--metric", "accuracy", "--bless-best"]
    assert main(args) != 0
    err = capsys.readouterr().err.strip()
    assert "register: candidate" in err and "--bless-best" in err and "\n" not in err
    assert not (tmp_path / ".mlops").exists() or not open_store(
        str(tmp_path / ".mlops")
    ).list_models("cands")
