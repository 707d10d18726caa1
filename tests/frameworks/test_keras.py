"""Keras 3 under ``%%track`` and ``mlops.start_run()``, with the real framework (torch backend:
the only one installed here; ``KERAS_BACKEND`` is read when keras is first imported)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

import jupyter_mlops as mlops
from jupyter_mlops import frameworks
from jupyter_mlops.model_format import CLOUDPICKLE, NATIVE, format_of, read_envelope
from jupyter_mlops.registry import ModelRegistry
from tests.conftest import ROOT, run_fresh

# Keras 3.15 reads its torch variables through numpy's pre-2.0 __array__ protocol, which numpy
# 2.4 reports as a DeprecationWarning (an error in this suite); a user never sees it.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


@pytest.fixture(autouse=True)
def torch_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "torch")


SETUP = """
import keras, numpy as np, pandas as pd
rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(64, 4)), columns=list("abcd"))
y = (X.sum(axis=1) > 0).astype("float32").to_numpy()
"""

TRAIN = """keras.utils.set_random_seed(7)
model = keras.Sequential(
    [keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
     keras.layers.Dense(1, activation="sigmoid")], name="net")
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
              metrics=["accuracy"])
history = model.fit(X.to_numpy("float32"), y, epochs=3, batch_size=16, validation_split=0.25,
                    verbose=0)
