"""The team backends are extras (``[postgres]``, ``[s3]``, ``[dask]``): without them the
embedded store works, and a backend that needs a missing one says in one line what to install.

"Not installed" is real to the interpreter under test: a fresh Python whose ``sitecustomize``
puts a finder first on ``sys.meta_path`` that refuses the packages, as an install without the
extra would (the packages are installed in this environment, for the rest of the suite).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from jupyter_mlops.exceptions import MissingDependencyError, MLOpsError
from jupyter_mlops.exit_codes import ExitCode
from jupyter_mlops.pipeline.dask_sweep import connect
from jupyter_mlops.store import open_store
from jupyter_mlops.store.artifacts import S3ArtifactStore
from tests.conftest import ROOT, python_env

TEAM_PACKAGES = ("psycopg", "psycopg_pool", "boto3", "botocore", "dask", "distributed")
# No server listens on port 1: the error must come before any connection is tried.
PG_URL = "postgresql://ann@127.0.0.1:1/team"
PG_LINE = "A postgresql:// store needs psycopg: pip install 'jupyter-mlops[postgres]'"
S3_LINE = "An s3:// artifact store needs boto3: pip install 'jupyter-mlops[s3]'"

_BLOCKER = '''
import sys


class _NotInstalled:
    """Imports of these packages fail as if they were not installed."""

    names = frozenset({names!r})

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
'''


def _python(
    tmp_path: Path,
    blocked: tuple[str, ...],
    *args: str,
    cwd: Path | None = None,
    store: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in a fresh interpreter where the ``blocked`` packages cannot be imported,
    with ``store`` as JUPYTER_MLOPS_STORE (None: the test's store; "": none)."""
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(_BLOCKER.format(names=sorted(blocked)))
    env = python_env([shim])
    if store == "":
        env.pop("JUPYTER_MLOPS_STORE", None)
    elif store is not None:
        env["JUPYTER_MLOPS_STORE"] = store
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd or tmp_path,
        env=env,
        timeout=300,
    )


def test_the_blocker_blocks(tmp_path: Path) -> None:
    out = _python(tmp_path, ("psycopg",), "-c", "import psycopg")
    assert out.returncode == 1 and "No module named 'psycopg'" in out.stderr


@pytest.mark.parametrize(
    ("blocked", "line"),
    [
        (("psycopg", "psycopg_pool"), PG_LINE),
        (("psycopg_pool",), PG_LINE.replace("needs psycopg", "needs psycopg-pool")),
    ],
)
@pytest.mark.parametrize("given_by", ["environment", "--store"])
def test_a_postgresql_store_without_the_extra_is_one_line(
    tmp_path: Path, blocked: tuple[str, ...], line: str, given_by: str
) -> None:
    argv = ["runs"] if given_by == "environment" else ["runs", "--store", PG_URL]
    out = _python(tmp_path, blocked, "-m", "jupyter_mlops", *argv, store=PG_URL)
    assert (out.returncode, out.stderr, out.stdout) == (
        ExitCode.FAILED, f"jupyter-mlops: error: {line}\n", ""
    )  # fmt: skip


def test_an_s3_artifact_store_setting_without_the_extra_is_one_line(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.jupyter_mlops]\nartifact_store = "s3://team-bucket/mlops"\n'
    )
    open_store(project / ".mlops")  # a store with no run yet: `runs` reads it
    out = _python(
        tmp_path, ("boto3", "botocore"), "-m", "jupyter_mlops", "runs", cwd=project, store=""
    )
    assert (out.returncode, out.stderr, out.stdout) == (
        ExitCode.FAILED, f"jupyter-mlops: error: {S3_LINE}\n", ""
    )  # fmt: skip
    ok = _python(tmp_path, (), "-m", "jupyter_mlops", "runs", cwd=project, store="")
    assert (ok.returncode, ok.stderr) == (0, "")  # with boto3, the same command works


_EMBEDDED = """
import json, sys
import jupyter_mlops as mlops
import jupyter_mlops.notebook.magics, jupyter_mlops.notebook.widgets  # the front-ends
import jupyter_mlops.server

team = {team!r}
assert not [m for m in sys.modules if m.partition(".")[0] in team], "imported at import time"
from sklearn.linear_model import LogisticRegression

with mlops.start_run(experiment="solo", params={{"C": 0.5}}, seed=3):
    mlops.log_metric("acc", 0.9)
    open("notes.txt", "w").write("kept")
    mlops.log_artifact("notes.txt")
    mlops.log_model(LogisticRegression(C=0.5).fit([[0.0], [1.0]], [0, 1]))  # skops
mlops.flush()
(run_id,) = mlops.runs(experiment="solo")["id"]
run = mlops.get_run(run_id)
print(json.dumps({{"status": run.status.value, "acc": run.metrics["acc"], "C": run.params["C"],
                  "artifacts": sorted(a.name for a in run.artifacts)}}))
"""


