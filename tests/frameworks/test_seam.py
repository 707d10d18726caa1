"""The seam every framework flavor plugs into (jupyter_mlops.frameworks), tested with a small
framework planted on sys.path: hooks on only while a run is active (also for a framework the
cell itself imports), removed on success and on error, a failing flavor costing one warning,
and the native envelope."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops import frameworks
from jupyter_mlops.exceptions import StoreError
from jupyter_mlops.frameworks import HOOKS
from jupyter_mlops.model_format import (
    NATIVE,
    dumps,
    format_of,
    loads,
    native_envelope,
    read_envelope,
)
from tests.conftest import run_fresh

# A framework ("toyfw") and its flavor, written as a user's installation would hold them.
TOYFW = """
class Model:
    def __init__(self, depth=2):
        self.depth, self.curve = depth, []
    def predict(self, X):
        return [self.depth * x for x in X]

def train(params, rounds):
    m = Model(params.get("depth", 2))
    m.curve = [1.0 / (i + 1) for i in range(rounds)]
    return m
"""
FLAVOR = """
import json
from jupyter_mlops.frameworks.base import Flavor, ModelFacts

def _describe(name, model):
    if getattr(model, "depth", None) == 99:
        raise RuntimeError("unreadable model")
    return ModelFacts(params={"depth": model.depth}, curves={"valid-loss": model.curve},
                      tables={"importance": {"columns": ["feature", "gain"], "rows": [["a", 1.0]]}})

def _install(current_run):
    import toyfw
    original = toyfw.train
    def train(params, rounds):
        model = original(params, rounds)
        run = current_run()
        if run is not None:
            run.log_params({f"train.{k}": v for k, v in params.items()})
        return model
    toyfw.train = train
    def undo():
        toyfw.train = original
    return undo

def _save(model):
    return json.dumps({"depth": model.depth}).encode(), {"class": "toyfw.Model"}

def _load(payload, header):
    import toyfw
    return toyfw.Model(json.loads(payload)["depth"])

FLAVOR = Flavor(name="toyfw", module="toyfw", supported="toyfw>=1", describe=_describe,
                save=_save, load=_load, install=_install,
                predict=lambda model, X: [v + 0.5 for v in model.predict(X)])
"""


@pytest.fixture
def toyfw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``toyfw`` importable (not yet imported) with its flavor registered."""
    (tmp_path / "toyfw.py").write_text(TOYFW)
    (tmp_path / "toyfw_flavor.py").write_text(FLAVOR)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(frameworks._MODULES, "toyfw", "toyfw_flavor")
    import toyfw_flavor  # what frameworks would import for "toyfw" were it one of ours

    monkeypatch.setattr(frameworks, "_loaded", {"toyfw": toyfw_flavor.FLAVOR})
    yield tmp_path
    for name in ("toyfw", "toyfw_flavor"):
        sys.modules.pop(name, None)


def test_hooks_are_on_only_while_a_run_is_active(toyfw: Path, store: object) -> None:
    import toyfw as fw

    original = fw.train
    with mlops.start_run() as run:
        assert fw.train is not original
        fw.train({"depth": 3}, 4)
    assert fw.train is original
    assert not HOOKS.active
    assert mlops.get_run(run.id).params == {"train.depth": 3}
    fw.train({"depth": 5}, 1)  # outside a run: untouched, nothing recorded anywhere


def test_hooks_are_removed_when_the_run_raises(toyfw: Path, store: object) -> None:
    import toyfw as fw

    original = fw.train
    with pytest.raises(ZeroDivisionError), mlops.start_run():
        fw.train({}, 1)
        1 / 0  # noqa: B018
    assert fw.train is original and not HOOKS.active


def test_a_framework_imported_inside_the_cell_is_hooked_and_recorded(
    toyfw: Path, shell, store: object
) -> None:
    shell.run("%%track --log-model\nimport toyfw\nm = toyfw.train({'depth': 4}, 3)")
    run = mlops.get_run(mlops.runs().iloc[0]["id"])
    assert run.params == {"train.depth": 4, "m.depth": 4}
    hist = mlops.metric_history(run.id, "valid-loss")
    assert list(hist["step"]) == [0, 1, 2]
    assert list(hist["value"]) == pytest.approx([1.0, 0.5, 1 / 3])
    kinds = {a.name: a.kind for a in run.artifacts}
    assert kinds == {"m.importance.json": "table", "m": "model"}
    assert sys.modules["toyfw"].train.__name__ == "train"  # the original again
    assert sys.modules["toyfw"].train.__module__ == "toyfw"


def test_a_failing_flavor_costs_one_warning_not_the_cell(toyfw: Path, shell, store) -> None:
    shell.run("import toyfw\nm = toyfw.Model(99)")
    shell.run("%%track\nm.depth = 99\nok = 1")
    run = mlops.get_run(mlops.runs().iloc[0]["id"])
    assert [w for w in run.warnings if "toyfw" in w] == [
        "toyfw: what m learned was not recorded (RuntimeError: unreadable model)"
    ]


def test_native_models_round_trip_without_trust_and_predict_through_the_flavor(
    toyfw: Path,
) -> None:
    import toyfw as fw

    data = dumps(fw.Model(7), "m")
    assert format_of(data) == NATIVE
    header, payload = read_envelope(data, "m")
    assert payload == b'{"depth": 7}'
    assert header == {"class": "toyfw.Model", "flavor": "toyfw"}
    model = loads(data, what="model m", trusted=False, how_to_trust="pass trust=True")
    assert model.depth == 7
    assert frameworks.predict(model, [1, 2]) == [7.5, 14.5]


def test_a_damaged_or_unknown_native_file_is_one_clear_error() -> None:
    with pytest.raises(StoreError, match="^model m is not a readable model file"):
        loads(
            b"JMLOPS-MODEL\x00\x01\x00\x00\x00\x03{x}",
            what="model m",
            trusted=False,
            how_to_trust="",
        )
    data = native_envelope({"flavor": "nosuchfw"}, b"")
    with pytest.raises(StoreError) as err:
        loads(data, what="model m", trusted=True, how_to_trust="")
    assert str(err.value) == (
        "model m was saved by nosuchfw, which this installation cannot load; install nosuchfw "
        "(pip install nosuchfw)"
    )


FRAMEWORKS = (
    "xgboost",
    "lightgbm",
    "catboost",
    "torch",
    "lightning",
    "keras",
    "statsmodels",
    "optuna",
    "pytorch_lightning",
)


def test_importing_and_tracking_imports_no_framework() -> None:
    out = run_fresh(
        textwrap.dedent(f"""
        import sys, tempfile
        import jupyter_mlops as mlops
        from jupyter_mlops import frameworks, model_format
        mlops.set_store(tempfile.mkdtemp())
        with mlops.start_run() as run:
            from sklearn.linear_model import LinearRegression
            m = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
            run.log_metric("loss", 0.5)
        print(sorted(set({FRAMEWORKS!r}) & set(sys.modules)))
    """)
    )
    assert out.strip() == "[]"
