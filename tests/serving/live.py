"""A real uvicorn server in a thread of the test process (so a test injects the clock, the
limits and faults), on a free port; and real scikit-learn models registered in a real store."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import uvicorn
from sklearn.linear_model import LogisticRegression

import jupyter_mlops as mlops
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.serving import ServeOptions, create_app
from jupyter_mlops.store.base import RunStore

T0 = 1_700_000_000.0  # the batches' time: no test reads the wall clock
FEATURES = ["x1", "x2"]


def features(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x1": rng.normal(0, 1, n), "x2": rng.normal(0, 1, n)})


def train(seed: int = 0, flip: bool = False) -> LogisticRegression:
    X = features(500, seed)
    y = ((X["x1"] + 0.5 * X["x2"] > 0) != flip).astype(int)
    return LogisticRegression().fit(X, y)


class Slow:
    """A model that takes ``seconds`` per call: the per-request timeout's test."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict(self, X: Any) -> np.ndarray:
        time.sleep(self.seconds)
        return np.zeros(len(X))


class Broken:
    """A model that fails on every batch (a candidate with a bug): its errors are its own."""

    def predict(self, X: Any) -> np.ndarray:
        raise ValueError("this version cannot score anything")


def register(tracker: mlops.Tracker, name: str, model: Any, *, bless: bool = True) -> int:
    """Log ``model`` in a run, register it and (``bless``) bless it: the registry's own path."""
    with tracker.start_run(experiment=name) as run:
        run.log_model(model, "model")
    registry = ModelRegistry(tracker.store)
    mv = registry.register(name, tracker.get_run(run.id), "model")
    if bless:
        registry.bless(mv.ref)
    return mv.version


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(store: RunStore, options: ServeOptions | None = None, **kw: Any) -> Iterator[str]:
    """The base URL of a server over ``store`` until the block ends."""
    app = create_app(store, options or ServeOptions(poll_seconds=0.05), clock=lambda: T0)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **kw)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-uvicorn")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def wait_for(check: Any, seconds: float = 20.0) -> Any:
    """Poll ``check()`` until it is truthy (a deadline for a loaded machine, not a timing)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def load_until(
    url: str, headers: dict[str, str], answered: dict[str, int], stop: Any, seed: int
) -> None:
    """Post batches of 1-20 rows until ``stop`` is set or the server is gone (killed), noting
    each answered request's id and rows in ``answered``: what a kill -9 test compares the
    store's records with."""
    import httpx

    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        i = 0
        while not stop.is_set():
            X = features(1 + i % 20, seed * 1000 + i)
            try:
                r = client.post("/models/churn/predict", json=X.to_dict(orient="records"))
            except httpx.TransportError:
                return  # killed
            if r.status_code == 200:
                answered[r.json()["request_id"]] = len(X)
            i += 1
