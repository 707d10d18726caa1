"""Real papermill runs through the runner: every way a pipeline run can end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.entities import ModelStage, RunKind, RunStatus
from jupyter_mlops.exceptions import NotebookChangedError, ParameterError
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.runner import run_pipeline
from jupyter_mlops.store import RunStore
from tests.processes import kill_if_running

pytestmark = pytest.mark.slow
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
GATES = [
    {"kind": "metric", "metric": "accuracy", "min": 0.8},
    {"kind": "no_regression", "metric": "accuracy", "abs_tolerance": 0.02},
    {"kind": "row_count", "dataset": "train", "min": 100},
]


def _promote(notebook: str, tmp_path: Path, **kw) -> str:
    shutil.copy(NOTEBOOKS / f"{notebook}.ipynb", tmp_path / f"{notebook}.ipynb")
    return promote(tmp_path / f"{notebook}.ipynb", **kw).spec.name


def test_passing_run_is_recorded_gated_registered_and_blessed(
    tmp_path: Path, store: RunStore
) -> None:
    name = _promote("train_ok", tmp_path, gates=GATES, timeout="5m")
    result = run_pipeline(name, {"C": "0.5", "features": "['a', 'b']"}, progress=False, seed=11)
    assert result.exit_code == 0
    run = result.run
    assert run.kind is RunKind.PIPELINE and run.status is RunStatus.FINISHED
    assert run.params == {"C": 0.5, "n_rows": 400, "features": ["a", "b"], "noise": 0.1}
    assert run.seed == 11
    assert run.metrics["accuracy"] > 0.8
    assert {d.name for d in run.inputs} >= {"train"}
    assert run.environment_id and run.peak_memory and run.peak_memory > 0
    kinds = {a.kind for a in run.artifacts}
    assert {"notebook", "model", "validation", "report", "dataset"} <= kinds
    assert result.output_notebook.is_file()
    assert result.output_notebook.parent.name == run.id
    statuses = [g.status.value for g in result.gates]
    assert statuses == ["pass", "skip", "pass"]
    assert result.blessed and result.model.stage is ModelStage.BLESSED
    report = result.report.read_text()
    assert f"{name}@1 blessed" in report and "no blessed version" in report  # context, notes
    assert mlops.load_model(name).predict is not None
    stored = mlops.default_tracker().store.gate_results(run.id)
    assert [g.status.value for g in stored] == statuses
    # The seed reached the kernel: the notebook printed a draw from np.random after seeding.
    again = run_pipeline(name, {"C": "0.5", "features": "['a', 'b']"}, progress=False, seed=11)
    out1 = result.output_notebook.read_text()
    out2 = again.output_notebook.read_text()
    draw = [line for line in out1.splitlines() if "draw" in line and "accuracy" in line]
    assert draw and draw[0] in out2


def test_failing_gate_keeps_blessed_model_and_rollback_restores(
    tmp_path: Path, store: RunStore
) -> None:
    name = _promote("train_ok", tmp_path, gates=GATES, timeout="5m")
    first = run_pipeline(name, progress=False, seed=1)
    second = run_pipeline(name, {"C": "0.5"}, progress=False, seed=1)
    assert first.blessed and second.blessed
    bad = run_pipeline(name, {"C": "0.0005", "noise": "3.0"}, progress=False, seed=1)
    assert bad.exit_code == 3
    assert bad.run.status is RunStatus.FINISHED and bad.run.tags["gates"] == "failed"
    assert not bad.blessed and bad.model.stage is ModelStage.CANDIDATE
    assert "kept as a candidate" in bad.report.read_text()
    assert mlops.default_tracker().store.get_model(name).version == second.model.version
    failed = [g for g in bad.gates if g.status.value == "fail"]
    assert {g.kind for g in failed} >= {"metric", "no_regression"}
    from jupyter_mlops.registry import ModelRegistry

    old, new = ModelRegistry().rollback(name, reason="bad data in v2")
    assert (old.version, new.version) == (second.model.version, first.model.version)
    assert mlops.default_tracker().store.get_model(name).version == first.model.version


def test_failing_cell_marks_run_failed_with_pointer(tmp_path: Path) -> None:
    name = _promote("fails_cell", tmp_path)
    result = run_pipeline(name, progress=False)
    assert result.exit_code == 1
    assert result.run.status is RunStatus.FAILED
    assert "ValueError: bad value 2" in result.run.error
    assert "output.ipynb" in result.run.error and "cell" in result.run.error
    assert result.output_notebook.is_file()


@pytest.mark.parametrize(
    "code, status, exit_code", [(0, RunStatus.FINISHED, 0), (1, RunStatus.FAILED, 1)]
)
def test_sys_exit(tmp_path: Path, code: int, status: RunStatus, exit_code: int) -> None:
    name = _promote("exits", tmp_path)
    result = run_pipeline(name, {"code": str(code)}, progress=False)
    assert result.run.status is status and result.exit_code == exit_code
    assert result.run.metrics == {"before_exit": 1.0}
    import nbformat

    last = nbformat.read(result.output_notebook, as_version=4).cells[-1]
    assert "must not run" in last.source and not last.outputs  # never executed


def test_whole_run_timeout(tmp_path: Path) -> None:
    name = _promote("hangs", tmp_path, timeout="3s")
    result = run_pipeline(name, progress=False)
    assert result.exit_code == 1
    assert result.run.status is RunStatus.FAILED
    assert "timed out" in result.run.error and "3s" in result.run.error
    assert result.execution.seconds < 60


def test_kernel_death_is_retried(tmp_path: Path) -> None:
    from jupyter_mlops.pipeline.runner import PipelineRunner, find_spec

    name = _promote("dies_once", tmp_path, retries=1)
    marker = tmp_path / "died.txt"
    waits: list[float] = []
    runner = PipelineRunner(progress=False, sleep=waits.append)
    result = runner.run(find_spec(name), {"marker": str(marker)})
    assert marker.exists() and waits == [30.0]  # the default retry_backoff
    # Each attempt is a run of its own; the result is the second one's.
    assert result.exit_code == 0 and result.run.tags["attempt"] == "2/2"
    marker.unlink()
    name = _promote("dies_once", tmp_path, name="no-retry", retries=0)
    result = run_pipeline(name, {"marker": str(marker)}, progress=False)
    assert result.exit_code == 1 and "kernel died" in result.run.error


def test_tracked_cells_become_children(tmp_path: Path, store: RunStore) -> None:
    name = _promote("tracked_cells", tmp_path)
    result = run_pipeline(name, {"lr": "0.2"}, progress=False)
    assert result.exit_code == 0
    children = mlops.runs(where=f"parent_id == {result.run.id!r}")
    assert len(children) == 1
    assert children["experiment"].iloc[0] == "inner"
    assert children["metrics.score"].iloc[0] == pytest.approx(0.9)  # lr=0.2 reached the cell


def test_bad_parameters_and_changed_notebook_are_refused(tmp_path: Path) -> None:
    import nbformat

    name = _promote("train_ok", tmp_path)
    with pytest.raises(ParameterError, match="did you mean 'C'"):
        run_pipeline(name, {"c": "1"}, progress=False)
    with pytest.raises(ParameterError, match="n_rows.*int"):
        run_pipeline(name, {"n_rows": "5.5"}, progress=False)
    nb = nbformat.read(tmp_path / "train_ok.ipynb", as_version=4)
    nb.cells[2].source += "\nprint('edited')"
    nbformat.write(nb, tmp_path / "train_ok.ipynb")
    with pytest.raises(NotebookChangedError, match="re-promote"):
        run_pipeline(name, progress=False)
    assert mlops.runs().empty  # nothing half-recorded
    result = run_pipeline(name, progress=False, allow_changed=True)
    assert result.exit_code == 0
    assert any("allow-changed" in w for w in result.run.warnings)


def test_annotated_complex_parameters_reach_the_kernel(tmp_path: Path) -> None:
    name = _promote("params_annotated", tmp_path)
    result = run_pipeline(
        name,
        {
            "class_weights": '{"yes": 3.0, "no": 1.0}',
            "max_depth": "5",
            "model": "gbm",
            "features": "['age']",
            "min_gain": "None",
        },
        progress=False,
    )
    assert result.exit_code == 0, result.run.error
    assert result.run.params["class_weights"] == {"yes": 3.0, "no": 1.0}
    assert result.run.params["max_depth"] == 5 and result.run.params["model"] == "gbm"
    assert "gbm 10.0 ['age'] 5" in result.output_notebook.read_text()
    with pytest.raises(ParameterError, match="model"):
        run_pipeline(name, {"model": "svm"}, progress=False)


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_interrupts_the_run_and_the_kernel(tmp_path: Path, signame: str) -> None:
    """Ctrl-C, and SIGTERM (systemd's stop, ``kill PID``) alike."""
    import os
    import signal
    import subprocess
    import sys
    import time

    name = _promote("hangs", tmp_path, timeout="5m")
    mlops.default_tracker()  # the polling below reads the store, and reads never create it
    # stderr to a file, not a pipe: the test waits for the run to end, not for every process
    # that inherited its pipe.
    with (tmp_path / "err.txt").open("w") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_mlops", "run", name, "--no-progress"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err_file, env=dict(os.environ),
        )  # fmt: skip
    try:
        # Until the notebook executes in its kernel: the injected first cell has recorded the
        # environment. Generous bounds: a loaded machine starts a kernel slowly.
        deadline = time.monotonic() + 240
        while True:
            runs = mlops.runs()
            if not runs.empty and mlops.get_run(runs["id"].iloc[0]).environment_id:
                break
            assert time.monotonic() < deadline and proc.poll() is None, "the run never started"
            time.sleep(0.2)
        proc.send_signal(getattr(signal, signame))
        proc.wait(timeout=240)
    finally:
        kill_if_running(proc)
    err = (tmp_path / "err.txt").read_text()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    run = mlops.get_run(mlops.runs()["id"].iloc[0])
    assert run.status is RunStatus.INTERRUPTED


