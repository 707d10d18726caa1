"""The REST API over a big store, against the core call for the same page in the same run.

    python benchmarks/bench_server.py [--runs 100000]

- the first page (50 rows) of ``GET /jupyter-mlops/api/runs`` sorted by a metric, through a real
  jupyter_server with token authentication (target: < 50 ms per request, median of 20), vs
  ``runs(order_by=..., limit=50)`` called directly;
- the same cheap request (``experiments``) while four clients keep the server busy with
  full-scan text searches: the event loop must stay free for others.

The store is built once per size and cached under ``benchmarks/.cache/`` (100,000 runs take
about a minute to record).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from report import median_seconds, print_table, result

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
ORDER = "-metrics.m3"
PAGE = 50


def _store(n: int) -> Path:
    """A store holding ``n`` finished runs with 10 params and 10 metrics each (cached)."""
    path = CACHE / f"server-{n}"
    if (path / "mlops.db").exists():
        return path
    CACHE.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=CACHE, prefix=".tmp-"))
    code = (
        "import sys, jupyter_mlops as mlops\n"
        "t = mlops.set_store(sys.argv[1])\n"
        "params = {f'p{i}': i for i in range(10)}\n"
        "for i in range(int(sys.argv[2])):\n"
        "    with t.start_run(experiment=f'exp{i % 5}', name=f'run-{i}', seed=None,\n"
        "                     probe_git=False, tags={'team': 'ab'[i % 2]}) as run:\n"
        "        run.log_params(params)\n"
        "        run.log_metrics({f'm{j}': (i * 7919 + j) % 1000 / 1000 for j in range(10)})\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp), str(n)], check=True)
    tmp.rename(path)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A jupyter_server subprocess with the extension, on its own root and store."""

    def __init__(self, store: Path) -> None:
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="bench-server-"))
        env = dict(os.environ, JUPYTER_MLOPS_STORE=str(store))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--no-browser",
                f"--port={self.port}",
                f"--IdentityProvider.token={self.token}",
                "--allow-root",
                f"--ServerApp.root_dir={self.root}",
                "--ServerApp.jpserver_extensions={'jupyter_mlops.server': True}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("status")
                return
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("jupyter_server did not start") from None
                time.sleep(0.2)

    def get(self, path: str, conn: http.client.HTTPConnection | None = None) -> Any:
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(
                "GET",
                f"/jupyter-mlops/api/{path}",
                headers={"Authorization": f"token {self.token}"},
            )
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET {path}: {resp.status} {body[:200]!r}")
            return json.loads(body)
        finally:
            if own:
                conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def bench_first_page(n: int, server: Server, store: Path) -> list[dict[str, Any]]:
    import jupyter_mlops as mlops

    tracker = mlops.set_store(store, create=False)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    path = f"runs?order_by={ORDER}&limit={PAGE}"
    page = server.get(path, conn)
    direct = tracker.runs(order_by=ORDER, limit=PAGE)
    assert [r["id"] for r in page["runs"]] == list(direct["id"]), "API and runs() disagree"
    api_ms = median_seconds(lambda: server.get(path, conn), 20, warmup=3) * 1e3
    core_ms = median_seconds(lambda: tracker.runs(order_by=ORDER, limit=PAGE), 20, warmup=3) * 1e3
    conn.close()
    return [
        result(
            f"REST runs: first page of {PAGE}, sorted by a metric, {n:,} runs",
            api_ms,
            "ms",
            core_ms,
            "< 50 ms",
            api_ms < 50,
            f"direct runs() for the same page {core_ms:.1f} ms",
        )
    ]


def bench_not_frozen(n: int, server: Server) -> list[dict[str, Any]]:
    """A cheap request's latency alone and while 4 clients run full-scan text searches."""
    idle = median_seconds(lambda: server.get("experiments"), 20, warmup=3) * 1e3
    stop = threading.Event()
    done = [0]

    def hammer() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        while not stop.is_set():
            server.get("runs?q=no-such-text&limit=10", conn)
            done[0] += 1
        conn.close()

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    times = []
    for _ in range(20):
        start = time.perf_counter()
        server.get("experiments")
        times.append(time.perf_counter() - start)
    stop.set()
    for t in threads:
        t.join()
    busy = statistics.median(times) * 1e3
    return [
        result(
            "REST experiments while 4 clients text-search",
            busy,
            "ms",
            idle,
            "< 250 ms",
            busy < 250,
            f"alone {idle:.1f} ms; {done[0]} full-scan searches of {n:,} runs ran meanwhile",
        )
    ]


def run(runs: int = 100_000) -> list[dict[str, Any]]:
    store = _store(runs)
    server = Server(store)
    try:
        return bench_first_page(runs, server, store) + bench_not_frozen(runs, server)
    finally:
        server.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=100_000)
    print_table(run(p.parse_args().runs))


if __name__ == "__main__":
    main()
