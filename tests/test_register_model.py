"""Registering a model from any run: a fitted object, ``RUN_ID[:ARTIFACT]`` (short ids too),
``%%track --register`` and ``jupyter-mlops models register``; the same versions, events and
trust rules as a pipeline's registration, and the input contract recorded on every path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from sklearn.linear_model import LogisticRegression

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import EXIT_USAGE, main
from jupyter_mlops.entities import RunKind
from jupyter_mlops.exceptions import UntrustedModelError, ValidationError
from jupyter_mlops.pipeline.gating import decide_model
from jupyter_mlops.pipeline.spec import PipelineSpec
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.tracking import reset_default_tracker
from jupyter_mlops.validation.contract import ContractError, policy_of, signature_of


def frame(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    return X, (X["a"] + X["b"] > 0).astype(int).to_numpy()


def fitted() -> LogisticRegression:
    return LogisticRegression().fit(*frame())


def events(store: Any, name: str) -> list[tuple[str, int]]:
    return [(e.action, e.version) for e in store.model_events(name)]


def test_a_fitted_model_is_logged_on_a_new_run_and_registered(tracker: mlops.Tracker) -> None:
    mv = mlops.register_model("churn", fitted())
    assert (mv.ref, mv.stage.value) == ("churn@1", "candidate")
    run = tracker.get_run(mv.run_id)
    assert run.kind is RunKind.SCRIPT and [a.name for a in run.artifacts] == ["churn"]
    assert events(tracker.store, "churn") == [("register", 1)]
    sig = signature_of(tracker.store, mv)
    assert sig is not None and sig.names == ("a", "b", "c") and sig.source == "model"
    assert policy_of(tracker.store, mv) == "reject"
    # Inside a run, the model is logged on that run.
    with mlops.start_run(experiment="x") as active:
        mv2 = mlops.register_model("churn", fitted())
    assert (mv2.version, mv2.run_id) == (2, active.id)


def test_a_run_reference_full_short_with_artifact_or_mlflow_style(tracker: mlops.Tracker) -> None:
    with tracker.start_run(experiment="x") as run:
        run.log_model(fitted(), "model")
    short = run.id[:8]
    refs = [run.id, short, f"{short}:model", f"runs:/{run.id}/model"]
    versions = [mlops.register_model("churn", ref) for ref in refs]
    assert [v.version for v in versions] == [1, 2, 3, 4]
    assert {v.run_id for v in versions} == {run.id}
    assert {v.artifact_sha for v in versions} == {tracker.get_run(run.id).artifacts[0].sha256}


def test_a_run_with_no_model_or_several_says_which_to_give(tracker: mlops.Tracker) -> None:
    with tracker.start_run(experiment="x") as empty:
        pass
    with pytest.raises(ValidationError, match="logged no model; log one with"):
        mlops.register_model("churn", empty.id)
    with tracker.start_run(experiment="x") as two:
        two.log_model(fitted(), "lr")
        two.log_model({"w": 1}, "raw")
    with pytest.raises(ValidationError) as err:
        mlops.register_model("churn", two.id)
    assert str(err.value) == (
        f"Run {two.id[:8]} logged 2 models (lr, raw); say which, e.g. {two.id[:8]}:lr"
    )
    with pytest.raises(ValidationError, match=r"no model named 'nope' \(its models: lr, raw\)"):
        mlops.register_model("churn", f"{two.id}:nope")
    for bad in ("", ":model", "abc:"):
        with pytest.raises(ValidationError, match="Bad run reference"):
            mlops.register_model("churn", bad)
    with pytest.raises(ValidationError, match="not a valid model name"):
        mlops.register_model("no spaces", two.id)
    assert tracker.store.list_models() == []


def test_the_same_versions_events_and_contract_as_a_pipeline(tracker: mlops.Tracker) -> None:
    """A pipeline's registration (the gate stage's decide_model) and register_model make one
    sequence of versions and events, and both record a signature."""
    registry = ModelRegistry(tracker.store)
    with tracker.start_run(experiment="churn", kind=RunKind.PIPELINE) as run:
        run.log_model(fitted(), "model")
    decision = decide_model(
        PipelineSpec(name="churn", notebook="churn.ipynb"),
        registry,
        (tracker.get_run(run.id), "model"),
        [],
        run.id,
        bless=True,
    )
    assert decision.blessed and decision.model is not None
    by_hand = mlops.register_model("churn", fitted())
    assert by_hand.version == 2
    assert events(tracker.store, "churn") == [("register", 1), ("bless", 1), ("register", 2)]
    actors = {e.actor for e in tracker.store.model_events("churn")}
    assert len(actors) == 1
    for mv in (decision.model, by_hand):
        assert tracker.store.model_signature("churn", mv.version) is not None
        assert signature_of(tracker.store, mv).names == ("a", "b", "c")  # type: ignore[union-attr]


def test_track_register_registers_the_cell_model(shell, capsys) -> None:
    shell.run(
        "import numpy as np, pandas as pd\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "rng = np.random.default_rng(0)\n"
        "X = pd.DataFrame({'a': rng.normal(size=100), 'n': rng.integers(0, 9, 100),"
        " 'target': rng.integers(0, 2, 100)})\n"
    )
    shell.run(
        "%%track --register churn\nclf = LogisticRegression().fit(X[['a', 'n']], X['target'])\n"
    )
    assert "registered churn@1 (a candidate) from run" in capsys.readouterr().out
    store = mlops.default_tracker().store
    (mv,) = store.list_models("churn")
    run = store.get_run(mv.run_id)
    assert run.kind is RunKind.CELL and [a.name for a in run.artifacts if a.kind == "model"] == [
        "clf"
    ]
    sig = signature_of(store, mv)
    # From the DataFrame the cell read, cut to the model's features: their kinds are known.
    assert sig is not None and sig.source == "data"
    assert [(c.name, c.kind) for c in sig.columns] == [("a", "float"), ("n", "int")]
    # A cell that raises registers nothing (and is re-raised as ever).
    with pytest.raises(ZeroDivisionError):
        shell.run(
            "%%track --register churn\nclf = LogisticRegression().fit(X[['a']], X['target'])\n1/0"
        )
    assert [m.version for m in store.list_models("churn")] == [1]
    with pytest.raises(UsageError, match="--register 'no/slash' is not a valid model name"):
        shell.run("%%track --register no/slash\nz = 1\n")
    # A cell without a model says why nothing was registered.
    shell.run("%%track --register churn\nz = 1\n")
    err = capsys.readouterr().err
    assert "%%track --register churn: not registered: Run " in err and "logged no model" in err


def test_cli_register_contract_and_show(tracker: mlops.Tracker, capsys) -> None:
    with tracker.start_run(experiment="x") as run:
        run.log_model(fitted(), "model")
    assert main(["models", "register", run.id[:8], "churn"]) == 0
    assert (
        capsys.readouterr().out.strip() == f"churn@1 registered from run {run.id[:8]} (a candidate)"
    )
    assert main(["models", "register", f"{run.id}:model", "churn", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["name"], body["version"], body["stage"]) == ("churn", 2, "candidate")
    assert main(["models", "contract", "churn@2", "--policy", "coerce"]) == 0
    assert capsys.readouterr().out.strip() == (
        "churn@2: policy coerce; 3 column(s) from the model: a: any; b: any; c: any"
    )
    assert main(["models", "contract", "churn@2", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["policy"] == "coerce" and [c["name"] for c in body["signature"]["columns"]] == [
        "a",
        "b",
        "c",
    ]
    assert main(["models", "show", "churn"]) == 0
    out = capsys.readouterr().out
    assert "    contract: policy reject; 3 column(s) from the model" in out
    assert "    contract: policy coerce; 3 column(s)" in out
    assert "  contract  churn@2" in out  # the policy change is in the history
    with pytest.raises(SystemExit) as exited:
        main(["models", "contract", "churn@2", "--policy", "strict"])
    assert exited.value.code == EXIT_USAGE
    assert "invalid choice: 'strict'" in capsys.readouterr().err
    assert main(["models", "register", "feedface", "churn"]) != 0
    assert "feedface" in capsys.readouterr().err


SETSTATE_CALLS: list[str] = []


class Planted:
    """A model whose unpickling is seen (``__setstate__`` runs on load)."""

    def __init__(self) -> None:
        self.w = 1

    def predict(self, X: Any) -> Any:
        return np.zeros(len(X))

    def __setstate__(self, state: dict[str, Any]) -> None:
        SETSTATE_CALLS.append("loaded")
        self.__dict__.update(state)


def test_a_team_store_registers_an_untrusted_pickle_without_loading_it(
    tracker: mlops.Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_mlops.registry import is_team_store

    monkeypatch.delenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS", raising=False)
    monkeypatch.setenv("JUPYTER_MLOPS_USER", "mallory")
    with tracker.start_run(experiment="x") as run:
        run.log_model(Planted(), "model")
    reset_default_tracker()
    SETSTATE_CALLS.clear()
    mv = mlops.register_model("planted", run.id[:8])
    assert mv.version == 1 and SETSTATE_CALLS == []  # registered, never unpickled
    store = mlops.default_tracker().store
    assert signature_of(store, mv) is None  # nothing known, and nothing loaded to learn it
    if not is_team_store(store):  # a local store: its own pickles load as before
        assert isinstance(mlops.load_model("planted", 1), Planted)
        return
    with pytest.raises(UntrustedModelError, match="Refusing to unpickle model planted@1"):
        mlops.load_model("planted", 1)
    assert SETSTATE_CALLS == []


def test_predict_enforces_the_registered_contract(tracker: mlops.Tracker) -> None:
    mv = mlops.register_model("churn", fitted())
    ModelRegistry(tracker.store).bless(mv.ref)
    X, _ = frame(5, seed=1)
    expected = mlops.predict("churn", X, sync=True)
    with pytest.raises(ContractError) as err:
        mlops.predict("churn", X.rename(columns={"a": "A"}), sync=True)
    assert [(v.column, v.problem) for v in err.value.violations] == [
        ("a", "missing_column"),
        ("A", "unknown_column"),
    ]
    assert "churn@1" in str(err.value)
    mlops.set_contract_policy("churn@1", "coerce")
    got = mlops.predict("churn", X[["c", "b", "a"]].assign(extra=0), sync=True)
    assert (got == expected).all()
    assert [e.action for e in tracker.store.model_events("churn")][-1] == "contract"


def test_a_pipeline_contract_comes_from_the_training_profile(tmp_path: Path) -> None:
    """The profile a run logged gives kinds, categories and nulls; the model cuts it to its
    features (the profile holds the target too)."""
    from jupyter_mlops.validation.profiles import log_profile, profile

    X = pd.DataFrame({"a": [0.1, 0.5, -0.2, 0.9], "city": ["oslo", "rome", "oslo", "rome"]})
    X["target"] = [0, 1, 0, 1]
    model = LogisticRegression().fit(pd.get_dummies(X[["a"]]), X["target"])
    with mlops.start_run(experiment="p") as run:
        log_profile(profile(X))
        run.log_model(model, "model")
    mv = mlops.register_model("p", run.id)
    sig = signature_of(mlops.default_tracker().store, mv)
    assert sig is not None and sig.source == "profile"
    assert [(c.name, c.kind, c.nullable) for c in sig.columns] == [("a", "float", False)]


def test_an_example_gives_the_contract_kinds_nulls_and_categories(tracker: mlops.Tracker) -> None:
    X, y = frame()
    X = X.assign(city=np.where(X["c"] > 0, "oslo", "rome"))
    model = LogisticRegression().fit(X[["a", "b", "c"]], y)
    mv = mlops.register_model("churn", model, example=X)  # cut to the model's features
    sig = signature_of(tracker.store, mv)
    assert sig is not None and sig.source == "frame" and sig.closed
    assert [(c.name, c.kind, c.nullable) for c in sig.columns] == [
        ("a", "float", False),
        ("b", "float", False),
        ("c", "float", False),
    ]
    with pytest.raises(ValidationError, match="example= must be training data"):
        mlops.register_model("churn", model, example=5)
    assert len(tracker.store.list_models("churn")) == 1  # refused before registering
    ref = mlops.register_model("churn", mv.run_id, example=X[["a", "b", "c"]].astype("int64"))
    assert [c.kind for c in signature_of(tracker.store, ref).columns] == ["int"] * 3  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_real_pipeline_run_records_the_contract(tmp_path: Path) -> None:
    """Through the runner: the dataset the notebook logged (with its label) gives the kinds,
    the model (loaded by the gates) cuts it to its features."""
    import shutil

    from jupyter_mlops.pipeline.runner import run_pipeline
    from jupyter_mlops.store import open_store

    notebooks = Path(__file__).resolve().parent / "notebooks"
    shutil.copy(notebooks / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    assert main(["promote", "train_ok.ipynb", "--name", "nightly"]) == 0
    result = run_pipeline("nightly", progress=False, seed=1)
    assert result.model is not None and result.blessed
    store = open_store(str(tmp_path / ".mlops"))
    sig = signature_of(store, result.model)
    assert store.model_signature("nightly", 1) is not None
    assert sig is not None and sig.source == "data" and sig.closed
    assert [(c.name, c.kind) for c in sig.columns] == [
        ("a", "float"),
        ("b", "float"),
        ("c", "float"),
    ]
