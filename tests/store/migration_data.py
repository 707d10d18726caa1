"""A local store holding one of everything a team store must receive, written through the
real tracker, registry, scheduler and monitoring calls; and a large store for resuming."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import pandas as pd

import jupyter_mlops as mlops
from jupyter_mlops.entities import Artifact, GateResult, GateStatus, RunKind, RunStatus
from jupyter_mlops.monitoring import log_labels, predict
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.store import RunStart, RunUpdate
from jupyter_mlops.store.base import MonitorEvent
from jupyter_mlops.store.sql import SQLStore
from jupyter_mlops.tracking import environment
from tests.monitoring.helpers import DAY, T0, Threshold, features, register, truth

SETUP = """import numpy as np
import pandas as pd
X = pd.DataFrame(np.arange(40.0).reshape(10, 4), columns=list("abcd"))
"""
CELL = """%%track -e cells --tags team=ml
C = 0.5
score = float(X["a"].mean()) * C
"""


@dataclass
class Populated:
    store: SQLStore
    cell_run: str  # a %%track run (code, history, environment)
    script_run: str  # params, stepped metrics, a dataset, artifacts
    pipeline_run: str  # gate results
    live: Any  # an ActiveRun still running
    model: str


def populate(shell: Any, tracker: mlops.Tracker, model: str = "churn") -> Populated:
    """One of everything; the model, its pipeline and monitoring are named ``model``."""
    store = tracker.store
    assert isinstance(store, SQLStore)
    shell.run(SETUP)
    shell.run(CELL)
    cell_run = mlops.runs(experiment="cells")["id"].iloc[0]

    with tracker.start_run(experiment="script", params={"lr": 0.1, "layers": [4, 2]}) as run:
        for step in range(6):
            run.log_metrics({"loss": 1.0 / (step + 1), "acc": step / 10}, step=step)
        run.log_dataset("train", pd.DataFrame({"x": range(20), "y": ["a", "b"] * 10}), save=True)
        run.log_bytes(b"a figure's bytes", "figure.png", kind="figure")
        run.set_tags({"owner": "ana"})
    script_run = run.id

    # a pipeline, one of its runs with gate results, a model blessed twice and rolled back
    store.save_pipeline(
        model, {"notebook": "train.ipynb", "gates": []}, "train.ipynb", "ab12", "0 3 * * *"
    )
    with tracker.start_run(experiment=model, kind=RunKind.PIPELINE, seed=1) as prun:
        prun.log_metrics({"auc": 0.8})
    gates = [
        GateResult("auc", "metric", GateStatus.PASS, 0.8, ">= 0.7", "ok"),
        GateResult("drift", "drift", GateStatus.WARN, {"psi": 0.12}, "< 0.1", "mild drift"),
    ]
    store.save_gate_results(prun.id, gates)
    register(tracker, model, Threshold(w=0.5))
    register(tracker, model, Threshold(w=0.4))
    ModelRegistry(store).rollback(model, reason="v2 regressed")

    store.set_schedule_state(model, T0)
    store.log_schedule(model, T0 - 3600, "missed", None, "1 firing missed")
    store.log_schedule(model, T0, "exit 0", prun.id)

    X = features(40, seed=3).drop(columns="region")
    ids = [f"row{i}" for i in range(40)]
    predict(model, X, ids=ids, keep_rows=True, now=T0 + DAY, store=store)
    log_labels(model, ids, truth(X), now=T0 + 2 * DAY, store=store)
    store.log_monitor_event(MonitorEvent(model, T0 + 2 * DAY, "evaluation", "ok", {"psi": 0.01}))

    live = tracker.start_run(experiment="live")
    live.log_metrics({"progress": 0.5}, step=1)
    live.flush()
    # The first cells of a session record their environment when the scan of the installation
    # ends, after the cell: wait for it, so that no finished run still changes under the copy.
    probe = environment._probe
    if probe is not None:
        probe.result(timeout=60)
    deadline = time.monotonic() + 60  # the future's callback queues the update after result()
    while _cells_without_environment(store) and time.monotonic() < deadline:
        tracker.flush()
        time.sleep(0.01)
    tracker.flush()
    return Populated(store, cell_run, script_run, prun.id, live, model)


def write_many_runs(store: SQLStore, n: int, *, blobs_every: int = 10) -> None:
    """``n`` finished runs with a param, three metric steps and (every ``blobs_every``) an
    artifact of its own, written through the store's batch API."""
    writes: list[Any] = []
    for i in range(n):
        rid = uuid.UUID(int=i + 1).hex
        started = T0 + i
        writes.append(RunStart(rid, f"exp{i % 3}", RunKind.SCRIPT, started))
        update = RunUpdate(
            params={"i": i},
            metrics=[("loss", 1.0 / (s + i + 1), s, started + s) for s in range(3)],
            status=RunStatus.FINISHED,
            ended=started + 3,
            duration=3.0,
        )
        if i % blobs_every == 0:
            sha, size, uri = store.artifacts.put_bytes(f"blob {i}".encode())
            update.artifacts.append(Artifact("blob", "file", sha, size, uri))
        writes.append((rid, update))
        if len(writes) >= 1000:
            store.write_batch(writes)
            writes = []
    store.write_batch(writes)


def _cells_without_environment(store: SQLStore) -> int:
    with store._read() as conn:
        sql = "SELECT count(*) FROM runs WHERE kind = 'cell' AND environment_id IS NULL"
        return int(conn.execute(sql).fetchone()[0])
