"""One ``reproduce`` of a small tracked notebook against ``jupyter nbconvert --execute`` of the
same notebook, in the same run.

    python benchmarks/bench_reproduce.py [--repeats 2]

The notebook (three cells: imports, data, one ``%%track`` cell fitting a small model) is first
executed once through nbclient to record the run; then, alternating, ``jupyter nbconvert
--execute`` of it and ``reproduce`` of its tracked run are timed (wall clock, best of
``repeats``), each as a command: ``python -m jupyter_mlops reproduce ID``. Target: reproduce
<= 1.2x nbconvert (both start one fresh kernel).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from report import print_table, result

TARGET = 1.2
CELLS = [
    "%load_ext jupyter_mlops",
    "import numpy as np\nfrom sklearn.linear_model import LogisticRegression",
    "X = np.random.default_rng(0).normal(size=(300, 4))\ny = (X[:, 0] > 0).astype(int)",
    "%%track -e bench\nC = 0.5\nmodel = LogisticRegression(C=C).fit(X, y)\n"
    "accuracy = model.score(X, y)",
]


def run(repeats: int = 2) -> list[dict[str, Any]]:
    import nbformat
    from nbclient import NotebookClient

    from jupyter_mlops.tracking import reset_default_tracker

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = root / ".mlops"
        saved = os.environ.get("JUPYTER_MLOPS_STORE")
        os.environ["JUPYTER_MLOPS_STORE"] = str(store)
        reset_default_tracker()
        try:
            nb = nbformat.v4.new_notebook()
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
            nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
            path = root / "small.ipynb"
            nbformat.write(nb, path)
            NotebookClient(
                nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp}}
            ).execute()
            import jupyter_mlops as mlops

            run_id = mlops.runs(experiment="bench")["id"].iloc[0]
            nbconvert, repro, verdict = [], [], ""
            for _ in range(repeats):
                t = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to",
                     "notebook", "--output", "out.ipynb", str(path)],
                    cwd=root, check=True, capture_output=True,
                )  # fmt: skip
                nbconvert.append(time.perf_counter() - t)
                t = time.perf_counter()  # both as a user runs them: a command in a shell
                done = subprocess.run(
                    [sys.executable, "-m", "jupyter_mlops", "reproduce", run_id, "--json"],
                    cwd=root, capture_output=True, text=True, check=False,
                    env={**os.environ, "JUPYTER_MLOPS_STORE": str(store)},
                )  # fmt: skip
                repro.append(time.perf_counter() - t)
                verdict = json.loads(done.stdout)["verdict"] if done.stdout else done.stderr
        finally:
            if saved is None:
                os.environ.pop("JUPYTER_MLOPS_STORE", None)
            else:
                os.environ["JUPYTER_MLOPS_STORE"] = saved
            reset_default_tracker()
    base, value = min(nbconvert), min(repro)
    return [
        result(
            "reproduce one small notebook",
            value,
            "s",
            base,
            f"<= {TARGET}x nbconvert --execute",
            value <= TARGET * base and verdict == "reproduced",
            note=f"verdict {verdict}; best of {repeats}",
        )
    ]


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=2)
    print_table(run(p.parse_args().repeats))
