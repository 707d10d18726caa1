"""PyTorch in a ``%%track`` cell: a plain training loop's module, optimizer and scheduler as
params and an architecture artifact, the weights as safetensors loading without trust, the
same weights with and without tracking."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import jupyter_mlops as mlops
from jupyter_mlops import model_format
from jupyter_mlops.exceptions import StoreError, UntrustedModelError
from jupyter_mlops.registry import ModelRegistry
from tests.conftest import run_fresh

SETUP = """
import numpy as np
import torch
from torch import nn
from tests.frameworks.nets import MLP
rng = np.random.default_rng(0)
X = rng.normal(size=(64, 4)).astype("float32")
y = (X[:, 0] + X[:, 1] > 0).astype("int64")
"""

# Seeded, so that two executions train the very same weights.
LOOP = """torch.manual_seed(0)
net = MLP(4, hidden=8, n_out=2)
opt = torch.optim.AdamW(net.parameters(), lr=0.01, weight_decay=0.05, betas=(0.8, 0.99))
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
loss_fn = nn.CrossEntropyLoss()
xt, yt = torch.from_numpy(X), torch.from_numpy(y)
for epoch in range(4):
    opt.zero_grad()
    loss = loss_fn(net(xt), yt)
    loss.backward()
    opt.step()
    sched.step()
