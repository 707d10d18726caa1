"""A fork server ("zygote") for a sweep's kernels: each kernel for the price of a fork.

On a small machine a sweep of short notebooks is bound by CPU, and most of a fresh kernel's CPU
goes to importing ipykernel, IPython, zmq, tornado and jupyter_mlops' in-kernel runtime, and to
reading the installed packages. The zygote is one process per sweep that does that once: it
imports ipykernel and the *warm imports* (:data:`WARM_IMPORTS`), reads the installation (the
environment record's package list), and then only forks. It runs no kernel and no user code and
starts no thread and no ZMQ context. Each child reseeds ``random`` and NumPy's global RNG from
``os.urandom`` (as a fresh interpreter would be seeded), takes the environment, working directory
and connection file ``jupyter_client`` prepared (ports picked by ``jupyter_client``), and becomes
an ordinary ``IPKernelApp``.

:class:`ForkProvisioner` plugs this into ``jupyter_client``: ``launch_kernel`` asks the zygote to
fork and keeps a pidfd of the child (not our child but the zygote's, which reaps it and tells
its exit code when asked), so poll, wait, signals and kill work as for a local kernel. Linux
only; :func:`fork_server_for` says when it is used (``JUPYTER_MLOPS_FORK_KERNELS=0`` turns it
off).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SWITCH_ENV = "JUPYTER_MLOPS_FORK_KERNELS"
# What every forked kernel has imported before its run. The kernel's own modules (all of them
# imported by any ipykernel start, debugger included), and the warm imports: the runtime our
# injected first cell imports anyway, the SQLite store it opens, and NumPy, which it imports to
# seed every run (a pipeline run always has a seed).
KERNEL_IMPORTS = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",
    "IPython.core.completerlib",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "tornado.platform.asyncio",
    "tornado.queues",
)
WARM_IMPORTS = ("jupyter_mlops.pipeline.in_kernel", "jupyter_mlops.store.sqlite", "numpy")
_LAUNCHER = ("-m", "ipykernel_launcher")


def enabled() -> bool:
    """Forked kernels are on unless ``JUPYTER_MLOPS_FORK_KERNELS=0``; Linux only (pidfd)."""
    if os.environ.get(SWITCH_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return sys.platform.startswith("linux") and hasattr(os, "pidfd_open") and hasattr(os, "fork")


def forkable(argv: list[str]) -> bool:
    """A kernelspec's argv is this Python running ipykernel: a zygote of ours can fork it."""
    if len(argv) < 3 or tuple(argv[1:3]) != _LAUNCHER:
        return False
    if argv[0] in ("python", "python3"):  # jupyter_client runs sys.executable for these
        return True
    try:
        return os.path.samefile(argv[0], sys.executable)
    except OSError:
        return False


