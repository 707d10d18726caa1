"""Retention: old outputs go, what a blessed or archived model version needs stays."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.runner import run_pipeline
from jupyter_mlops.pipeline.spec import load_spec, save_spec
from jupyter_mlops.registry import ModelRegistry

pytestmark = pytest.mark.slow
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
GATES = [{"kind": "metric", "metric": "accuracy", "min": 0.8}]


def _files(run_dir: Path) -> int:
    return sum(p.stat().st_size for p in run_dir.rglob("*") if p.is_file())


def test_gc_keeps_a_rolled_back_model_loadable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    name = promote(tmp_path / "train_ok.ipynb", gates=GATES, timeout="5m").spec.name
    first = run_pipeline(name, progress=False, seed=1)  # v1 blessed
    bad = run_pipeline(name, {"C": "0.0005", "noise": "3.0"}, progress=False, seed=1)
    second = run_pipeline(name, {"C": "0.5"}, progress=False, seed=1)  # v3 blessed, v1 archived
    assert first.blessed and not bad.blessed and second.blessed
    ModelRegistry().rollback(name, reason="v3 is bad")  # v1 blessed again, v3 archived
    runs_dir = tmp_path / ".mlops" / "runs"
    bad_dir = runs_dir / bad.run.id
    expected = _files(bad_dir) + sum(
        a.size for a in bad.run.artifacts if a.kind in ("notebook", "report")
    )
    assert main(["gc", "--keep", "1", "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    # The oldest run is old but holds the blessed v1: kept; only the gate-failed run goes.
    assert dry["deleted"] == [bad.run.id] and dry["protected"] == [first.run.id]
    assert dry["bytes_freed"] == expected > 0 and bad_dir.is_dir()  # a dry run deletes nothing
    assert main(["gc", "--keep", "1"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"freed {expected:,} bytes in {dry['files']} file(s) of 1 old run(s); kept 1 old run(s) "
        "a model version needs"
    )
    assert not bad_dir.exists()
    for kept in (first, second):
        assert kept.output_notebook.is_file() and kept.report and kept.report.is_file()
    store = mlops.default_tracker().store
    for a in bad.run.artifacts:  # its model stays (a candidate may be blessed later)
        assert store.artifacts.exists(a.sha256) == (a.kind not in ("notebook", "report"))
    model = mlops.load_model(name)  # the rolled-back blessed v1 still loads and predicts
    assert store.get_model(name).version == first.model.version
    assert model.predict is not None
    assert mlops.get_run(bad.run.id).metrics  # the record itself stays
    assert main(["gc", "--keep", "1"]) == 0
    assert capsys.readouterr().out.startswith("freed 0 bytes in 0 file(s) of 0 old run(s)")


def test_retention_in_the_spec_runs_after_each_run(tmp_path: Path) -> None:
    shutil.copy(NOTEBOOKS / "exits.ipynb", tmp_path / "exits.ipynb")
    result = promote(tmp_path / "exits.ipynb", timeout="2m")
    save_spec(dataclasses.replace(load_spec(result.path), retention=2), result.path)
    ids = [run_pipeline(result.spec.name, {"code": "0"}, progress=False).run.id for _ in range(3)]
    runs_dir = tmp_path / ".mlops" / "runs"
    assert sorted(p.name for p in runs_dir.iterdir()) == sorted(ids[1:])
    assert "retention:\n  keep: 2" in Path(result.path).read_text()