def test_whole_run_timeout_stops_a_notebook_of_short_cells(tmp_path: Path) -> None:
    import nbformat

    name = _promote("many_cells", tmp_path, timeout="3s")  # 12 cells x 0.4 s > 3 s
    result = run_pipeline(name, progress=False)
    assert result.run.status is RunStatus.FAILED and "timed out" in result.run.error
    cells = nbformat.read(result.output_notebook, as_version=4).cells
    assert any(c.cell_type == "code" and c.execution_count is None for c in cells[-3:])


def _cli(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
    )


def test_notebook_without_kernel_metadata_runs_with_parameters_quietly(tmp_path: Path) -> None:
    name = _promote("no_kernelspec", tmp_path)
    nb = json.loads((tmp_path / "no_kernelspec.ipynb").read_text())
    assert nb["metadata"] == {}  # as nbformat.v4.new_notebook() writes it
    done = _cli(tmp_path, "run", name, "-p", "C=0.5", "-p", "n_rows=7", "--no-progress", "--json")
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)["run"]
    assert run["metrics"] == {"c_seen": 0.5, "rows_seen": 7.0}
    # The kernel's own log never reaches the user's terminal.
    assert "IPKernelApp" not in done.stderr and "without encryption" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"pipeline {name}: run ")


def test_a_kernel_that_is_not_installed_is_one_clear_line(tmp_path: Path) -> None:
    name = _promote("no_kernelspec", tmp_path, kernel="no-such-kernel")
    for argv in (["run", name], ["run", name, "-p", "C=0.5"]):
        done = _cli(tmp_path, *argv)
        assert done.returncode == 2, done.stderr
        spec_file = str(tmp_path / "pipelines" / f"{name}.yaml")  # the project's, in full
        assert done.stderr.startswith(
            f"jupyter-mlops: error: {spec_file}: kernel 'no-such-kernel' is not installed here "
            "(installed: "
        ), done.stderr
        assert "python3" in done.stderr and "ipykernel install" in done.stderr
        assert "internal error" not in done.stderr and done.stderr.count("\n") == 1
    assert mlops.runs().empty  # refused before anything was recorded


