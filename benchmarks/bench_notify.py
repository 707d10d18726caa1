"""What a notification endpoint that never answers adds to `jupyter-mlops run`, against the same
failing run with no notify target, measured in the same run.

    python benchmarks/bench_notify.py [--repeats 3]

The pipeline is `tests/notebooks/fails_cell.ipynb` (a failing run queues a `failure`
notification). The webhook is a socket on 127.0.0.1 that accepts connections and never
answers, as a hung receiver does. Runs with and without the webhook alternate. Target: the
command waits at most `notify_wait` (2 s by default) for delivery, so it adds < 2.5 s (before
the outbox, three 10 s time-outs and their backoff added about 33 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from report import print_table, result

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 2.5


def _silent_endpoint() -> tuple[socket.socket, int]:
    """A listening socket whose connections are accepted and never answered."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed at the end of the benchmark
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return server, int(server.getsockname()[1])


def run(repeats: int = 3) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copy(ROOT / "tests" / "notebooks" / "fails_cell.ipynb", work)
        env = {**os.environ, "JUPYTER_MLOPS_STORE": str(work / ".mlops")}
        env.pop("JUPYTER_MLOPS_NOTIFY_WEBHOOK", None)
        env.pop("JUPYTER_MLOPS_NOTIFY_COMMAND", None)
        cli = [sys.executable, "-m", "jupyter_mlops"]
        subprocess.run([*cli, "promote", "fails_cell.ipynb"], cwd=work, env=env, check=True,
                       capture_output=True)  # fmt: skip
        server, port = _silent_endpoint()
        hook = {**env, "JUPYTER_MLOPS_NOTIFY_WEBHOOK": f"http://127.0.0.1:{port}/hook"}
        times: dict[bool, list[float]] = {False: [], True: []}
        try:
            for _ in range(repeats):
                for hooked in (False, True):
                    start = time.perf_counter()
                    subprocess.run([*cli, "run", "fails_cell", "--no-progress"], cwd=work,
                                   env=hook if hooked else env, capture_output=True)  # fmt: skip
                    times[hooked].append(time.perf_counter() - start)
        finally:
            server.close()
    without, hung = statistics.median(times[False]), statistics.median(times[True])
    added = hung - without
    return [
        result(
            "jupyter-mlops run, failing, webhook never answers",
            hung,
            "s",
            without,
            f"+< {TARGET_S:g} s",
            added < TARGET_S,
            note=f"added {added:.2f} s (median of {repeats}); baseline: no notify target",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    print_table(run(parser.parse_args().repeats))


if __name__ == "__main__":
    main()
