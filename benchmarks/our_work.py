"""What our own code costs in a tracked cell, counted rather than inferred from noisy timings.

A :class:`Meter` wraps named functions (ours, and the frameworks' functions that our hooks call
back into) with two clocks, ``perf_counter`` and ``thread_time``, and charges each moment to the
innermost wrapped function running on that thread: the time a hook of ours spends inside the
framework's own training is charged to the framework (a label starting with ``-``), not to us.
Our background threads (the writer, the environment and git probes) are counted by their own
CPU clocks, and child processes (``git``) by ``os.times``. The meter is installed only by the
benchmark, in a separate pass from the timed pairs, so its own overhead never enters the
paired timings; what it charges to a label per call by itself (its clocks: ``thread_time`` is a
system call, several µs in this VM) is measured on an empty function and taken off each call.
The clocks' resolution and the wrapped calls' perturbation of caches still make the figures for
hooks called at every step approximate.
"""

from __future__ import annotations

import functools
import gc
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

OURS = "jupyter-mlops"  # our threads' names start so


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.thread_time()


class Meter:
    """Exclusive wall and CPU seconds per label, on every thread that runs a wrapped call."""

    def __init__(self) -> None:
        self.wall: defaultdict[str, float] = defaultdict(float)
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._local = threading.local()
        self._undo: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def _stack(self) -> list[list[Any]]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _charge(self, label: str, since: tuple[float, float], now: tuple[float, float]) -> None:
        with self._lock:
            self.wall[label] += now[0] - since[0]
            self.cpu[label] += now[1] - since[1]

    def _enter(self, label: str) -> None:
        stack, now = self._stack(), _clocks()
        if stack:
            self._charge(stack[-1][0], stack[-1][1], now)
        stack.append([label, now])
        self.calls[label] += 1

    def _exit(self) -> None:
        stack, now = self._stack(), _clocks()
        label, since = stack.pop()
        self._charge(label, since, now)
        if stack:
            stack[-1][1] = now

    def metered(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self._enter(label)
            try:
                return fn(*args, **kwargs)
            finally:
                self._exit()

        return wrapper

    def wrap(self, owner: Any, attr: str, label: str, factory: bool = False) -> None:
        """Meter ``owner.attr`` (a class's function stays a function: it binds as before);
        ``factory``: it returns the function to meter (a hook our ``install`` builds)."""
        original = vars(owner)[attr] if isinstance(owner, type) else getattr(owner, attr)
        if factory:

            @functools.wraps(original)
            def build(*args: Any, **kwargs: Any) -> Any:
                return self.metered(original(*args, **kwargs), label)

            setattr(owner, attr, build)
        else:
            setattr(owner, attr, self.metered(original, label))
        self._undo.append(lambda: setattr(owner, attr, original))

    def remove(self) -> None:
        while self._undo:
            self._undo.pop()()

    def overhead(self, n: int = 3000) -> tuple[float, float]:
        """Wall and CPU seconds the meter itself charges to a label per call (its clocks:
        ``thread_time`` is a system call, some µs in a VM), from an empty function."""
        empty = self.metered(lambda: None, "-calibration")
        for _ in range(n):
            empty()
        with self._lock:
            wall, cpu = self.wall.pop("-calibration"), self.cpu.pop("-calibration")
            self.calls.pop("-calibration")
        return wall / n, cpu / n

    def reset(self) -> None:
        with self._lock:
            self.wall.clear()
            self.cpu.clear()
            self.calls.clear()


class ThreadClock:
    """CPU seconds of our background threads and of child processes over a block: threads
    alive throughout by their CPU clocks, threads that end inside it by the time they report
    on leaving ``run`` (installed by :meth:`install` before they start)."""

    def __init__(self) -> None:
        self.finished: dict[int, tuple[str, float]] = {}
        self._original_run: Callable[..., Any] | None = None

    def install(self) -> None:
        original = threading.Thread.run
        clock = self

        def run(thread: threading.Thread) -> None:
            try:
                original(thread)
            finally:
                if thread.name.startswith(OURS) and thread.ident is not None:
                    clock.finished[thread.ident] = (thread.name, time.thread_time())

        self._original_run = original
        threading.Thread.run = run  # type: ignore[method-assign]

    def remove(self) -> None:
        if self._original_run is not None:
            threading.Thread.run = self._original_run  # type: ignore[method-assign]

    @staticmethod
    def _alive() -> dict[int, tuple[str, float]]:
        out = {}
        for t in threading.enumerate():
            if t.name.startswith(OURS) and t.ident is not None:
                try:
                    seconds = time.clock_gettime(time.pthread_getcpuclockid(t.ident))
                except (OSError, ProcessLookupError):
                    continue  # ended meanwhile: reported by run's wrapper
                out[t.ident] = (t.name, seconds)
        return out

    @contextmanager
    def measure(self, into: dict[str, float]) -> Iterator[None]:
        """Add each thread name's CPU seconds (and ``children``) over the block to ``into``."""
        before, kids = self._alive(), os.times()
        self.finished.clear()
        yield
        after = {**self.finished, **self._alive()}
        for ident, (name, seconds) in after.items():
            base = before.get(ident, (name, 0.0))[1]
            key = f"thread {name.removeprefix(OURS + '-')}"
            into[key] = into.get(key, 0.0) + max(0.0, seconds - base)
        done = os.times()
        child = done.children_user + done.children_system
        child -= kids.children_user + kids.children_system
        into["child processes (git)"] = into.get("child processes (git)", 0.0) + child


def install_meter(meter: Meter) -> None:
    """Meter the entry points of ``%%track`` and of the XGBoost, torch and Lightning hooks;
    the frameworks' own functions that those hooks call are charged to ``-framework``. The
    shell's event callbacks are bound when the extension loads: reload it after this."""
    from jupyter_mlops.frameworks import lightning_flavor, torch_flavor, xgboost_flavor
    from jupyter_mlops.notebook.magics import TrackHooks

    meter.wrap(TrackHooks, "pre_run_cell", "cell start (pre_run_cell)")
    meter.wrap(TrackHooks, "post_run_cell", "cell end (post_run_cell)")
    meter.wrap(torch_flavor._Marks, "stepped", "hook: torch optimizer step")
    meter.wrap(torch_flavor._Marks, "built", "hook: torch parameter built")
    meter.wrap(lightning_flavor, "_patched_fit", "hook: Lightning fit", factory=True)
    meter.wrap(lightning_flavor._FitRecording, "_log_metrics", "hook: Lightning self.log")
    meter.wrap(xgboost_flavor, "_train_hook", "hook: xgb.train", factory=True)
    import lightning.pytorch as lp
    import xgboost
    from lightning.pytorch.trainer.connectors.logger_connector.logger_connector import (
        _LoggerConnector,
    )

    meter.wrap(lp.Trainer, "fit", "-framework")
    meter.wrap(_LoggerConnector, "log_metrics", "-framework")
    meter.wrap(xgboost, "train", "-framework")


_HOOK_COST = """
import sys, time
x = object()
def loop(n=1_000_000):
    t = time.process_time()  # CPU: a busy machine does not stretch it
    for _ in range(n):
        id(x)
    return (time.process_time() - t) / n * 1e9
best = min(loop() for _ in range(3))
active = []
def hook(event, args):  # as tracking.filewatch's was: return at once unless collecting
    if not active or event != "open":
        return
sys.addaudithook(hook)
print(min(loop() for _ in range(3)) - best)
"""


def hook_cost_ns() -> float:
    """Nanoseconds a Python audit hook that returns at once adds to one audited event
    (``id()``), measured in a fresh interpreter: a hook, once added, cannot be removed."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _HOOK_COST], capture_output=True, check=True)
    return float(out.stdout)


def count_audit_hooks() -> Callable[[], int]:
    """From now on, count the audit hooks added from jupyter_mlops's code; returns the count."""
    import sys

    added: list[Any] = []
    original = sys.addaudithook

    def addaudithook(hook: Any) -> None:
        if getattr(hook, "__module__", "").startswith("jupyter_mlops"):
            added.append(hook)
        original(hook)

    sys.addaudithook = addaudithook
    return lambda: len(added)


def audit_events(run: Callable[[], None]) -> Counter[str]:
    """The audit events ``run()`` raises. Adds a counting hook for good: call this last."""
    import sys

    counts: Counter[str] = Counter()
    counting = [False]

    def hook(event: str, args: Any) -> None:
        if counting[0]:
            counts[event] += 1

    sys.addaudithook(hook)
    counting[0] = True
    try:
        run()
    finally:
        counting[0] = False
    return counts


def our_work(
    tracked: Callable[[], None], reload: Callable[[], None], runs: int, flush: Callable[[], None]
) -> dict[str, Any]:
    """Seconds per tracked run (``tracked()`` runs the cell, ``flush()`` waits for its write)
    of each metered label, thread and child process, over ``runs`` runs after a warm-up.
    ``reload()`` reloads the extension, so that the shell calls the metered functions."""
    meter, clock = Meter(), ThreadClock()
    install_meter(meter)
    timed_flush = meter.metered(flush, "write: waiting for the writer (flush)")
    clock.install()
    reload()
    threads: dict[str, float] = {}
    # Without the cyclic GC while metering: the meter's own allocations would bring its
    # collections (of the training's objects too) into the short intervals it charges to us.
    gc.collect()
    gc.disable()
    try:
        tracked()
        timed_flush()
        meter.reset()
        for _ in range(runs):
            with clock.measure(threads):
                tracked()
                timed_flush()
    finally:
        gc.enable()
        meter.remove()
        clock.remove()
        reload()
    ours = [k for k in meter.wall if not k.startswith("-")]
    wall_each, cpu_each = meter.overhead()  # the meter's own cost, taken off each call
    return {
        "cpu": {k: max(0.0, meter.cpu[k] - meter.calls[k] * cpu_each) / runs for k in ours},
        "wall": {k: max(0.0, meter.wall[k] - meter.calls[k] * wall_each) / runs for k in ours},
        "calls": {k: meter.calls[k] / runs for k in ours},
        "threads": {k: v / runs for k, v in threads.items()},
    }


def summary(work: dict[str, Any]) -> tuple[float, float, str]:
    """(our CPU ms per run, our wall ms on the cell's thread per run, the breakdown)."""
    cpu = sum(v for k, v in work["cpu"].items() if not k.startswith("write:"))
    cpu += sum(work["threads"].values())
    wall = sum(work["wall"].values())
    parts = [
        f"{k} {v * 1e3:.1f} ms"
        + (f" ({work['calls'][k]:,.0f} calls)" if work["calls"][k] > 1 else "")
        for k, v in sorted(work["cpu"].items(), key=lambda kv: -kv[1])
        if not k.startswith("write:")
    ]
    parts += [f"{k} {v * 1e3:.1f} ms" for k, v in sorted(work["threads"].items())]
    waited = work["wall"].get("write: waiting for the writer (flush)", 0.0)
    parts.append(f"waiting for the write {waited * 1e3:.1f} ms wall")
    return cpu * 1e3, wall * 1e3, "CPU: " + ", ".join(parts)
