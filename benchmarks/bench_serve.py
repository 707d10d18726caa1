"""``jupyter-mlops serve`` under load, beside ``mlflow models serve`` on the same model.

    python benchmarks/bench_serve.py [--quick]

The model: a scikit-learn pipeline (StandardScaler + LogisticRegression) on 20 numeric columns,
registered and blessed in a temporary store, and saved with ``mlflow.sklearn.save_model`` in
MLflow's own venv (``benchmarks/.venvs/mlflow-serve``, made on first use by ``PeerVenv``, with
our scikit-learn version so both servers unpickle the same bytes). Each server runs as its own
process with one uvicorn worker, on this machine; the load generator is a third process.

The load: closed-loop asyncio clients on keep-alive connections, at 1, 2, 4, 8, 16 and 32
concurrent clients, each level for a few seconds; a request is 1 row or 100 rows in pandas
``split`` JSON (MLflow's ``dataframe_split``; our server reads that wrapper too). Reported:
the highest requests per second at which p99 stays under 50 ms, for each server, and ours over
MLflow's (target >= 3x). The clients speak HTTP/1.1 over asyncio streams directly rather than
through httpx: on two shared cores, httpx's per-request CPU would be measured as much as the
servers'.

Recording: ``nothing lost`` counts the requests our recording server answered and the batches
the store holds once the recorder has drained (answered = recorded). The added latency of
recording + canary routing is the p50 of one sequential client against the same server with
both on and both off (``ServeOptions(record=False, routing=False)``), requests alternating
one by one between the two (target < 1 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from peer_venv import PeerVenv
from report import main as bench_main
from report import result

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venvs" / "mlflow-serve"
COLUMNS = 20
P99_LIMIT = 0.050
LEVELS = (1, 2, 4, 8, 16, 32)
RATIO_MIN = 3.0
ADDED_MS_MAX = 1.0


def frame(n: int, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, COLUMNS)), columns=[f"f{i}" for i in range(COLUMNS)])


def train() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = frame(5000, 0)
    y = (X["f0"] + X["f1"] > 0).astype(int)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


def register(root: Path, model: Any) -> str:
    """The model registered and blessed as ``lr`` in a store under ``root``; its location."""
    import jupyter_mlops as mlops
    from jupyter_mlops.registry import ModelRegistry
    from jupyter_mlops.tracking import reset_default_tracker

    os.environ["JUPYTER_MLOPS_STORE"] = str(root / ".mlops")
    reset_default_tracker()
    tracker = mlops.default_tracker()
    with tracker.start_run(experiment="lr") as run:
        run.log_model(model, "model")
    registry = ModelRegistry(tracker.store)
    registry.bless(registry.register("lr", tracker.get_run(run.id), "model").ref)
    return str(root / ".mlops")


def mlflow_python() -> Path | None:
    from importlib.metadata import version

    sklearn = f"scikit-learn=={version('scikit-learn')}"
    return PeerVenv(VENV, "MLflow", ["mlflow", sklearn], "import mlflow, sklearn").python()


def save_for_mlflow(python: Path, model: Any, root: Path) -> Path:
    pkl, out = root / "model.pkl", root / "mlflow-model"
    pkl.write_bytes(pickle.dumps(model))
    code = (
        "import pickle, sys, mlflow.sklearn; "
        "mlflow.sklearn.save_model(pickle.load(open(sys.argv[1], 'rb')), sys.argv[2])"
    )
    subprocess.run([str(python), "-c", code, str(pkl), str(out)], check=True, capture_output=True)
    return out


SERVE_OURS = """
import sys
from jupyter_mlops.serving import ServeOptions, serve
from jupyter_mlops.store import open_store
on = sys.argv[3] == "on"
serve(open_store(sys.argv[1]), ServeOptions(port=int(sys.argv[2]), record=on, routing=on))
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_ours(location: str, port: int, on: bool, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", SERVE_OURS, location, str(port), "on" if on else "off"]
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def start_mlflow(python: Path, model_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    mlflow = python.parent / "mlflow"
    cmd = [str(mlflow), "models", "serve", "-m", str(model_dir), "-p", str(port)]
    cmd += ["--env-manager", "local", "-w", "1"]
    # MLflow runs `uvicorn` found on PATH: its venv's
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def request_bytes(port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, req: bytes) -> int:
    writer.write(req)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _load(port: int, req: bytes, clients: int, seconds: float) -> tuple[list[float], int]:
    """Latencies of the requests answered 200 in ``seconds`` by ``clients`` closed loops."""
    latencies: list[float] = []
    failed = 0
    end = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal failed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                status = await _one(reader, writer, req)
                if status == 200:
                    latencies.append(time.perf_counter() - t0)
                else:
                    failed += 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, failed


ANSWERED: dict[int, int] = {}  # port -> requests answered 200 by it


def load(port: int, req: bytes, clients: int, seconds: float) -> tuple[list[float], int]:
    lat, failed = asyncio.run(_load(port, req, clients, seconds))
    ANSWERED[port] = ANSWERED.get(port, 0) + len(lat)
    return lat, failed


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("inf")


def wait_up(port: int, path: str, req: bytes, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server on {port} exited with {proc.returncode}")
        try:
            lat, failed = load(port, req, 1, 0.05)
            if lat and not failed:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server on {port} did not answer {path}")


def best_rate(port: int, req: bytes, seconds: float) -> tuple[float, int, float, float]:
    """(requests/s, clients, p99) at the best level whose p99 < 50 ms (every level is run: on
    a shared machine one level's p99 is noisy), and the most requests/s at any level."""
    best = (0.0, 0, float("inf"))
    most = 0.0
    for clients in LEVELS:
        lat, _failed = load(port, req, clients, seconds)
        rate = len(lat) / seconds
        most = max(most, rate)
        if p(lat, 0.99) < P99_LIMIT and rate > best[0]:
            best = (rate, clients, p(lat, 0.99))
    return (*best, most)


def stop(proc: subprocess.Popen[bytes], group: bool = False) -> None:
    """Stop a server we started (``group``: its whole process group, MLflow's uvicorn too)."""
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        if group:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        elif proc.poll() is None:
            proc.send_signal(sig)
        try:
            proc.wait(60)
            return
        except subprocess.TimeoutExpired:
            continue


def recorded(root: Path) -> int:
    """Blessed batches of ``lr`` in the store (read beside the server, as WAL allows)."""
    import sqlite3

    with sqlite3.connect(root / ".mlops" / "mlops.db", timeout=30) as conn:
        sql = "SELECT count(*) FROM monitor_batches WHERE name = 'lr' AND role = 'blessed'"
        return int(conn.execute(sql).fetchone()[0])


def drained(root: Path, answered: int, wait: float = 300.0) -> int:
    """The batches recorded once the count reaches ``answered`` or stops growing for 10 s."""
    last, still = -1, time.monotonic()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        n = recorded(root)
        if n >= answered:
            return n
        if n != last:
            last, still = n, time.monotonic()
        elif time.monotonic() - still > 10:
            return n
        time.sleep(0.5)
    return recorded(root)


def bodies(port_ours: int, port_mlflow: int | None, n: int) -> tuple[bytes, bytes | None]:
    split = json.loads(frame(n, 1).to_json(orient="split", index=False))
    body = json.dumps({"dataframe_split": split}).encode()
    ours = request_bytes(port_ours, "/models/lr/predict", body)
    theirs = None if port_mlflow is None else request_bytes(port_mlflow, "/invocations", body)
    return ours, theirs


async def _paired(port_on: int, port_off: int, n: int, count: int) -> tuple[list, list]:
    req_on, _ = bodies(port_on, None, n)
    req_off, _ = bodies(port_off, None, n)
    conns = [await asyncio.open_connection("127.0.0.1", port) for port in (port_on, port_off)]
    times: tuple[list[float], list[float]] = ([], [])
    try:
        for i in range(count):
            # alternate which goes first: both see the same moments of the machine's load
            for k in (0, 1) if i % 2 == 0 else (1, 0):
                reader, writer = conns[k]
                t0 = time.perf_counter()
                if await _one(reader, writer, (req_on, req_off)[k]) == 200:
                    times[k].append(time.perf_counter() - t0)
    finally:
        for _, writer in conns:
            writer.close()
    return times


def added_latency(port_on: int, port_off: int, n: int, count: int) -> tuple[float, float]:
    """p50 of one sequential client, (both on, both off): requests to the two servers
    alternate one by one, so a busy moment of the shared machine falls on both alike."""
    on, off = asyncio.run(_paired(port_on, port_off, n, count))
    ANSWERED[port_on] = ANSWERED.get(port_on, 0) + len(on)
    return statistics.median(on), statistics.median(off)


def run(quick: bool = False) -> list[dict[str, Any]]:
    seconds = 1.5 if quick else 4.0
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = train()
        location = register(root, model)
        python = mlflow_python()
        model_dir = save_for_mlflow(python, model, root) if python else None
        ports = {"on": free_port(), "off": free_port(), "mlflow": free_port()}
        procs = {"on": start_ours(location, ports["on"], True, root / "on.log"),
                 "off": start_ours(location, ports["off"], False, root / "off.log")}  # fmt: skip
        if python and model_dir:
            procs["mlflow"] = start_mlflow(python, model_dir, ports["mlflow"], root / "mlflow.log")
        try:
            rows = _measure(root, ports, procs, seconds)
        except RuntimeError:
            for log in sorted(root.glob("*.log")):
                print(f"--- {log.name}:", log.read_text()[-2000:], sep="\n")
            raise
        finally:
            for key, proc in procs.items():
                stop(proc, group=key == "mlflow")
    return rows


def _measure(
    root: Path, ports: dict[str, int], procs: dict[str, Any], seconds: float
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    has_mlflow = "mlflow" in procs
    for key in procs:
        ours, theirs = bodies(ports[key], ports[key], 1)
        wait_up(ports[key], "/", theirs if key == "mlflow" else ours, procs[key])
    for n in (1, 100):
        ours_req, mlflow_req = bodies(ports["on"], ports.get("mlflow"), n)
        rate, clients, p99, most = best_rate(ports["on"], ours_req, seconds)
        theirs = None
        note = f"ours: {clients} clients, p99 {p99 * 1000:.1f} ms, peak {most:.0f}/s"
        if has_mlflow and mlflow_req is not None:
            m_rate, m_clients, m_p99, m_most = best_rate(ports["mlflow"], mlflow_req, seconds)
            theirs = m_rate
            note += f"; MLflow: {m_clients} clients, p99 {m_p99 * 1000:.1f} ms, peak {m_most:.0f}/s"
        else:
            note += "; MLflow not run"
        ok = None if not theirs else rate / theirs >= RATIO_MIN
        rows.append(result(f"serve {n}-row requests/s at p99<50ms", rate, "/s", theirs,
                           f">= {RATIO_MIN:g}x", ok, note))  # fmt: skip
    for n in (1, 100):
        on, off = added_latency(ports["on"], ports["off"], n, 300 if seconds < 2 else 2000)
        added = (on - off) * 1000
        rows.append(result(f"serve {n}-row p50 added by record+routing", added, "ms", None,
                           f"< {ADDED_MS_MAX:g} ms", added < ADDED_MS_MAX,
                           f"p50 {on * 1000:.3f} ms on, {off * 1000:.3f} ms off"))  # fmt: skip
    answered = ANSWERED[ports["on"]]
    got = drained(root, answered)
    rows.append(result("serve: answered = recorded after flush", got, "batch", answered, "equal",
                       got == answered, f"{answered - got} lost"))  # fmt: skip
    return rows


def main() -> None:
    bench_main(__doc__ or "", run, "shorter load levels (indicative only)")


if __name__ == "__main__":
    main()