"""


def _last_run() -> mlops.Run:
    return mlops.get_run(mlops.runs(limit=1)["id"].iloc[0])


def _artifact(run: mlops.Run, name: str) -> bytes:
    art = next(a for a in run.artifacts if a.name == name)
    return mlops.default_tracker().store.artifacts.read_bytes(art.uri, art.sha256)


def _assert_curves(run: mlops.Run, history: dict[str, list[float]], prefix: str = "") -> None:
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        frame = mlops.metric_history(run.id, prefix + key)
        assert frame["step"].tolist() == [0, 1, 2]
        assert frame["value"].tolist() == [float(v) for v in history[key]]


def test_a_tracked_fit_records_epochs_optimizer_and_summary(shell) -> None:
    shell.run(SETUP)
    shell.run("%%track -e keras\n" + TRAIN)
    run, model = _last_run(), shell.user_ns["model"]
    _assert_curves(run, shell.user_ns["history"].history)
    params = {k: v for k, v in run.params.items() if k.startswith("model.")}
    assert params == {
        "model.optimizer": "Adam",
        "model.optimizer.learning_rate": 0.01,  # as set, not float32's 0.009999999776…
        "model.optimizer.beta_1": 0.9,
        "model.optimizer.beta_2": 0.999,
        "model.optimizer.epsilon": 1e-07,
        "model.optimizer.amsgrad": False,
        "model.optimizer.use_ema": False,
        "model.optimizer.ema_momentum": 0.99,
        "model.loss": "binary_crossentropy",
        "model.epochs": 3,
        "model.batch_size": 16,
        "model.steps_per_epoch": 3,  # 48 training rows (validation_split) in batches of 16
        "model.params_count": model.count_params(),
    }
    summary = _artifact(run, "model.summary.txt").decode()
    assert 'Model: "net"' in summary and "dense_1 (Dense)" in summary
    # A later cell that only reads the model records nothing for it.
    shell.run("%%track -e keras\nn = model.count_params()")
    again = _last_run()
    assert not any(k.startswith("model.") for k in again.params)
    assert again.metrics == {} and again.artifacts == ()


def test_training_is_bit_identical_with_and_without_track(shell) -> None:
    shell.run(SETUP)
    shell.run(TRAIN)
    untracked = [w.copy() for w in shell.user_ns["model"].get_weights()]
    losses = shell.user_ns["history"].history["loss"]
    shell.run("%%track\n" + TRAIN)
    tracked = shell.user_ns["model"].get_weights()
    assert len(tracked) == len(untracked) == 4
    for a, b in zip(tracked, untracked, strict=True):
        assert a.tobytes() == b.tobytes()
    assert shell.user_ns["history"].history["loss"] == losses


@pytest.mark.parametrize("artifact_backend", ["s3"], indirect=True)
def test_the_logged_model_loads_from_a_team_store_without_trust(
    shell, artifact_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS")  # a pickle would now be refused
    shell.run(SETUP)
    shell.run("%%track -e keras --log-model\n" + TRAIN)
    run = _last_run()
    data = _artifact(run, "model")
    assert format_of(data) == NATIVE
    header, payload = read_envelope(data, "model")
    assert header["flavor"] == "keras" and payload.startswith(b"PK\x03\x04")  # the .keras zip
    store = mlops.default_tracker().store
    assert not store.artifacts.is_local  # the team store: S3
    ModelRegistry(store).register("net", mlops.get_run(run.id), "model")
    X = shell.user_ns["X"]
    expected = frameworks.predict(shell.user_ns["model"], X)
    assert expected.dtype == np.float32 and expected.shape == (64, 1)
    X.to_csv(tmp_path / "X.csv", index=False)
    out = run_fresh(
        "import sys, numpy as np, pandas as pd, jupyter_mlops as mlops\n"
        "from jupyter_mlops import frameworks\n"
        "model = mlops.load_model('net', 1)\n"
        "np.save(sys.argv[2], frameworks.predict(model, pd.read_csv(sys.argv[1])))\n"
        "print(type(model).__name__)",
        str(tmp_path / "X.csv"),
        str(tmp_path / "pred.npy"),
    )
    assert out.strip() == "Sequential"
    assert np.load(tmp_path / "pred.npy").tobytes() == expected.tobytes()


def test_a_lambda_layer_is_stored_as_a_pickle(shell) -> None:
    shell.run(SETUP)
    shell.run(
        "%%track --log-model\n"
        "odd = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2),"
        " keras.layers.Dense(1)])\n"
        "odd.compile('sgd', 'mse')\n"
        "odd.fit(X.to_numpy('float32'), y, epochs=1, verbose=0)"
    )
    run = _last_run()
    # safe_mode refuses a lambda's bytecode: the model needs trust on a team store, as a pickle.
    assert format_of(_artifact(run, "odd")) == CLOUDPICKLE
    assert mlops.metric_history(run.id, "loss")["step"].tolist() == [0]


def test_a_script_run_records_each_fit_and_removes_the_hook() -> None:
    import keras

    plain_fit = keras.Model.fit
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)).astype("float32"), rng.normal(size=40).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)], name="reg")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.5), loss="mse")
    with mlops.start_run(experiment="script") as run:
        assert keras.Model.fit is not plain_fit  # wrapped while the run is active
        model.fit(X, y, epochs=3, validation_split=0.25, verbose=0)  # the History is dropped
    assert keras.Model.fit is plain_fit
    recorded = mlops.get_run(run.id)
    for key in ("loss", "val_loss"):
        frame = mlops.metric_history(run.id, key)
        assert frame["step"].tolist() == [0, 1, 2]
        assert frame["value"].tolist() == [float(v) for v in model.history.history[key]]
    assert recorded.params["reg.optimizer"] == "SGD"
    assert recorded.params["reg.optimizer.learning_rate"] == 0.05
    assert recorded.params["reg.optimizer.momentum"] == 0.5
    assert recorded.params["reg.batch_size"] == 32  # Keras' default for arrays
    assert recorded.params["reg.epochs"] == 3 and recorded.params["reg.params_count"] == 4
    assert [a.name for a in recorded.artifacts] == ["reg.summary.txt"]


def test_a_fit_that_raises_keeps_its_epochs_and_its_exception() -> None:
    import keras

    class Stop(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
            if epoch == 2:
                raise RuntimeError("stopped at epoch 2")

    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(20, 2)).astype("float32"), rng.normal(size=20).astype("float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with (
        mlops.start_run(experiment="script") as run,
        pytest.raises(RuntimeError, match="^stopped at epoch 2$"),
    ):
        model.fit(X, y, epochs=5, callbacks=[Stop()], verbose=0)
    frame = mlops.metric_history(run.id, "loss")
    assert frame["step"].tolist() == [0, 1]
    assert frame["value"].tolist() == [float(v) for v in model.history.history["loss"]]


def test_the_example_notebook_runs(tmp_path: Path) -> None:
    nb = nbformat.read(ROOT / "example_notebooks" / "frameworks" / "keras.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    runs = mlops.runs(experiment="keras-breast-cancer")
    assert len(runs) == 1
    run = mlops.get_run(runs["id"].iloc[0])
    epochs = run.params["model.epochs"]
    assert len(mlops.metric_history(run.id, "val_loss")) == epochs == 5
    assert {a.name: a.kind for a in run.artifacts}["model"] == "model"
    assert read_envelope(_artifact(run, "model"), "model")[0]["flavor"] == "keras"
