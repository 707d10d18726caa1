"""What the front-ends used to compute themselves now comes from one core call each: stored gate
results, the NAME[@V] model lookup, the scheduler status, pipeline outcomes and their exit codes,
and ConflictError for a pipeline that is already running."""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import re
import shutil
from pathlib import Path

import pytest

import jupyter_mlops as mlops
import jupyter_mlops.exceptions as exceptions
from jupyter_mlops.cli.app import EXIT_FAILED, main
from jupyter_mlops.codec import to_jsonable
from jupyter_mlops.entities import PipelineOutcome, RunKind
from jupyter_mlops.exceptions import ConflictError, ModelNotFoundError, ValidationError
from jupyter_mlops.exit_codes import FOR_OUTCOME, ExitCode
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.lock import pipeline_lock
from jupyter_mlops.pipeline.runner import PipelineRunner, find_spec
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.schedule.scheduler import Scheduler
from jupyter_mlops.validation.gates import GateResult, GateStatus, Severity
from tests.conftest import ROOT

T0 = dt.datetime(2026, 11, 23, 10, 2, tzinfo=dt.timezone.utc)


def test_stored_gate_results_come_back_as_gate_results(tracker: mlops.Tracker) -> None:
    with tracker.start_run(experiment="p", kind=RunKind.PIPELINE) as run:
        pass
    results = [
        GateResult("acc", "metric", GateStatus.PASS, 0.93, ">= 0.9", "accuracy = 0.93"),
        GateResult("rows", "row_count", GateStatus.WARN, 7, ">= 10", severity=Severity.WARN),
    ]
    tracker.store.save_gate_results(run.id, results)
    assert tracker.store.gate_results(run.id) == results
    with tracker.start_run(experiment="p") as plain:
        pass
    assert tracker.store.gate_results(plain.id) == []


def _register(tracker: mlops.Tracker, registry: ModelRegistry, name: str) -> None:
    with tracker.start_run(experiment=name) as run:
        run.log_model({"w": 1}, "model")
    registry.register(name, tracker.get_run(run.id), "model")


def test_model_lookup_takes_name_or_name_at_version(tracker: mlops.Tracker) -> None:
    registry = ModelRegistry(tracker.store)
    for _ in range(3):
        _register(tracker, registry, "wine")
    assert [m.version for m in registry.lookup("wine")] == [1, 2, 3]
    assert [m.ref for m in registry.lookup("wine@2")] == ["wine@2"]
    with pytest.raises(ModelNotFoundError):
        registry.lookup("beer")
    with pytest.raises(ModelNotFoundError):
        registry.lookup("wine@9")
    with pytest.raises(ModelNotFoundError, match="no alias 'x'"):
        registry.lookup("wine@x")  # not a number: an alias (NAME@ALIAS), which wine lacks
    with pytest.raises(ValidationError, match="NAME@VERSION"):
        registry.lookup("wine@")


def test_scheduler_status_lists_next_firings_by_name_and_the_log(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "notebooks" / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    promote(tmp_path / "train_ok.ipynb", name="zeta", schedule="0 3 * * *")
    promote(tmp_path / "train_ok.ipynb", name="alpha", schedule="*/5 * * * *")
    tracker = mlops.default_tracker()
    tracker.store.log_schedule("alpha", T0.timestamp(), "missed", None, "1 firing missed")
    status = Scheduler(tracker=tracker, clock=lambda: T0).status(limit=5)
    assert list(status.next) == ["alpha", "zeta"]
    assert status.next["alpha"] == T0.replace(minute=5)
    assert [e.outcome for e in status.log] == ["missed"]
    assert to_jsonable(status)["next"]["zeta"] == "2026-11-24T03:00:00.000+00:00"


def test_every_outcome_has_one_exit_code_and_the_cli_names_agree() -> None:
    assert set(FOR_OUTCOME) == set(PipelineOutcome)
    assert FOR_OUTCOME[PipelineOutcome.GATE_FAILED] == ExitCode.GATE == 3
    assert FOR_OUTCOME[PipelineOutcome.INTERRUPTED] == ExitCode.INTERRUPTED == 130
    assert EXIT_FAILED == ExitCode.FAILED


@pytest.mark.parametrize(
    "module", sorted(p.name for p in (ROOT / "jupyter_mlops" / "cli").glob("*.py"))
)
def test_the_cli_writes_no_exit_code_as_a_literal(module: str) -> None:
    source = (ROOT / "jupyter_mlops" / "cli" / module).read_text()
    returns = [
        n.value.value
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Return) and isinstance(n.value, ast.Constant)
    ]
    assert not [v for v in returns if isinstance(v, int)], returns
    assert not re.search(r"\bEXIT_\w+\s*=\s*\d", source)  # no second table


def test_a_pipeline_already_running_is_a_conflict(tmp_path: Path, capsys) -> None:
    shutil.copy(ROOT / "tests" / "notebooks" / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    promote(tmp_path / "train_ok.ipynb", name="busy")
    tracker = mlops.default_tracker()
    runner = PipelineRunner(tracker, progress=False)
    with pipeline_lock(runner.store_dir / "locks", "busy") as held:
        assert held
        with pytest.raises(ConflictError, match="'busy' is already running"):
            runner.run(find_spec("busy"))
        assert main(["run", "busy", "--no-progress"]) == EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert err.startswith("jupyter-mlops: error: Pipeline 'busy' is already running")
    assert "\n" not in err
    assert tracker.runs().empty  # refused before any run was recorded


def test_every_error_class_is_drawn_in_the_tree() -> None:
    tree = exceptions.__doc__ or ""
    classes = [
        name
        for name, obj in inspect.getmembers(exceptions, inspect.isclass)
        if issubclass(obj, exceptions.MLOpsError)
    ]
    assert "ConflictError" in classes
    missing = [c for c in classes if not re.search(rf"[─ ]{c}\b", tree)]
    assert not missing, f"not in the exceptions docstring tree: {missing}"