def test_derived_parameters_can_be_overridden_and_follow_their_inputs(tmp_path: Path) -> None:
    name = _promote("params_derived", tmp_path)
    seen = tmp_path / "seen.json"
    result = run_pipeline(name, {"a": "1", "out_dir": "elsewhere", "n": "50"}, progress=False)
    assert result.exit_code == 0, result.run.error
    values = json.loads(seen.read_text())
    assert (
        values["a"] == 1.0 and values["out_dir"] == "elsewhere"
    )  # typed, and derived: any literal
    # Derived from an overridden parameter: recomputed, not left at the default's value.
    assert (values["high"], values["n_test"], values["d"]) == (2.0, 10, False)
    assert values["path"] == "data/x.csv" and values["low"] == 0.5  # defaults as they were
    # The run records what was given and the typed defaults; the notebook computed the rest.
    params = result.run.params
    assert params["a"] == 1.0 and params["out_dir"] == "elsewhere" and params["n"] == 50
    assert "n_test" not in params and "high" not in params
    # A derived parameter takes any literal, as with papermill: here a number for `a == 3`.
    again = run_pipeline(name, {"d": "5", "path": "[1, 2]"}, progress=False)
    assert again.exit_code == 0, again.run.error
    values = json.loads(seen.read_text())
    assert (values["d"], values["path"], values["a"]) == (5, "[1, 2]", 2.25)
    assert again.run.params["path"] == [1, 2]


def test_reproducing_a_tracked_cell_starts_a_quiet_kernel(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    cells = ["%load_ext jupyter_mlops", "%%track -e quiet\nC = 0.5\nscore = C * 2"]
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    run_id = mlops.runs(experiment="quiet")["id"].iloc[0]
    done = _cli(tmp_path, "reproduce", run_id[:8])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("reproduced:")
    assert "IPKernelApp" not in done.stderr and "without encryption" not in done.stderr
