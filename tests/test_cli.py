from __future__ import annotations

import json
import subprocess
import sys

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli import EXIT_USAGE, main

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
    records = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in records] == [ids[1]]
    assert records[0]["params"] == {"C": 1.0}
    assert records[0]["metrics"] == {"accuracy": 0.9}
    assert records[0]["status"] == "finished"


def test_show_json_is_the_entity_dict(capsys) -> None:
    ids = _seed_runs()
    assert main(["show", ids[0][:8], "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == mlops.get_run(ids[0]).to_dict()
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
        (["runs", "--store", "postgresql://x/y"], "PostgreSQL"),
    ],
)
def test_errors_are_one_line_with_usage_exit_code(capsys, argv, message) -> None:
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
    assert "invalid int value" in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops", "runs"],
        capture_output=True,
        text=True,
        env=python_env(),
    )
    assert out.returncode == 0 and "no runs recorded yet" in out.stdout


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
    assert data["rows"]["data.X_train"][ids[2][:8]].endswith("(changed: bmi)")