def test_the_embedded_store_needs_no_extra(tmp_path: Path, isolated_store: Path) -> None:
    out = _python(tmp_path, TEAM_PACKAGES, "-c", _EMBEDDED.format(team=TEAM_PACKAGES))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == (
        '{"status": "finished", "acc": 0.9, "C": 0.5, "artifacts": ["model", "notes.txt"]}'
    )
    assert (isolated_store / "mlops.db").is_file()


@pytest.mark.slow
def test_a_gated_pipeline_run_needs_no_extra(tmp_path: Path, isolated_store: Path) -> None:
    """The README's main job, in short: promote, a gated run (a kernel, which inherits the
    blocker), the registry; without any team package."""
    shutil.copy(ROOT / "tests" / "notebooks" / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    (tmp_path / "gates.yaml").write_text("- {kind: metric, metric: accuracy, min: 0.5}\n")
    steps = [
        ["promote", "train_ok.ipynb", "--name", "solo", "--gates", "gates.yaml"],
        ["run", "solo", "--no-progress", "--json"],
        ["models", "show", "solo", "--json"],
    ]
    outs = [_python(tmp_path, TEAM_PACKAGES, "-m", "jupyter_mlops", *argv) for argv in steps]
    for argv, out in zip(steps, outs, strict=True):
        assert out.returncode == 0, (argv, out.stderr[-3000:])
    run = json.loads(outs[1].stdout)
    assert run["blessed"] and [g["status"] for g in run["gates"]] == ["pass"]
    assert json.loads(outs[2].stdout)["versions"][0]["stage"] == "blessed"


_MAGICS = """
import warnings
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

cfg = Config()
cfg.HistoryManager.enabled = False
ip = InteractiveShell.instance(config=cfg)
ip.run_line_magic("load_ext", "jupyter_mlops")
try:
    ip.run_line_magic("mlops", "runs")
except UsageError as e:
    print("usage:", e)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    result = ip.run_cell("%%track\\nx = 1\\n")
print("cell ok:", result.success, ip.user_ns["x"])
for w in caught:
    print("warning:", w.category.__name__, w.message)
"""


def test_magics_say_it_in_one_line(tmp_path: Path) -> None:
    out = _python(tmp_path, ("psycopg", "psycopg_pool"), "-c", _MAGICS, store=PG_URL)
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout.splitlines() == [
        f"usage: {PG_LINE}",  # UsageError: IPython shows the line, no traceback
        "cell ok: True 1",  # tracking never stops the cell
        f"warning: TrackingWarning jupyter-mlops: this run was not recorded: {PG_LINE}",
    ]


# In this process, a ``None`` in sys.modules makes an import fail as a missing package would.


def test_open_store_raises_the_error_where_the_import_happens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg_pool", None)
    with pytest.raises(MissingDependencyError) as info:
        open_store(PG_URL)
    assert str(info.value) == PG_LINE.replace("needs psycopg", "needs psycopg-pool")
    assert isinstance(info.value, MLOpsError) and isinstance(info.value, ImportError)
    assert (info.value.package, info.value.extra) == ("psycopg-pool", "postgres")


def test_an_s3_store_is_refused_when_opened_not_at_its_first_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(MissingDependencyError, match=r"^An s3:// artifact store needs boto3: "):
        S3ArtifactStore("s3://team-bucket/mlops", tmp_path / "cache")


def test_a_dask_sweep_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependencyError) as info:
        connect("tcp://127.0.0.1:1")
    assert str(info.value) == (
        "sweep --on needs dask.distributed: pip install 'jupyter-mlops[dask]'"
    )


def test_the_extras_hold_the_team_backends_and_dev_has_them_all() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    extras = project["optional-dependencies"]
    for package in ("psycopg", "boto3", "dask"):
        assert package not in core
    assert any(d.startswith("psycopg[binary]") for d in extras["postgres"])
    assert any(d.startswith("psycopg-pool") for d in extras["postgres"])
    assert any(d.startswith("boto3") for d in extras["s3"])
    assert any(d.startswith("dask[distributed]") for d in extras["dask"])
    (own,) = [d for d in extras["dev"] if d.startswith("jupyter-mlops[")]
    assert {"postgres", "s3", "dask", "docs"} <= set(own.partition("[")[2].rstrip("]").split(","))