class Zygote:
    """The parent's handle on a fork server (started now, ready on first :meth:`fork`)."""

    def __init__(self, warm_imports: tuple[str, ...] = WARM_IMPORTS) -> None:
        self.warm_imports = warm_imports
        self._lock = threading.Lock()
        self._ready = False
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from jupyter_mlops.pipeline.zygote import serve; serve()",
             *warm_imports],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            # Importing debugpy here (ipykernel's debugger) would warn about frozen modules
            # once per sweep; a kernel's own environment is the one jupyter_client prepared.
            env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        )  # fmt: skip

    def _reply(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the kernel fork server exited ({self.proc.poll()})")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"the kernel fork server failed: {reply['error']}")
        return reply

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> int:
        """The pid of a new kernel process running ipykernel with ``argv`` (after the launcher)."""
        assert self.proc.stdin is not None
        with self._lock:
            if not self._ready:
                self._reply()
                self._ready = True
            request = {"argv": argv, "env": env, "cwd": cwd}
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
            return int(self._reply()["pid"])

    def exit_code(self, pid: int) -> int | None:
        """The exit code of kernel ``pid``, which has ended (its pidfd said so): negative for
        the signal that killed it; None if the fork server cannot tell (it is gone)."""
        with self._lock:
            if not self._ready or self.proc.stdin is None or self.proc.stdin.closed:
                return None
            try:
                self.proc.stdin.write(json.dumps({"status": pid}).encode() + b"\n")
                self.proc.stdin.flush()
                code = self._reply().get("returncode")
            except (OSError, ValueError, RuntimeError):  # it exited: the sweep is ending
                return None
        return code if isinstance(code, int) else None

    def close(self) -> None:
        """Stop the fork server (its stdin closes; it exits). Kernels it forked are not touched."""
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class ForkedProcess:
    """A ``Popen``-like view of a forked kernel, through a pidfd (it is not our child)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, zygote: Zygote | None = None) -> None:
        self.pid = pid
        self.zygote = zygote
        self.returncode: int | None = None
        self._signal = 0
        self._fd: int | None = os.pidfd_open(pid)

    def _gone(self, timeout: float | None) -> bool:
        if self._fd is None:
            return True
        readable, _, _ = select.select([self._fd], [], [], timeout)
        if readable:
            os.close(self._fd)
            self._fd = None
            # The zygote reaped it and keeps its exit code; if it is gone: a signal we sent,
            # else 0.
            code = self.zygote.exit_code(self.pid) if self.zygote is not None else None
            self.returncode = code if code is not None else (-self._signal if self._signal else 0)
            return True
        return False

    def poll(self) -> int | None:
        return self.returncode if self._gone(0) else None

    def wait(self, timeout: float | None = None) -> int:
        if not self._gone(timeout):
            raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self._fd is not None:
            if signum in (signal.SIGKILL, signal.SIGTERM):
                self._signal = signum
            signal.pidfd_send_signal(self._fd, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def provisioner_class() -> Any:
    """:class:`ForkProvisioner`, defined on first use (jupyter_client is imported lazily)."""
    global _provisioner
    if _provisioner is None:
        from jupyter_client.provisioning import LocalProvisioner

        class ForkProvisioner(LocalProvisioner):
            """A local kernel forked by the sweep's zygote instead of started by Popen."""

            zygote: Zygote | None = None

            async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
                assert self.zygote is not None and forkable(cmd)
                env = {k: str(v) for k, v in (kwargs.get("env") or os.environ).items()}
                cwd = str(kwargs.get("cwd") or Path.cwd())
                pid = self.zygote.fork(cmd[3:], env, cwd)
                self.process = ForkedProcess(pid, self.zygote)  # type: ignore[assignment]
                self.pid = self.pgid = pid  # the child is its own session and group leader
                self.cwd = cwd
                return self.connection_info

            async def kill(self, restart: bool = False) -> None:
                await super().kill(restart=restart)
                # SIGKILL ends it within milliseconds: see that now, so the manager's
                # is-alive check does not sleep its 0.1 s poll interval.
                if isinstance(self.process, ForkedProcess):
                    self.process._gone(1.0)

        _provisioner = ForkProvisioner
    return _provisioner


_provisioner: Any = None


# --- the fork server itself (its own process) -------------------------------------------------


def serve() -> None:
    """The zygote's main: import, read the installation, then fork one kernel per request."""
    import importlib

    out = os.dup(1)  # replies go to the parent's pipe; our (and kernels') prints to stderr
    exited: dict[int, int] = {}  # pid -> exit code of a kernel no one asked about yet
    os.dup2(2, 1)
    try:
        for name in KERNEL_IMPORTS:
            importlib.import_module(name)
        for name in sys.argv[1:]:
            with contextlib.suppress(ImportError):  # an optional one (NumPy) not installed
                importlib.import_module(name)
        from ..tracking.environment import _distributions, _platform

        _distributions()  # each kernel inherits the package list: no scan per run
        _platform()
        # Kernels are reaped at once, their exit codes kept until the parent asks (a signal's
        # shows as a negative code: a killed kernel is told from one that crashed).
        signal.signal(signal.SIGCHLD, lambda *_: _reap(exited))
        if threading.active_count() != 1:
            raise RuntimeError(f"{threading.active_count()} threads before forking")
    except Exception as e:
        os.write(out, json.dumps({"error": f"{type(e).__name__}: {e}"}).encode() + b"\n")
        return
    os.write(out, b'{"ready": true}\n')
    for line in sys.stdin.buffer:
        request = json.loads(line)
        if "status" in request:
            _reap(exited)
            code = exited.pop(int(request["status"]), None)
            os.write(out, json.dumps({"returncode": code}).encode() + b"\n")
            continue
        pid = os.fork()
        if pid == 0:
            os.close(out)
            code = 1
            try:
                code = _become_kernel(request)
            finally:
                os._exit(code)
        os.write(out, json.dumps({"pid": pid}).encode() + b"\n")


def _reap(exited: dict[int, int]) -> None:
    """Collect every ended child's exit code (negative: the signal that killed it)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        exited[pid] = os.waitstatus_to_exitcode(status)


def _die_with_zygote() -> None:
    """SIGTERM when the zygote exits: it exits with its sweep, even a killed one (stdin EOF), so
    no kernel outlives its sweep, where a Popen-started kernel of a killed sweep would linger."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the zygote was already gone
        os.kill(os.getpid(), signal.SIGTERM)


def _become_kernel(request: dict[str, Any]) -> int:
    """In the forked child: a fresh process's state where it matters, then an IPKernelApp."""
    import atexit
    import importlib
    import random

    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _die_with_zygote()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the kernel's stdin for life
    # A fork copies the zygote's RNG states; a fresh interpreter seeds from the OS.
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    if sys.path and sys.path[0] == "":
        sys.path[0] = os.getcwd()  # as `python -m ipykernel_launcher` would have it
    argv = list(request["argv"])
    sys.argv = ["ipykernel_launcher", *argv]
    code = 0
    try:
        app = importlib.import_module("ipykernel.kernelapp").IPKernelApp
        app.launch_instance(argv=argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()  # as interpreter exit would (IPython saves its history there)
    sys.stdout.flush()
    sys.stderr.flush()
    return code