"""
# 4*8 + 8 weights and biases in the first layer, 8*2 + 2 in the second.
MLP_PARAMETERS = 4 * 8 + 8 + 8 * 2 + 2


def _last_run() -> mlops.Run:
    return mlops.get_run(mlops.runs(limit=1)["id"].iloc[0])


def _artifact(run: mlops.Run, name: str) -> bytes:
    art = next(a for a in run.artifacts if a.name == name)
    return mlops.default_tracker().store.artifacts.read_bytes(art.uri, art.sha256)


def test_a_training_loop_records_module_optimizer_and_scheduler(shell) -> None:
    shell.run(SETUP)
    shell.run("%%track\n" + LOOP)
    run = _last_run()
    params = {k: v for k, v in run.params.items() if k.split(".")[0] in ("net", "opt", "sched")}
    assert params == {
        "net.class": "tests.frameworks.nets.MLP",
        "net.parameters": MLP_PARAMETERS,
        "net.trainable_parameters": MLP_PARAMETERS,
        "opt.class": "AdamW",
        "opt.lr": 0.01,  # the lr set, not the one StepLR moved it to
        "opt.betas": [0.8, 0.99],
        "opt.eps": 1e-08,
        "opt.weight_decay": 0.05,
        "opt.amsgrad": False,
        "opt.maximize": False,
        "opt.decoupled_weight_decay": True,
        "sched.class": "StepLR",
        "sched.step_size": 2,
        "sched.gamma": 0.5,
    }
    assert _artifact(run, "net.architecture.txt").decode() == repr(shell.user_ns["net"])
    assert {a.name: a.kind for a in run.artifacts}["net.architecture.txt"] == "text"


def test_param_groups_that_differ_are_recorded_per_group(shell) -> None:
    shell.run(SETUP)
    shell.run(
        "%%track\n"
        "net = MLP(4)\n"
        "first, second = net.layers[0], net.layers[2]\n"
        "opt = torch.optim.SGD([{'params': first.parameters(), 'lr': 0.1},"
        " {'params': second.parameters()}], lr=0.01, momentum=0.9)\n"
        "net(torch.from_numpy(X)).sum().backward()\n"
        "opt.step()\n"
    )
    params = {k: v for k, v in _last_run().params.items() if k.startswith("opt.")}
    assert params["opt.group0.lr"] == 0.1 and params["opt.group1.lr"] == 0.01
    assert params["opt.momentum"] == 0.9 and "opt.lr" not in params


def test_a_cell_that_only_reads_a_trained_module_records_nothing_for_it(shell) -> None:
    shell.run(SETUP)
    shell.run("%%track\n" + LOOP)
    shell.run("%%track\nwith torch.no_grad():\n    out = net(torch.from_numpy(X))")
    run = _last_run()
    assert not [k for k in run.params if k.split(".")[0] in ("net", "opt", "sched")]
    assert not [a for a in run.artifacts if a.name.startswith("net.")]
    assert run.warnings == ()


def test_a_cell_that_builds_a_module_records_it(shell) -> None:
    shell.run(SETUP)
    shell.run("%%track\nbuilt = MLP(4, hidden=3)")
    params = {k: v for k, v in _last_run().params.items() if k.startswith("built.")}
    assert params == {
        "built.class": "tests.frameworks.nets.MLP",
        "built.parameters": 4 * 3 + 3 + 3 * 2 + 2,
        "built.trainable_parameters": 4 * 3 + 3 + 3 * 2 + 2,
    }


def test_tracking_changes_no_weight(shell) -> None:
    shell.run(SETUP)
    shell.run(LOOP)
    plain = {k: v.clone() for k, v in shell.user_ns["net"].state_dict().items()}
    shell.run("%%track --log-model\n" + LOOP)
    tracked = shell.user_ns["net"].state_dict()
    assert plain.keys() == tracked.keys()
    for key, value in plain.items():
        assert value.numpy().tobytes() == tracked[key].numpy().tobytes(), key


def test_the_model_loads_from_a_team_store_without_trust(
    shell, artifact_backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from safetensors.torch import load

    monkeypatch.setenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS", "")  # nobody vouches for anything
    shell.run(SETUP)
    shell.run("%%track --log-model\n" + LOOP)
    run = _last_run()
    # the optimizer and scheduler are settings, not models: never pickled by --log-model
    assert [a.name for a in run.artifacts if a.kind == "model"] == ["net"]
    data = _artifact(run, "net")
    assert model_format.format_of(data) == model_format.NATIVE
    header, payload = model_format.read_envelope(data, "net")
    assert header["flavor"] == "torch" and header["module"] == "tests.frameworks.nets"
    assert header["qualname"] == "MLP" and header["init"] == {"n_in": 4, "hidden": 8, "n_out": 2}
    net = shell.user_ns["net"]
    assert load(payload).keys() == net.state_dict().keys()
    registry = ModelRegistry()
    registry.register("mlp", run, "net")
    if artifact_backend == "s3":  # the same store refuses a pickle: trust really is off
        registry.register("pickled", _pickle_run(), "obj")
        with pytest.raises(UntrustedModelError, match="Refusing to unpickle"):
            mlops.load_model("pickled", 1)
    X = shell.user_ns["X"]
    expected = net(shell.user_ns["torch"].from_numpy(X)).detach().numpy()
    np.save(tmp_path / "X.npy", X)
    out = run_fresh(
        "import json, sys, numpy as np, jupyter_mlops as mlops\n"
        "from jupyter_mlops.frameworks import predict\n"
        "model = mlops.load_model('mlp', 1)\n"
        "print(type(model).__module__, model.training)\n"
        "print(json.dumps(predict(model, np.load(sys.argv[1])).tolist()))\n",
        str(tmp_path / "X.npy"),
    )
    first, second = out.splitlines()
    assert first == "tests.frameworks.nets True"
    assert np.array_equal(np.array(json.loads(second), dtype=np.float32), expected)


def _pickle_run() -> mlops.Run:
    with mlops.start_run() as run:
        run.log_model(object.__new__(type("Obj", (), {})), "obj")
    return mlops.get_run(run.id)


def test_a_notebook_class_says_what_to_define(shell) -> None:
    shell.run(SETUP)
    shell.run(
        "class Tiny(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.lin = nn.Linear(4, 2)\n"
        "    def forward(self, x):\n"
        "        return self.lin(x)\n"
    )
    shell.run(
        "%%track --log-model\n"
        "tiny = Tiny()\n"
        "opt = torch.optim.SGD(tiny.parameters(), lr=0.1)\n"
        "tiny(torch.from_numpy(X)).sum().backward()\n"
        "opt.step()\n"
    )
    run = _last_run()
    registry = ModelRegistry()
    registry.register("tiny", run, "tiny")
    # Here, where the notebook defined it, the class is found in __main__ (IPython's user
    # module) ...
    loaded = mlops.load_model("tiny", 1)
    assert type(loaded) is shell.user_ns["Tiny"]
    assert loaded.state_dict()["lin.weight"].equal(shell.user_ns["tiny"].lin.weight)
    # ... and in a process where it is not defined, the error says what to do.
    out = run_fresh(
        "import jupyter_mlops as mlops\n"
        "try:\n"
        "    mlops.load_model('tiny', 1)\n"
        "except mlops.MLOpsError as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    assert out == (
        "StoreError Cannot rebuild the torch model: class __main__.Tiny is not defined here; it "
        "was defined in a notebook: run the cell defining class Tiny (the same layers) before "
        "loading, or move it into a module, import it from there and log the model again\n"
    )


def test_predict_converts_a_frame_and_restores_the_mode() -> None:
    import pandas as pd
    import torch

    from jupyter_mlops.frameworks import predict
    from tests.frameworks.nets import MLP

    torch.manual_seed(0)
    net = MLP(3, hidden=4, n_out=1).train()
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 0.25], "c": [3, 4]})
    out = predict(net, frame)
    with torch.no_grad():
        expected = net(torch.tensor(frame.to_numpy(), dtype=torch.float32)).numpy()
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert np.array_equal(out, expected)
    assert net.training  # put back in training mode


def test_a_module_class_that_is_not_a_module_is_refused() -> None:
    from jupyter_mlops.frameworks import torch_flavor

    with pytest.raises(StoreError, match="Refusing to load a torch model as json.JSONDecoder"):
        torch_flavor.load(b"", {"module": "json", "qualname": "JSONDecoder", "init": {}})


def _execute_notebook(name: str, cwd: Path) -> str:
    """Run ``example_notebooks/frameworks/<name>.ipynb`` in a real kernel; its text outputs."""
    import nbformat
    from nbclient import NotebookClient

    from tests.conftest import ROOT

    nb = nbformat.read(ROOT / "example_notebooks" / "frameworks" / f"{name}.ipynb", 4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )


@pytest.mark.slow
def test_the_example_notebook_runs(tmp_path: Path) -> None:
    text = _execute_notebook("pytorch", tmp_path)
    assert "same predictions: True" in text
    run = mlops.get_run(mlops.runs(experiment="cancer-torch")["id"].iloc[0])
    # 30 features -> 16 hidden -> 2 classes.
    assert run.params["net.parameters"] == 30 * 16 + 16 + 16 * 2 + 2
    assert run.params["opt.class"] == "Adam" and run.params["opt.lr"] == 0.01
    assert run.params["sched.step_size"] == 20
    assert 0.9 < run.metrics["accuracy"] <= 1.0


def test_a_sequential_says_to_load_into_a_module_you_build() -> None:
    import torch
    from torch import nn

    from jupyter_mlops.frameworks import torch_flavor

    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    data = model_format.dumps(seq, "seq")
    header, payload = model_format.read_envelope(data, "seq")
    assert header["missing_init"] == ["*args"]
    with pytest.raises(StoreError) as e:
        torch_flavor.load(payload, header)
    assert str(e.value) == (
        "Cannot rebuild the torch model Sequential: its constructor arguments (*args) were not "
        "attributes of the module when it was logged; keep them as self.<name> in __init__ and "
        "log it again, or build it yourself and call "
        "jupyter_mlops.frameworks.torch_flavor.load_into(module, model_file_bytes)"
    )
    rebuilt = torch_flavor.load_into(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), data)
    assert rebuilt[0].weight.equal(seq[0].weight) and rebuilt[0].bias.equal(seq[0].bias)
