"""``jupyter-mlops export airflow`` against real Apache Airflow 3 (``airflow dags test``).

Airflow lives in its own virtualenv, made once by ``tests/airflow_venv.py`` under the test cache
(``$JUPYTER_MLOPS_TEST_CACHE`` or ``.test-cache/`` in the checkout) and reused; a cold install
took 59-103 s here (reused: 0.1 s), so this runs in the normal suite. The metadata database is
SQLite in the test's own ``AIRFLOW_HOME``; no Airflow server or scheduler is started (``dags
test`` runs the DAG in-process).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from jupyter_mlops.cli.app import main
from jupyter_mlops.pipeline import promote
from jupyter_mlops.store import open_store
from tests import airflow_venv

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
_PROBE = """
import json, runpy, sys
dag = runpy.run_path(sys.argv[1])["dag"]
args = dag.default_args
print(json.dumps({
    "schedule": dag.timetable.summary, "timezone": str(dag.timezone), "retries": args["retries"],
    "timeout_s": args["execution_timeout"].total_seconds(), "params": dict(dag.params),
}))
"""


@pytest.fixture(scope="session")
def airflow_bin() -> Path:
    return airflow_venv.ensure() / "bin" / "airflow"


def _airflow(airflow: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(airflow), *args], env=_env(home), cwd=home, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON"))}
    # Not the test's store variable: the DAG must carry its store itself.
    env.pop("JUPYTER_MLOPS_STORE", None)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(home.parent / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )
    return env


@pytest.mark.timeout(900)  # the first run also installs Airflow (1-2 minutes, longer if loaded)
def test_airflow_dags_test_runs_the_pipeline_into_our_store_and_a_gate_failure_fails_it(
    tmp_path: Path, isolated_store: Path, airflow_bin: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    gates = {"ok": "min: 0.5", "bad": "min: 2"}  # accuracy is about 0.9
    for name, bound in gates.items():
        shutil.copy(NOTEBOOKS / "train_ok.ipynb", project / f"{name}.ipynb")
        (project / f"{name}-gates.yaml").write_text(
            f"- {{kind: metric, metric: accuracy, {bound}}}\n"
        )
        promote(
            project / f"{name}.ipynb", pipelines_dir=project / "pipelines",
            schedule="30 2 * * *", timezone="Europe/Berlin",
            gates=project / f"{name}-gates.yaml",
        )  # fmt: skip
        argv = ["export", "airflow", name, "--pipelines-dir", str(project / "pipelines")]
        assert main([*argv, "-o", str(tmp_path / "dags")]) == 0
    home = tmp_path / "airflow-home"
    home.mkdir()
    # The DAG as real Airflow reads it: schedule in its time zone, timeout, no Airflow retries.
    dag_file = tmp_path / "dags" / "jupyter_mlops_ok.py"
    probe = subprocess.run(
        [str(airflow_bin.with_name("python")), "-c", _PROBE, str(dag_file)],
        env=_env(home), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert json.loads(probe.stdout.splitlines()[-1]) == {
        "schedule": "30 2 * * *", "timezone": "Europe/Berlin", "retries": 0,
        "timeout_s": 3600 + 300, "params": {"C": 1.0, "n_rows": 400, "features": ["a", "b", "c"],
                                             "noise": 0.1},
    }  # fmt: skip
    migrate = _airflow(airflow_bin, home, "db", "migrate")
    assert migrate.returncode == 0, migrate.stderr[-2000:]

    ok = _airflow(
        airflow_bin, home, "dags", "test", "jupyter_mlops_ok", "2024-06-01", "-c", '{"C": 0.5}'
    )
    assert ok.returncode == 0, (ok.stdout + ok.stderr)[-3000:]
    bad = _airflow(airflow_bin, home, "dags", "test", "jupyter_mlops_bad", "2024-06-01")
    assert bad.returncode != 0  # the gate failure failed the task, and so the DAG run
    assert "gate_failed" in bad.stdout + bad.stderr

    store = open_store(isolated_store)
    for name, gates_tag, gate in (("ok", "passed", "pass"), ("bad", "failed", "fail")):
        (run,) = _runs_of(name)
        assert run.status.value == "finished" and run.tags["gates"] == gates_tag
        assert run.params["noise"] == 0.1 and run.params["features"] == ["a", "b", "c"]
        assert [g.status.value for g in store.gate_results(run.id)] == [gate]
    (ok_run,) = _runs_of("ok")
    assert ok_run.params["C"] == 0.5  # the DAG run's conf overrode the DAG param
    (bad_run,) = _runs_of("bad")
    assert bad_run.params["C"] == 1.0


def _runs_of(pipeline: str) -> list:  # type: ignore[type-arg]
    import jupyter_mlops as mlops

    frame = mlops.runs(experiment=pipeline)
    return [mlops.get_run(rid) for rid in frame["id"]]
