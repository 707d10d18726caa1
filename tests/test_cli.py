from __future__ import annotations

import json
import subprocess
import sys

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import EXIT_USAGE, main
from jupyter_mlops.codec import to_jsonable

from .conftest import python_env


def _seed_runs() -> list[str]:
    ids = []
    for c in (0.1, 1.0):
        with mlops.start_run(experiment="cli", name=f"c{c}", seed=1) as run:
            run.log_params({"C": c})
            run.log_metrics({"accuracy": 0.8 + c / 10})
        ids.append(run.id)
    return ids


def test_runs_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    ids = _seed_runs()
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert ids[0][:8] in out and "accuracy" in out
    assert main(["runs", "--json", "--where", "metrics.accuracy > 0.85"]) == 0
    records = json.loads(capsys.readouterr().out)["runs"]  # the body of GET runs
    assert [r["id"] for r in records] == [ids[1]]
    assert records[0]["params"] == {"C": 1.0}
    assert records[0]["metrics"] == {"accuracy": 0.9}
    assert records[0]["status"] == "finished"


def test_show_json_is_the_run_detail(capsys) -> None:
    """The entity's dict and what the detail adds (GET runs/ID's body)."""
    ids = _seed_runs()
    assert main(["show", ids[0][:8], "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    entity = to_jsonable(mlops.get_run(ids[0]))
    assert {k: data[k] for k in entity} == entity
    assert data["gate_results"] == [] and data["since_previous"]["previous_id"] is None
    for key in ("id", "experiment", "status", "params", "metrics", "data", "git", "seed"):
        assert key in data
    assert main(["show", ids[0]]) == 0
    assert "C = 0.1" in capsys.readouterr().out


def test_compare(capsys) -> None:
    ids = _seed_runs()
    assert main(["compare", ids[0][:8], ids[1][:8]]) == 0
    assert "metrics.accuracy" in capsys.readouterr().out
    assert main(["compare", *ids, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"] == ids


@pytest.mark.parametrize(
    "argv, message",
    [
        (["show", "deadbeef"], "not found"),
        (["runs", "--where", "metrics.acc >"], "Cannot parse filter"),
        (["runs", "--store", "mysql://x/y"], "Unknown store URL scheme 'mysql'"),
        (["runs", "-e", "nosuchexp"], "unknown experiment 'nosuchexp'"),
        (["runs", "--order-by", "metrics.nosuch DESC"], "Cannot order by metrics.nosuch"),
        (["runs", "--order-by", "params.CC"], "did you mean params.C?"),
    ],
)
def test_errors_are_one_line_with_usage_exit_code(capsys, argv, message) -> None:
    _seed_runs()
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_entry_point_and_argparse_errors() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops", "runs", "--limit", "x"],
        capture_output=True,
        text=True,
        env=python_env(),
    )
    assert out.returncode == EXIT_USAGE
    assert "--limit must be an integer" in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops", "runs"],
        capture_output=True,
        text=True,
        env=python_env(),
    )
    assert out.returncode == EXIT_USAGE and "no jupyter-mlops store at" in out.stderr
    mlops.default_tracker()  # an empty store
    out = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops", "runs"],
        capture_output=True,
        text=True,
        env=python_env(),
    )
    assert out.returncode == 0 and "no runs recorded yet" in out.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["runs"],
        ["runs", "--json", "-e", "x"],
        ["show", "abc123"],
        ["compare", "abc1", "abc2"],
        ["gates", "abc123"],
        ["models", "list"],
        ["models", "show", "wine"],
    ],
)
@pytest.mark.parametrize("explicit", [False, True])
def test_read_only_commands_never_create_a_store(
    capsys, tmp_path, monkeypatch, argv: list[str], explicit: bool
) -> None:
    monkeypatch.delenv("JUPYTER_MLOPS_STORE")
    (tmp_path / "project" / "notebooks").mkdir(parents=True)
    (tmp_path / "project" / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path / "project" / "notebooks")
    store = tmp_path / "elsewhere" if explicit else tmp_path / "project" / ".mlops"
    assert main([*argv, "--store", str(store)] if explicit else argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"jupyter-mlops: error: no jupyter-mlops store at {store} (looked from ")
    assert f"looked from {tmp_path / 'project' / 'notebooks'})" in err
    assert "%%track" in err and err.count("\n") == 1
    assert not store.exists()
    assert not (tmp_path / "project" / "notebooks" / ".mlops").exists()


def test_runs_shows_gate_outcome_and_model_in_table_and_json(capsys) -> None:
    from .test_store import _pipeline_run

    tracker = mlops.default_tracker()
    passed = _pipeline_run(tracker, ["pass", "pass"])
    failed = _pipeline_run(tracker, ["pass", "fail"])
    from jupyter_mlops.registry import ModelRegistry

    ModelRegistry(tracker.store).bless("wine@1")
    with mlops.start_run(experiment="wine"):
        pass
    assert main(["runs", "--json"]) == 0
    records = {r["id"]: r for r in json.loads(capsys.readouterr().out)["runs"]}
    assert {k: records[passed][k] for k in ("gates", "model", "model_stage")} == {
        "gates": "passed",
        "model": "wine@1",
        "model_stage": "blessed",
    }
    assert records[failed]["gates"] == "failed" and records[failed]["model"] == "wine@2"
    plain = next(r for r in records.values() if r["kind"] == "script")
    assert (plain["gates"], plain["model"], plain["model_stage"]) == (None, None, None)
    assert main(["runs"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "passed" in lines[passed[:8]] and "wine@1 blessed" in lines[passed[:8]]
    assert "failed" in lines[failed[:8]] and "wine@2 candidate" in lines[failed[:8]]
    assert lines[plain["id"][:8]].split()[-2:] == ["-", "-"]


def test_runs_table_of_cell_runs_has_no_empty_gate_columns(capsys) -> None:
    _seed_runs()
    assert main(["runs"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert "gates" not in header and "model" not in header


def test_unknown_experiment_in_magic_and_cli_says_the_same(shell, capsys) -> None:
    from IPython.core.error import UsageError

    _seed_runs()
    with pytest.raises(UsageError) as info:
        shell.run("%mlops runs -e nosuch")
    capsys.readouterr()
    assert main(["runs", "-e", "nosuch"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == f"jupyter-mlops: error: {info.value}\n"
    assert "unknown experiment 'nosuch'" in err and "known experiments: cli" in err


def test_compare_names_the_changed_column(capsys) -> None:
    import pandas as pd

    frame = pd.DataFrame({"age": [30, 40, 50], "bmi": [20.0, 25.0, 30.0]})
    ids = []
    for bmi_scale in (1.0, 1.0, 1.1):
        with mlops.start_run(experiment="cmp") as run:
            run.log_dataset("X_train", frame.assign(bmi=frame["bmi"] * bmi_scale))
        ids.append(run.id)
    assert main(["compare", *ids]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "data.X_train" in line)
    assert row.count("(changed: bmi)") == 1 and "age" not in row
    assert main(["compare", *ids, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["inputs_changed"] == {"X_train": {ids[2]: ["bmi"]}}
    (row,) = [r for r in data["rows"] if r["key"] == "data.X_train"]
    assert row["differs"] and row["values"][ids[2][:8]].endswith("(changed: bmi)")
