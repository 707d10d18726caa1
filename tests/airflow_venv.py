"""A virtualenv with real Apache Airflow for the export test, made once and reused.

``python tests/airflow_venv.py`` (or the ``airflow_venv`` test fixture) creates
``<cache>/airflow-venv`` with ``apache-airflow==AIRFLOW_VERSION`` and jupyter-mlops' runtime
dependencies from PyPI, then puts this checkout on its path with a ``.pth`` file (no build of the
sidebar: the DAG only needs the runner). ``<cache>`` is ``$JUPYTER_MLOPS_TEST_CACHE`` or
``.test-cache/`` in this checkout (git-ignored): inside the clone, so deleting the clone removes
it, and nothing lands in the user's home. A venv whose ``VERSION`` marker differs is rebuilt.

Airflow's constraints file is not reachable here (only PyPI is), so the Airflow version is
pinned, and ``airflow-constraints.txt`` beside this file pins the rest once it exists (written
by ``--freeze`` from a venv that passed the test).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import tomllib

AIRFLOW_VERSION = "3.1.8"
ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = Path(__file__).with_name("airflow-constraints.txt")
# jupyter-mlops' own runtime dependencies, read from pyproject.toml so that a new one reaches this
# venv too (the DAG imports the runner); the front-end ones a DAG never imports are left out.
# No extra: the test's DAG records into the embedded store, so the venv also proves that a DAG
# on it runs without [postgres] and [s3] (a DAG on a team store would need them).
FRONT_END_ONLY = {"jupyterlab", "ipywidgets"}
RUNTIME = [
    dep
    for dep in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    if re.split(r"[\s\[<>=!~;]", dep, maxsplit=1)[0].lower() not in FRONT_END_ONLY
]
# Rebuilt when the pin, the dependencies or the constraints change.
MARKER = (
    f"apache-airflow=={AIRFLOW_VERSION}\n"
    + "\n".join(RUNTIME)
    + "\n"
    + (hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest() + "\n" if CONSTRAINTS.is_file() else "")
)


def cache_dir() -> Path:
    env = os.environ.get("JUPYTER_MLOPS_TEST_CACHE")
    return Path(env) if env else ROOT / ".test-cache"


def venv_dir() -> Path:
    return cache_dir() / "airflow-venv"


def ready() -> bool:
    """The venv exists, is complete and matches the pinned version."""
    marker = venv_dir() / "VERSION"
    return marker.is_file() and marker.read_text() == MARKER


def ensure() -> Path:
    """The venv's directory, created (minutes, the first time) unless it already matches.

    Under a file lock: two pytest-xdist workers (or two checkouts sharing
    ``$JUPYTER_MLOPS_TEST_CACHE``) asking at once get one install, the second waiting for it."""
    from filelock import FileLock

    venv = venv_dir()
    if ready():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(venv.parent / "airflow-venv.lock")):
        if not ready():  # made meanwhile by whoever held the lock
            _create(venv)
    return venv


def _create(venv: Path) -> None:
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    extra = ["-c", str(CONSTRAINTS)] if CONSTRAINTS.is_file() else []
    subprocess.run([*pip, *extra, f"apache-airflow=={AIRFLOW_VERSION}", *RUNTIME], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "jupyter_mlops_checkout.pth").write_text(str(ROOT) + "\n")
    (venv / "VERSION").write_text(MARKER)  # last: an interrupted install is redone


def freeze() -> None:
    """Write the installed versions as the constraints of later installs."""
    out = subprocess.run(
        [str(venv_dir() / "bin" / "python"), "-m", "pip", "freeze", "--exclude-editable"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    lines = [ln for ln in out.splitlines() if "==" in ln and not ln.startswith("jupyter-mlops")]
    CONSTRAINTS.write_text(
        f"# pip freeze of the Airflow {AIRFLOW_VERSION} test venv (airflow_venv.py --freeze)\n"
        + "\n".join(lines)
        + "\n"
    )


if __name__ == "__main__":
    if "--freeze" in sys.argv:
        freeze()
    else:
        t0 = time.monotonic()
        print(ensure(), f"({time.monotonic() - t0:.0f} s)")
