"""``%%track`` where users run it: a real ipykernel driven over ZMQ, cell by cell, each figure
against the untracked ``x = 1`` cell measured in the same kernel.

    python benchmarks/bench_kernel.py [--pairs 400] [--kernels 3] [--spaced 5]

A cell's time is what a front-end waits for: from sending ``execute_request`` to having both the
``execute_reply`` and the kernel's ``idle`` status (so the summary's display message, sent over
IOPub before it, is included). Cells carry a ``cellId`` as JupyterLab sends it. The kernels run
in a git repository (a tracked cell records the git state) and load jupyter_mlops byte-compiled,
as ``pip install`` leaves it.

- ``%%track`` on ``x = 1`` alternated with the same cell untracked, ``--pairs`` times, the
  same two cells re-run (target: < 1 ms added, median of the paired differences);
- the same with a new cell id for every tracked cell, as when a notebook is run top to bottom
  (no run of that cell in memory: "changes vs" asks the store);
- the same pairs with a pause of ``--pause`` seconds between them, as a person runs cells
  (background threads have gone idle; the git state is probed again);
- the kernel's CPU time per cell (all its threads), tracked and untracked in alternated blocks:
  on a shared machine the wall figures carry other jobs' scheduling, CPU time hardly does;
- the first tracked cell of a kernel (< 50 ms added) and ``%load_ext jupyter_mlops`` (< 100 ms
  added), each in ``--kernels`` fresh kernels on a store an earlier kernel created (the cost
  on a new store is in the note).

The in-process figures of ``bench_tracking.py`` leave out the kernel: ZMQ, the message
serialisation and signing, the IOPub thread, and the threads a tracked cell wakes sharing the GIL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from report import print_table, result

PLAIN = "x = 1"
TRACKED = "%%track\nx = 1"
TIMEOUT = 120.0  # per cell: generous, the machine may be loaded
THINK_SECONDS = 1.0


class Kernel:
    """One ipykernel (the ``python3`` kernelspec, this interpreter) and a blocking client."""

    def __init__(self, cwd: Path, store: Path) -> None:
        from jupyter_client.manager import KernelManager

        env = dict(os.environ, JUPYTER_MLOPS_STORE=str(store))
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=str(cwd), env=env)
        self.kc = self.km.blocking_client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=TIMEOUT)

    def run(self, code: str, cell_id: str | None = None) -> float:
        """Seconds until the reply and the idle status of ``code`` have both arrived."""
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = self.kc.session.msg("execute_request", content)
        if cell_id is not None:
            msg["metadata"]["cellId"] = cell_id
        msg_id = msg["header"]["msg_id"]
        start = time.perf_counter()
        self.kc.shell_channel.send(msg)
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        while True:  # the idle status follows the reply: the cell's outputs were all sent
            got = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if (
                got["parent_header"].get("msg_id") == msg_id
                and got["msg_type"] == "status"
                and got["content"]["execution_state"] == "idle"
            ):
                break
        elapsed = time.perf_counter() - start
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"cell failed: {code!r}: {reply['content']}")
        return elapsed

    def cpu_seconds(self) -> float:
        """CPU time the kernel process has used, all its threads (the IOPub thread, the
        writer): unlike wall time, hardly inflated by other jobs sharing the cores."""
        import psutil

        pid = self.km.provisioner.pid  # type: ignore[union-attr]
        t = psutil.Process(pid).cpu_times()
        return float(t.user + t.system)

    def median(self, code: str, n: int, cell_id: str | None = None) -> float:
        return statistics.median(self.run(code, cell_id) for _ in range(n))

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)


def _compile_package() -> None:
    """Byte-compile jupyter_mlops as ``pip install`` does, so kernels load it as users do, not
    from source (with ``PYTHONDONTWRITEBYTECODE`` set, every kernel would compile it again)."""
    import importlib.util

    spec = importlib.util.find_spec("jupyter_mlops")
    assert spec is not None and spec.origin is not None
    package = str(Path(spec.origin).parent)
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True)


def _git_repo(path: Path) -> None:
    """A git repository with one commit around the kernels, as most projects are: a tracked
    cell records the git state (probed off the cell's path)."""
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    (path / "train.py").write_text("C = 1.0\n")
    for args in (["init", "-q"], ["add", "train.py"], ["commit", "-q", "-m", "start"]):
        subprocess.run([*git, *args], cwd=path, check=True, capture_output=True)


def _paired(
    k: Kernel, pairs: int, *, new_cell: bool = False, pause: float = 0.0
) -> tuple[float, float, float]:
    """Median added ms (paired differences), median untracked and tracked ms."""
    plain, tracked = [], []
    for _ in range(pairs):
        if pause:
            time.sleep(pause)
        plain.append(k.run(PLAIN, "plain"))
        tracked.append(k.run(TRACKED, uuid.uuid4().hex if new_cell else "tracked"))
    added = statistics.median(t - p for p, t in zip(plain, tracked, strict=True))
    return added * 1e3, statistics.median(plain) * 1e3, statistics.median(tracked) * 1e3


def _cpu_per_cell(k: Kernel, blocks: int, cells: int) -> tuple[float, float]:
    """Median kernel CPU ms per untracked and per tracked cell, over ``blocks`` alternated
    blocks of ``cells`` cells each (the process's CPU clock ticks every 10 ms: a block of 100
    cells resolves 0.1 ms per cell)."""
    plain, tracked = [], []
    for _ in range(blocks):
        for code, cell_id, out in ((PLAIN, "plain", plain), (TRACKED, "tracked", tracked)):
            start = k.cpu_seconds()
            for _ in range(cells):
                k.run(code, cell_id)
            out.append((k.cpu_seconds() - start) / cells * 1e3)
    return statistics.median(plain), statistics.median(tracked)


def _fresh_kernel(cwd: Path, store: Path) -> tuple[float, float, float]:
    """(added ms of %load_ext, added ms of the first tracked cell, untracked ms)."""
    k = Kernel(cwd, store)
    try:
        k.median(PLAIN, 3, "plain")  # warm: the first cells of a kernel are slower
        plain = k.median(PLAIN, 7, "plain")
        load = k.run("%load_ext jupyter_mlops", "load")
        # A person's next cell comes a moment later: the extension's background start-up (the
        # package list, imports) is then done and slows neither the baseline nor the cell.
        time.sleep(THINK_SECONDS)
        after = k.median(PLAIN, 7, "plain")  # the same baseline, with the extension loaded
        first = k.run(TRACKED, "first")
    finally:
        k.close()
    return (load - plain) * 1e3, (first - after) * 1e3, plain * 1e3


def _ratio_note(plain: float, tracked: float, extra: str = "") -> str:
    return f"untracked {plain:.2f} ms, tracked {tracked:.2f} ms{extra}"


def run(pairs: int = 400, kernels: int = 3, spaced: int = 5, pause: float = 6.0) -> list[Any]:
    _compile_package()
    with tempfile.TemporaryDirectory() as d:
        cwd = Path(d)
        store = cwd / ".mlops"
        _git_repo(cwd)
        new_store = _fresh_kernel(cwd, store)  # creates the store
        fresh = [_fresh_kernel(cwd, store) for _ in range(kernels)]
        load = statistics.median(f[0] for f in fresh)
        first = statistics.median(f[1] for f in fresh)
        base = statistics.median(f[2] for f in fresh)
        k = Kernel(cwd, store)
        try:
            k.run("%load_ext jupyter_mlops")
            _paired(k, 20)  # warm-up
            same = _paired(k, pairs)
            new = _paired(k, max(20, pairs // 4), new_cell=True)
            slow = _paired(k, spaced, pause=pause) if spaced else None
            cpu = _cpu_per_cell(k, 5, max(100, pairs // 2))
        finally:
            k.close()
    out = [
        result(
            "kernel: %%track added, x = 1 re-run",
            same[0],
            "ms",
            same[1],
            "< 1 ms",
            same[0] < 1,
            _ratio_note(same[1], same[2], f"; {pairs} alternated pairs"),
        ),
        result(
            "kernel: %%track added, a new cell each time",
            new[0],
            "ms",
            new[1],
            "< 1 ms",
            new[0] < 1,
            _ratio_note(new[1], new[2], f"; {max(20, pairs // 4)} pairs"),
        ),
    ]
    out.append(
        result(
            "kernel: %%track added CPU, x = 1 re-run",
            cpu[1] - cpu[0],
            "ms",
            cpu[0],
            "< 1 ms",
            cpu[1] - cpu[0] < 1,
            f"kernel process CPU per cell, all threads: untracked {cpu[0]:.2f} ms, "
            f"tracked {cpu[1]:.2f} ms; median of 5 blocks of {max(100, pairs // 2)} cells",
        )
    )
    if slow is not None:
        out.append(
            result(
                f"kernel: %%track added, cells {pause:g} s apart",
                slow[0],
                "ms",
                slow[1],
                "< 1 ms",
                slow[0] < 1,
                _ratio_note(slow[1], slow[2], f"; {spaced} pairs"),
            )
        )
    out += [
        result(
            "kernel: first %%track cell, added",
            first,
            "ms",
            base,
            "< 50 ms",
            first < 50,
            f"median of {kernels} fresh kernels; on a new store {new_store[1]:.1f} ms",
        ),
        result(
            "kernel: %load_ext jupyter_mlops, added",
            load,
            "ms",
            base,
            "< 100 ms",
            load < 100,
            f"median of {kernels} fresh kernels (untracked x = 1: {base:.2f} ms)",
        ),
    ]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", type=int, default=400, help="alternated pairs (default 400)")
    p.add_argument("--kernels", type=int, default=3, help="fresh kernels (default 3)")
    p.add_argument("--spaced", type=int, default=5, help="pairs with a pause between (5)")
    p.add_argument("--pause", type=float, default=6.0, help="the pause, seconds (6)")
    args = p.parse_args()
    print_table(run(args.pairs, args.kernels, args.spaced, args.pause))


if __name__ == "__main__":
    main()
