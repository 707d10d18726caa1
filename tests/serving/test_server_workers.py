"""``jupyter-mlops serve --workers 2``: two server processes on one port, whose ``/metrics``
adds up both, and whose queued records are written before a stop (SIGTERM) ends them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

import jupyter_mlops as mlops
from jupyter_mlops.store import open_store

from .live import features, free_port, register, train, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _up(url: str, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"the server exited with {proc.returncode}")
    try:
        return httpx.get(f"{url}/ready", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.slow  # server processes, each importing the model stack
def test_two_workers_count_together_and_record_everything_before_a_stop(
    isolated_store: Path,
) -> None:
    register(mlops.default_tracker(), "churn", train(0))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "jupyter_mlops", "serve", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _up(url, proc), 90), "the workers did not become ready"
        X = features(3, seed=12).to_dict(orient="records")
        answered = []
        for _ in range(20):  # a connection each: the kernel spreads them over the workers
            r = httpx.post(f"{url}/models/churn/predict", json=X, timeout=30)
            assert r.status_code == 200
            answered.append(r.json()["request_id"])
        total = 0.0
        for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
            for s in family.samples:
                if s.name == "mlops_serve_requests_total" and s.labels["status"] == "200":
                    total += s.value
        assert total == 20
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        proc.stderr.close()
    assert "Traceback" not in err, err[-2000:]
    batches = open_store(str(isolated_store)).monitor_batches("churn")
    assert sorted(b.batch_id for b in batches) == sorted(answered)
