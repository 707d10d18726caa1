"""``reproduce`` on real kernels: reproductions stay out of the experiment, and replays run in
the kernel's own working directory."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.exit_codes import ExitCode
from jupyter_mlops.reproduce import reproduce
from jupyter_mlops.tracking import default_tracker

pytestmark = pytest.mark.slow


def _execute(cells: list[str], folder: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()


TWO_CELLS = [
    "%load_ext jupyter_mlops",
    "%%track -e pol\nstep = 1\nscore = 0.25",
    "%%track -e pol\nstep = 2\nscore = 0.5",
]


def test_a_reproduction_leaves_the_experiment_as_it_was(tmp_path: Path, capsys) -> None:
    _execute(TWO_CELLS, tmp_path)
    before = mlops.runs(experiment="pol")
    assert len(before) == 2
    target = before["id"].iloc[0]  # the newest: step 2

    rep = reproduce(target, clock=lambda: 1234.5)
    assert rep.verdict == "reproduced", rep.message
    assert rep.new is not None and rep.new.tags["reproduces"] == target

    # Both replayed cells were recorded, linked to the original, and hidden by default.
    assert sorted(mlops.runs(experiment="pol")["id"]) == sorted(before["id"])
    every = mlops.runs(experiment="pol", include_reproductions=True)
    assert len(every) == 4
    hidden = set(every["id"]) - set(before["id"])
    assert {mlops.get_run(i).tags["reproduces"] for i in hidden} == {target}
    capsys.readouterr()
    assert main(["runs", "-e", "pol", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["runs"]) == 2
    assert main(["runs", "-e", "pol", "--all", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["runs"]) == 4

    # Never anyone's previous run, though they are the newest of the experiment.
    store = default_tracker().store
    assert store.previous_run("pol", float("inf"), "-").id == target

    # The verdict is kept on the original run, and `show` says it.
    original = mlops.get_run(target)
    assert original.tags["reproduced"] == "reproduced"
    assert original.tags["reproduced_by"] == rep.new.id
    assert original.tags["reproduced_at"] == "1234.500"
    assert main(["show", target[:8], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tags"]["reproduced"] == "reproduced"


def test_a_notebook_in_a_subfolder_replays_in_its_kernel_folder(tmp_path: Path, capsys) -> None:
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    (nbdir / "data.csv").write_text("x\n" + "\n".join(str(i) for i in range(10)))
    (nbdir / "note.txt").write_text("hello")
    _execute(
        [
            "%load_ext jupyter_mlops",
            "import pandas as pd\ntext = open('note.txt').read()",
            "%%track -e sub\ntotal = float(pd.read_csv('data.csv')['x'].sum()) + len(text)",
        ],
        nbdir,
    )
    run = mlops.get_run(mlops.runs(experiment="sub")["id"].iloc[0])
    assert run.tags["cwd"] == str(nbdir)
    capsys.readouterr()
    # From the repository root, where no data.csv exists.
    assert main(["reproduce", run.id[:8], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "reproduced"

    # A replay that cannot finish is `failed`, with its own exit code and the replay's error.
    (nbdir / "note.txt").unlink()
    assert main(["reproduce", run.id[:8]]) == ExitCode.NOT_REPLAYED
    out = capsys.readouterr().out
    assert out.startswith("failed:") and "NameError" in out and "text" in out, out


def test_the_verdict_is_the_output_with_a_table_of_what_differed(tmp_path: Path) -> None:
    _execute(
        [
            "%load_ext jupyter_mlops",
            "%%track -e rnd --no-seed\nimport numpy as np\nscore = float(np.random.rand())",
        ],
        tmp_path,
    )
    rep = reproduce(mlops.runs(experiment="rnd")["id"].iloc[0])
    assert rep.verdict == "differs", rep.message
    assert repr(rep) == rep.summary() and repr(rep).startswith("differs: run ")
    html = rep._repr_html_()
    assert "Run(" not in html and "<table" in html
    a, b = rep.metric_diffs["score"]
    assert "<td>score</td><td>metric</td>" in html and repr(a) in html and repr(b) in html


def test_integer_params_stay_integers_in_the_frame_and_json(capsys) -> None:
    with mlops.start_run(experiment="ints", seed=None) as run:
        run.log_params({"n_estimators": 20, "lr": 0.5, "flag": True})
    with mlops.start_run(experiment="ints", seed=None) as run:
        run.log_params({"lr": 1})  # n_estimators missing here; lr an int beside a float
    frame = mlops.runs(experiment="ints")
    values = dict(zip(frame["id"], frame["params.n_estimators"], strict=True))
    assert [type(v) for v in values.values() if v is not None] == [int]
    assert sorted(map(repr, frame["params.lr"])) == ["0.5", "1"]
    capsys.readouterr()
    assert main(["runs", "-e", "ints", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)["runs"]
    assert [r["params"].get("n_estimators") for r in records] == [None, 20]
    assert json.dumps([r["params"]["lr"] for r in records]) == "[1, 0.5]"


def test_an_output_that_differs_is_named_with_its_column(tmp_path: Path) -> None:
    _execute(
        [
            "%load_ext jupyter_mlops",
            "%%track -e uu\nimport uuid\nimport pandas as pd\n"
            "ids = pd.DataFrame({'id': [str(uuid.uuid4()) for _ in range(5)], 'n': range(5)})",
        ],
        tmp_path,
    )
    original = mlops.get_run(mlops.runs(experiment="uu")["id"].iloc[0])
    assert not original.metrics and any(d.name == "ids" for d in original.data)
    rep = reproduce(original.id)
    assert rep.verdict == "differs", rep.message
    assert rep.output_diffs == {"ids": "changed: id"}
    assert "outputs differ: ids (changed: id)" in rep.message


def _csv(path: Path, f2: int) -> None:
    path.write_text("f1,f2\n" + "\n".join(f"{i},{i * f2}" for i in range(10)))


def test_a_changed_file_is_named_with_the_column_of_the_frame_read_from_it(
    tmp_path: Path,
) -> None:
    _csv(tmp_path / "data.csv", 2)
    _execute(
        [
            "%load_ext jupyter_mlops",
            "import pandas as pd\nfeatures = pd.read_csv('data.csv')",
            "%%track -e csv\ntotal = float(features['f1'].sum() + features['f2'].sum())",
        ],
        tmp_path,
    )
    run_id = mlops.runs(experiment="csv")["id"].iloc[0]
    assert reproduce(run_id).verdict == "reproduced"
    _csv(tmp_path / "data.csv", 3)
    rep = reproduce(run_id)
    assert rep.verdict == "inputs changed", rep.message
    assert "data.csv changed; the frame read from it (features) differs in f2" in rep.message


def test_random_preparation_is_not_called_changed_data(tmp_path: Path) -> None:
    _execute(
        [
            "%load_ext jupyter_mlops",
            "import numpy as np\nfrom sklearn.model_selection import train_test_split\n"
            "X = np.arange(200.0).reshape(100, 2)\nX_tr, X_te = train_test_split(X)",
            "%%track -e prep\ntotal = float(X_tr[:, 0].sum())",
        ],
        tmp_path,
    )
    rep = reproduce(mlops.runs(experiment="prep")["id"].iloc[0])
    assert rep.verdict == "differs", rep.message
    assert rep.message.startswith("not deterministic: X_tr differs")
    assert "cell 2 of the replayed history is not deterministic" in rep.message
    assert "train_test_split(X)" in rep.message and "inputs changed" not in rep.message


def test_an_earlier_seed_still_governs_the_tracked_cell(tmp_path: Path) -> None:
    import numpy as np

    _execute(
        [
            "%load_ext jupyter_mlops",
            "import numpy as np\nnp.random.seed(0)",
            "%%track -e gov\nscore = float(np.random.randint(0, 10**6))",
        ],
        tmp_path,
    )
    run = mlops.get_run(mlops.runs(experiment="gov")["id"].iloc[0])
    np.random.seed(0)
    assert run.metrics["score"] == float(np.random.randint(0, 10**6))  # as if untracked
    assert run.seed is None and len(run.tags["rng_state"]) == 32
    assert reproduce(run.id).verdict == "reproduced"


def test_rngs_imported_and_drawn_inside_the_cell_replay(tmp_path: Path) -> None:
    _execute(
        [
            "%load_ext jupyter_mlops",
            "%%track -e inside\nimport random\nimport numpy as np\n"
            "score = float(np.random.rand()) + random.random()",
        ],
        tmp_path,
    )
    rep = reproduce(mlops.runs(experiment="inside")["id"].iloc[0])
    assert rep.verdict == "reproduced", rep.message


def test_the_import_hook_records_numpy_imported_during_the_cell(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from jupyter_mlops.tracking.seeding import RngRecorder, decode_states, restore_states\n"
        "assert 'numpy' not in sys.modules\n"
        "rec = RngRecorder(None).start()\nimport numpy as np\na = np.random.rand(3)\n"
        "sha, text = rec.stop()\nassert rec not in sys.meta_path\n"
        "states = decode_states(text)\nassert 'numpy' in states, sorted(states)\n"
        "restore_states(states)\nassert (np.random.rand(3) == a).all()\n"
        "print('ok')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_an_unseeded_generator_in_the_cell_is_recorded_and_replayed(tmp_path: Path) -> None:
    _execute(
        [
            "%load_ext jupyter_mlops",
            "import numpy as np",
            "%%track -e gen\nrng = np.random.default_rng()\nscore = float(rng.random())\n"
            "import jupyter_mlops as mlops\n"
            "mlops.log_metric('fixed', float(np.random.default_rng(3).random()))\n"
            "ss = np.random.SeedSequence()\n"
            "assert isinstance(ss, np.random.bit_generator.SeedSequence)\n"
            "mlops.log_metric('ss', float(np.random.default_rng(ss.spawn(1)[0]).random()))",
            # Restored after the cell: numpy's own functions again.
            "assert np.random.default_rng is np.random._generator.default_rng\n"
            "assert np.random.SeedSequence is np.random.bit_generator.SeedSequence",
        ],
        tmp_path,
    )
    import numpy as np

    run = mlops.get_run(mlops.runs(experiment="gen")["id"].iloc[0])
    assert run.metrics["fixed"] == float(np.random.default_rng(3).random())  # seeded: untouched
    rep = reproduce(run.id)
    assert rep.verdict == "reproduced", rep.message
    assert rep.new is not None and rep.new.metrics["score"] == run.metrics["score"]
    assert rep.new.metrics["ss"] == run.metrics["ss"]
