from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

import jupyter_mlops as mlops
from jupyter_mlops.entities import DataRole, RunStatus
from jupyter_mlops.exceptions import StoreNotFoundError
from jupyter_mlops.tracking import TrackingWarning

SETUP = """
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(200, 4)), columns=list("abcd"))
y = (X["a"] + X["b"] > 0).astype(int).to_numpy()
"""

TRAIN = """%%track -e clf --tags team=ml,stage=dev
C = {C}
max_iter = 200
model = LogisticRegression(C=C, max_iter=max_iter, random_state=0).fit(X, y)
accuracy = model.score(X, y)
print("trained with", C)
"""


def _last_run() -> mlops.Run:
    frame = mlops.runs(limit=1)
    return mlops.get_run(frame["id"].iloc[0])


def test_track_records_a_training_cell(shell, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run(SETUP)
    shell.run(TRAIN.format(C=0.5))
    run = _last_run()
    assert run.status is RunStatus.FINISHED
    assert run.experiment == "clf"
    assert run.tags.pop("cwd") == os.getcwd() and len(run.tags.pop("rng_state")) == 32
    assert run.tags == {"team": "ml", "stage": "dev"}
    assert run.params["C"] == 0.5 and run.params["max_iter"] == 200
    assert run.params["model.C"] == 0.5 and run.params["model.solver"] == "lbfgs"
    assert 0.5 < run.metrics["accuracy"] <= 1.0
    assert run.seed is None  # by default RNG states are recorded (tag rng_state), not seeded
    inputs = {d.name: d for d in run.inputs}
    assert set(inputs) == {"X", "y"}
    assert inputs["X"].fingerprint.shape == (200, 4)
    assert inputs["X"].fingerprint.kind == "dataframe"
    assert run.code.startswith("C = ") or "C = 0.5" in run.code
    history = mlops.default_tracker().store.get_code(list(run.history))
    assert any("default_rng" in t for t in history.values())
    assert "trained with 0.5" in run.stdout_tail
    assert run.environment_id
    env = mlops.default_tracker().store.get_environment(run.environment_id)
    assert "scikit-learn" in env.packages and "pandas" in env.packages
    out = capsys.readouterr().out
    assert f"run {run.short_id}" in out and "first run of this cell" in out


def test_summary_says_what_changed_since_previous_run(shell, capsys) -> None:
    shell.run(SETUP)
    shell.run(TRAIN.format(C=0.5))
    shell.run("X.loc[3, 'c'] = 99.0")
    capsys.readouterr()
    shell.run(TRAIN.format(C=1.0))
    out = capsys.readouterr().out
    assert "C 0.5 → 1" in out
    assert "X changed (c)" in out
    assert "accuracy" in out


def test_failing_cell_is_recorded_and_reraised_unchanged(shell) -> None:
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        shell.run("%%track -e fail\nlr = 0.1\n1 / 0")
    run = _last_run()
    assert run.status is RunStatus.FAILED
    assert "ZeroDivisionError" in run.error
    assert run.params == {"lr": 0.1}
    shell.run("%%track -e fail\nlr = 0.2")
    assert _last_run().status is RunStatus.FINISHED


def test_keyboard_interrupt_marks_run_interrupted(shell) -> None:
    with pytest.raises(KeyboardInterrupt):
        shell.run("%%track\nraise KeyboardInterrupt")
    assert _last_run().status is RunStatus.INTERRUPTED


def test_trailing_expression_is_the_cell_value(shell) -> None:
    assert shell.run("%%track\nx = 21\nx * 2") == 42


def test_log_metric_inside_cell_goes_to_the_cell_run(shell) -> None:
    shell.run(
        "%%track -e curves\nimport jupyter_mlops as mlops\n"
        "for step in range(5):\n    mlops.log_metric('loss', 1 / (step + 1), step=step)"
    )
    run = _last_run()
    assert run.metrics["loss"] == pytest.approx(0.2)
    hist = mlops.metric_history(run.id, "loss")
    assert hist["step"].tolist() == [0, 1, 2, 3, 4]


def test_seed_option_makes_cells_reproducible(shell) -> None:
    shell.run("import numpy as np")
    shell.run("%%track --seed 42\na = np.random.rand(3)")
    first = shell.user_ns["a"].copy()
    shell.run("%%track --seed 42\na = np.random.rand(3)")
    assert (shell.user_ns["a"] == first).all()
    assert _last_run().seed == 42
    shell.run("%%track --no-seed\nb = 1")
    assert _last_run().seed is None


def test_reproducibility_warnings(shell) -> None:
    shell.run(SETUP)
    shell.run(
        "%%track\nr = np.random.RandomState()\ng = np.random.default_rng()\n"
        "m = LogisticRegression(random_state=None, solver='liblinear').fit(X, y)"
    )
    warnings = " ".join(_last_run().warnings)
    assert "RandomState() creates an unseeded random generator" in warnings
    assert "random_state=None" in warnings
    # default_rng()'s entropy is drawn and recorded by the cell, so it is controlled ...
    assert "default_rng" not in warnings
    # ... unless the cell records nothing.
    shell.run("%%track --no-seed\ng = np.random.default_rng()")
    assert "default_rng() creates an unseeded" in " ".join(_last_run().warnings)


def test_files_read_by_the_cell_are_fingerprinted(shell, tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("a,b\n1,2\n3,4\n")
    shell.run("import pandas as pd")
    shell.run("%%track\ndf = pd.read_csv('train.csv')\nrows = len(df)")
    inputs = {d.name: d.fingerprint for d in _last_run().inputs}
    assert inputs["train.csv"].kind == "file"
    assert inputs["train.csv"].nbytes == 12
    assert all(not name.startswith("/sys") for name in inputs)
    outputs = [d.name for d in _last_run().data if d.role is DataRole.OUTPUT]
    assert "df" in outputs


def test_params_option_and_log_model_and_figures(shell) -> None:
    shell.run(SETUP)
    shell.run("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt")
    shell.run("config = {'depth': 3}")
    shell.run(
        "%%track --params config --log-model\n"
        "clf = LogisticRegression(random_state=1).fit(X, y)\n"
        "fig = plt.figure(); plt.plot([1, 2])"
    )
    run = _last_run()
    assert run.params["config"] == {"depth": 3}
    kinds = {a.kind: a for a in run.artifacts}
    assert "model" in kinds and "figure" in kinds
    shell.run("plt.close('all')")


@pytest.mark.parametrize(
    "line, message",
    [
        ("--seed abc", "invalid int value: 'abc'"),
        ("--bogus", "unrecognized arguments: --bogus"),
        ("--seed 3 --no-seed", "cannot be used together"),
        ("--tags novalue", "key=value"),
    ],
)
def test_bad_options_give_one_clear_error(shell, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        shell.run(f"%%track {line}\nx = 1")
    assert "x" not in shell.user_ns


def test_unwritable_store_still_runs_the_cell(shell, tmp_path: Path, monkeypatch) -> None:
    from jupyter_mlops.tracking import reset_default_tracker

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("JUPYTER_MLOPS_STORE", str(blocker / ".mlops"))
    reset_default_tracker()
    with pytest.warns(TrackingWarning, match="not recorded.*Cannot create the store"):
        shell.run("%%track\nvalue = 7")
    assert shell.user_ns["value"] == 7


def test_mlops_line_magic(shell, capsys) -> None:
    shell.run("%%track -e a\nacc = 0.5")
    shell.run("%%track -e a\nacc = 0.75")
    frame = shell.run("%mlops runs -e a --limit 5")
    assert frame["metrics.acc"].tolist() == [0.75, 0.5]
    top = shell.run('%mlops runs --where "metrics.acc > 0.6"')
    assert len(top) == 1
    # The CLI's filters, read the same way (cli.runs.runs_query): none of these runs has gates.
    assert len(shell.run("%mlops runs -e a --status finished --gate none")) == 2
    assert len(shell.run("%mlops runs -e a --gate failed")) == 0
    assert len(shell.run("%mlops runs -e a --status failed")) == 0
    capsys.readouterr()
    shell.run(f"%mlops show {top['id'].iloc[0][:8]}")
    assert "acc = 0.75" in capsys.readouterr().out
    ids = frame["id"].str[:8].tolist()
    cmp = shell.run(f"%mlops compare {ids[0]} {ids[1]}")
    assert bool(cmp.loc["metrics.acc", "differs"])
    shell.run("%mlops config")
    assert "store" in capsys.readouterr().out
    with pytest.raises(UsageError, match="not found"):
        shell.run("%mlops show abcdef123")
    with pytest.raises(UsageError, match="Unknown %mlops command"):
        shell.run("%mlops frobnicate")
    with pytest.raises(UsageError, match="Unknown field"):
        shell.run('%mlops runs --where "bogus > 1"')


def test_mlops_subcommands_have_help(shell, capsys) -> None:
    shell.run("%mlops?")  # the pager shows the docstring, with every command's options
    shown = capsys.readouterr().out
    for command in ("runs", "show", "compare", "reproduce", "config"):
        assert f"%mlops {command}" in shown
    assert "Only the runs of this experiment." in shown
    shell.run("%mlops runs --help")
    assert "--order-by ORDER_BY" in capsys.readouterr().out
    with pytest.raises(UsageError, match=r"^%mlops runs: .*--bogus.*see %mlops runs --help"):
        shell.run("%mlops runs --bogus")


def test_extension_unloads_and_reloads(shell) -> None:
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    assert "track" not in shell.magics_manager.magics["cell"]
    shell.run_line_magic("load_ext", "jupyter_mlops")
    assert "track" in shell.magics_manager.magics["cell"]


def test_peak_memory_and_duration_are_recorded(shell) -> None:
    shell.run("import numpy as np")
    shell.run("%%track\nbig = np.ones(50_000_000)\ntotal = float(big.sum())\ndel big")
    run = _last_run()
    assert run.peak_memory is not None and run.peak_memory > 300 * 2**20
    assert run.duration > 0


def test_compare_plots_metric_curves(shell) -> None:
    from IPython.utils.capture import capture_output

    for lr in (0.1, 0.2):
        shell.run(
            f"%%track -e curves\nimport jupyter_mlops as mlops\nlr = {lr}\n"
            "for step in range(4):\n    mlops.log_metric('loss', lr / (step + 1), step=step)"
        )
    ids = mlops.runs(experiment="curves")["id"].str[:8].tolist()
    with capture_output() as captured:  # displayed as SVG and PNG, with no pyplot backend
        shell.run(f"%mlops compare {ids[0]} {ids[1]} --plot loss")
    (figure,) = [o.data for o in captured.outputs if "image/svg+xml" in o.data]
    assert "image/png" in figure and ">loss<" in figure["image/svg+xml"]
    with pytest.raises(UsageError, match="None of these runs logged metric 'acc'"):
        shell.run(f"%mlops compare {ids[0]} {ids[1]} --plot acc")


@pytest.mark.slow
def test_mlops_reproduce_replays_the_session_in_a_fresh_kernel(shell, capsys) -> None:
    shell.run("import numpy as np\nbase = np.arange(10.0)")
    shell.run(
        "%%track -e rep\nscale = 3\nnoise = float(np.random.rand())\n"
        "score = float((base * scale).sum()) + noise"
    )
    run_id = _last_run().id
    capsys.readouterr()
    rep = shell.run(f"%mlops reproduce {run_id[:8]}")
    assert rep.verdict == "reproduced", rep.message
    assert rep.new.metrics["score"] == _last_run_in("rep", exclude=rep.new.id).metrics["score"]
    out = capsys.readouterr().out
    assert "reproduced: run" in out and "Reproduction(" not in out  # the verdict only
    assert rep._repr_html_().startswith("<div><b") and "reproduced</b>" in rep._repr_html_()


def _last_run_in(experiment: str, exclude: str) -> mlops.Run:
    ids = mlops.runs(experiment=experiment)["id"]
    return mlops.get_run(next(i for i in ids if i != exclude))


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 1 MiB tmpfs, to fill up for real (needs root, as in CI; skipped otherwise)."""
    import subprocess

    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(path: Path) -> None:
    with path.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass


def test_full_disk_still_runs_the_cell_and_keeps_the_store_intact(
    shell, tiny_disk: Path, monkeypatch
) -> None:
    import sqlite3

    from jupyter_mlops.tracking import reset_default_tracker

    monkeypatch.setenv("JUPYTER_MLOPS_STORE", str(tiny_disk / ".mlops"))
    reset_default_tracker()
    shell.run("%%track -e disk\nacc = 0.5")
    first = _last_run()
    _fill(tiny_disk / "filler")
    with pytest.warns(TrackingWarning, match="not recorded.*(full|space)"):
        shell.run("%%track -e disk\nacc = 0.75\nvalue = 42")
    assert shell.user_ns["value"] == 42
    (tiny_disk / "filler").unlink()
    from jupyter_mlops.store import close_stores

    close_stores()
    reset_default_tracker()
    con = sqlite3.connect(tiny_disk / ".mlops" / "mlops.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    assert mlops.get_run(first.id).metrics == {"acc": 0.5}
    shell.run("%%track -e disk\nacc = 0.9")  # space is back: recording resumes
    assert _last_run().metrics == {"acc": 0.9}


def test_disk_filling_up_during_a_cell_is_closed_honestly_later(
    shell, tiny_disk: Path, monkeypatch
) -> None:
    from jupyter_mlops.tracking import reset_default_tracker

    monkeypatch.setenv("JUPYTER_MLOPS_STORE", str(tiny_disk / ".mlops"))
    reset_default_tracker()
    filler = tiny_disk / "filler"
    cell = (
        f"%%track -e disk\nwith open({str(filler)!r}, 'wb', buffering=0) as f:\n"
        "    try:\n        while True:\n            f.write(bytes(4096))\n"
        "    except OSError:\n        pass\nsteps = 3"
    )
    with pytest.warns(TrackingWarning, match="not recorded"):
        shell.run(cell)
    assert shell.user_ns["steps"] == 3
    stuck = mlops.runs(experiment="disk")
    assert stuck["status"].tolist() == ["running"]  # its end could not be written
    filler.unlink()
    shell.run("%%track -e disk\nacc = 0.9")
    closed = mlops.get_run(stuck["id"].iloc[0])
    assert closed.status is RunStatus.FINISHED
    assert "details not recorded" in closed.error


def test_pipeline_estimators_record_step_params_not_step_reprs(shell, capsys) -> None:
    shell.run(
        SETUP + "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler"
    )
    cell = (
        "%%track -e pipe\nC = {C}\n"
        "model = make_pipeline(StandardScaler(), LogisticRegression(C=C)).fit(X, y)"
    )
    shell.run(cell.format(C=0.5))
    capsys.readouterr()
    shell.run(cell.format(C=2.0))
    params = _last_run().params
    assert params["model.logisticregression__C"] == 2.0
    assert "model.steps" not in params
    changes = next(line for line in capsys.readouterr().out.splitlines() if "changes" in line)
    assert "C 0.5 → 2" in changes and "logisticregression__C" not in changes


# -- transparency: %%track changes nothing about what the cell does ----------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _run_showing(shell, code: str, capsys) -> tuple[Any, str]:
    """Run a cell like a front-end does (errors shown, not raised); its result and output."""
    capsys.readouterr()
    result = shell.run_cell(code, store_history=True)
    return result, _ANSI.sub("", capsys.readouterr().out)


def test_trailing_semicolon_hides_the_value_and_keeps_underscore(shell, capsys) -> None:
    shell.run("41 + 1")
    result, out = _run_showing(shell, "%%track\n1 + 1;", capsys)
    assert result.result is None and "Out[" not in out
    assert shell.user_ns["_"] == 42


def test_top_level_await_runs_in_a_tracked_cell(shell) -> None:
    shell.run("%%track -e aw\nimport asyncio\nawait asyncio.sleep(0)\nawaited = 5")
    assert shell.user_ns["awaited"] == 5
    assert _last_run().status is RunStatus.FINISHED


def test_tracebacks_show_only_user_frames_with_the_right_cell(shell, capsys) -> None:
    defining = shell.execution_count
    shell.run("%%track -e tb\nx = 1\ndef func2():\n    return 1 / 0")
    assert _last_run().execution_count == defining
    calling = shell.execution_count
    result, out = _run_showing(shell, "%%track -e tb\nfunc2()", capsys)
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert f"Cell In[{calling}], line 1" in out
    assert f"Cell In[{defining}], line 3, in func2" in out
    assert "jupyter_mlops" not in out and "run_cell_magic" not in out
    assert _last_run().execution_count == calling


def test_syntax_error_shows_ipythons_short_box(shell, capsys) -> None:
    n = shell.execution_count
    result, out = _run_showing(shell, "%%track -e syn\nx = 1\n  y = 2", capsys)
    assert isinstance(result.error_before_exec, IndentationError)
    assert f"Cell In[{n}], line 2" in out and "unexpected indent" in out
    assert "<unknown>" not in out and "ast.parse" not in out and "Traceback" not in out


def test_stdout_keeps_its_object_and_type(shell) -> None:
    shell.run("import io, sys\nplain = (sys.stdout, type(sys.stdout))")
    shell.run(
        "%%track -e out\ntracked = (sys.stdout, type(sys.stdout))\n"
        "is_text = isinstance(sys.stdout, io.TextIOBase)\nprint('hello tail')"
    )
    ns = shell.user_ns
    assert ns["tracked"][0] is ns["plain"][0] and ns["tracked"][1] is ns["plain"][1]
    assert ns["is_text"] is isinstance(ns["plain"][0], io.TextIOBase)
    assert "hello tail" in _last_run().stdout_tail
    # our wrapper is gone after the cell
    assert "StdoutTail" not in getattr(ns["plain"][0].write, "__qualname__", "")


def test_an_empty_tracked_cell_does_nothing(shell, capsys) -> None:
    for code in ("%%track", "%%track -e x\n", "\n%%track\n   \n"):
        result, out = _run_showing(shell, code, capsys)
        assert result.success and out == ""
    with pytest.raises(StoreNotFoundError):  # nothing recorded: not even a store was created
        mlops.runs()


def test_run_cell_magic_called_explicitly_runs_the_body_tracked(shell) -> None:
    shell.run("get_ipython().run_cell_magic('track', '-e explicit', 'acc = 0.5')")
    run = _last_run()
    assert run.experiment == "explicit" and run.metrics == {"acc": 0.5}


def test_changes_compare_with_the_previous_run_of_the_same_cell(shell, capsys) -> None:
    shell.run("%%track -e same\nC = 0.5\nx = 10")
    shell.run("%%track -e same\nprint(len('abc'))")  # another cell in between
    capsys.readouterr()
    shell.run("%%track -e same\nprint(len('abc'))")
    assert "same params" in capsys.readouterr().out
    shell.run("%%track -e same\nC = 1.0\nx = 10")  # the first cell, edited
    out = capsys.readouterr().out
    assert "C 0.5 → 1" in out and "<unset>" not in out
    shell.run("%%track -e same\ny = 3")
    assert "first run of this cell" in capsys.readouterr().out


def test_jupyter_cell_ids_decide_which_run_is_compared(shell, capsys) -> None:
    shell.run_cell("%%track -e ids\nC = 1", store_history=True, cell_id="cell-a")
    shell.run_cell("%%track -e ids\nC = 2", store_history=True, cell_id="cell-b")
    assert "first run of this cell" in capsys.readouterr().out
    tags = _last_run().tags
    assert (tags["cell_id"], tags["cwd"]) == ("cell-b", os.getcwd())
    shell.run_line_magic("reload_ext", "jupyter_mlops")  # a new session: from the store
    shell.run_cell("%%track -e ids\nC = 3", store_history=True, cell_id="cell-a")
    assert "C 1 → 3" in capsys.readouterr().out


def test_large_literal_containers_are_inputs_not_params(shell) -> None:
    rows = [{"price": 850000 + i, "rooms": 3, "city": "Lyon"} for i in range(6)]
    shell.run(f"%%track -e lit\ndata = {rows!r}\nsizes = [1, 2, 3]\nlr = 0.1")
    run = _last_run()
    assert len(repr(rows)) > 250
    assert "data" not in run.params and run.params["sizes"] == [1, 2, 3]
    inputs = {d.name: d.fingerprint for d in run.inputs}
    assert inputs["data"].kind == "literal" and inputs["data"].shape == (6,)
    shell.run(f"%%track -e lit\ndata = {list(range(21))!r}")
    assert "data" in {d.name for d in _last_run().inputs}


def test_experiment_comes_from_the_front_end_or_the_folder(shell, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("JUPYTER_MLOPS_NOTEBOOK", raising=False)
    shell.user_ns.pop("__session__", None)
    shell.run("%%track\nx = 1")
    assert _last_run().experiment == tmp_path.name
    shell.user_ns["__vsc_ipynb_file__"] = str(tmp_path / "analysis.ipynb")
    shell.run("%%track\nx = 1")
    assert _last_run().experiment == "analysis"
    assert _last_run().notebook == str(tmp_path / "analysis.ipynb")
    del shell.user_ns["__vsc_ipynb_file__"]
    monkeypatch.setenv("JPY_SESSION_NAME", "work/explore.ipynb")
    shell.run("%%track\nx = 1")
    assert _last_run().experiment == "explore"


def test_metric_matcher_agrees_with_the_rules() -> None:
    from jupyter_mlops.config import DEFAULT_METRIC_NAMES
    from jupyter_mlops.tracking.cell import metric_matcher

    is_metric = metric_matcher(DEFAULT_METRIC_NAMES)
    assert metric_matcher(DEFAULT_METRIC_NAMES) is is_metric  # built once per settings
    for name in ("accuracy", "val_accuracy", "cv_f1", "model_f1", "holdout_val_loss", "r2"):
        assert is_metric(name), name
    for name in ("C", "lr", "accuracy_threshold", "f1x", "n_estimators", "_"):
        assert not is_metric(name), name


def test_first_cell_does_not_wait_for_the_package_scan(shell, tmp_path, monkeypatch) -> None:
    """The installation scan (0.2-1.5 s) runs on a thread; a run ending before it is done gets
    its environment recorded when the scan finishes."""
    import threading
    import time

    from jupyter_mlops.tracking import environment

    release = threading.Event()
    real_scan = environment._scan_installation

    def blocked_scan():
        release.wait(30)
        return real_scan()

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # The extension's prewarm thread (started by the shell fixture) must be done first, or it
    # sets the scan's result behind this test's back: waits for it under the scan's lock.
    environment._distributions()
    monkeypatch.setattr(environment, "_dists", None)  # a fresh kernel
    monkeypatch.setattr(environment, "_env_cache", {"n_modules": -1, "env": None})
    monkeypatch.setattr(environment, "_scan_installation", blocked_scan)
    shell.run("%%track -e env\nx = 1")  # would hang here if the cell waited for the scan
    run = _last_run()
    assert run.status is RunStatus.FINISHED and run.environment_id is None
    release.set()
    deadline = time.monotonic() + 120
    while mlops.get_run(run.id).environment_id is None and time.monotonic() < deadline:
        time.sleep(0.02)
    env = mlops.default_tracker().store.get_environment(mlops.get_run(run.id).environment_id)
    assert env is not None and "ipython" in {p.lower() for p in env.packages}


def test_fast_package_scan_agrees_with_importlib_metadata() -> None:
    from importlib.metadata import distributions, packages_distributions

    from jupyter_mlops.tracking.environment import _scan_installation

    dists, versions = _scan_installation()
    for module, names in packages_distributions().items():
        assert sorted(set(dists.get(module, ()))) == sorted(set(names)), module
    assert versions == {d.metadata["Name"]: d.version for d in distributions()} | versions
    assert "ipython" in {n.lower() for n in versions}


def test_tags_and_run_params_share_one_pair_parser(shell) -> None:
    from jupyter_mlops.config import parse_pairs

    assert parse_pairs(["a=1", " b = x=y", "a=2"], ValueError) == {"a": "2", "b": " x=y"}
    with pytest.raises(ValueError, match="^=3$"):
        parse_pairs(["=3"], ValueError)
    shell.run("%%track --tags team=vision,,stage=dev\nx = 1")
    tags = _last_run().tags
    assert {k: tags[k] for k in ("team", "stage")} == {"team": "vision", "stage": "dev"}
    assert set(tags) == {"team", "stage", "cwd", "rng_state"}  # plus what every run records
