"""A warm pool of pre-started, fresh kernels for sweeps.

On short notebooks, starting a kernel costs more than the work. The pool starts kernels ahead
of need, so a run takes one that is already up, and a replacement starts while it runs.

What a pre-started kernel has done, exactly: it was launched by ``jupyter_client`` with the
spec's kernel name, the pipeline notebook's directory as working directory and the same quiet
arguments as a papermill run, and it answered one ``kernel_info`` request (``wait_for_ready``).
It has executed no code at all, so every run still starts in a kernel that has never run user
code; a kernel is used for one run only and shut down after it.

Forked kernels (Linux, this Python's ipykernel, unless ``JUPYTER_MLOPS_FORK_KERNELS=0``): the
kernel process is forked from the sweep's fork server (:mod:`.zygote`) instead of started by
``Popen``. Before its run such a kernel has, exactly: imported ipykernel's own modules and the
warm imports (:data:`.zygote.WARM_IMPORTS`: ``jupyter_mlops.pipeline.in_kernel``, the SQLite
store, NumPy, all of which the injected first cell imports anyway) and read the installed
packages' names and versions; the fork server ran no kernel and no code beyond that. After the
fork it reseeds ``random`` and NumPy's global RNG from ``os.urandom`` as a fresh interpreter
would, takes the environment and working directory ``jupyter_client`` prepared, and answers
``kernel_info``. Any other kernelspec, and other platforms, get ``Popen``-started kernels.

Ports: each kernel's ports are picked by ``jupyter_client`` when it starts, and kernels are
started one at a time under a lock, so two kernels never race for the same free port (the
known failure of concurrent papermill runs).
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import Any

from .engine import QUIET_KERNEL_ARGS
from .ready_client import ready_client_class
from .zygote import Zygote, enabled, forkable, provisioner_class

log = logging.getLogger(__name__)
_START = threading.Lock()  # one kernel start at a time in this process: no port races


def start_kernel(
    kernel_name: str, cwd: Path, timeout: float = 60.0, zygote: Zygote | None = None
) -> Any:
    """A started, ready kernel manager that has run no code.

    An AsyncKernelManager, the kind nbclient makes itself: its Ctrl-C handler shuts the kernel
    down from inside the event loop, which a blocking manager cannot do there. With a
    ``zygote``, the kernel process is forked from it (:class:`~.zygote.ForkProvisioner`).
    """
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    km = AsyncKernelManager(kernel_name=kernel_name)
    # Its clients (ours below, nbclient's for the run) check readiness without an idle wait.
    km.client_factory = ready_client_class()
    if zygote is not None:
        km.kernel_id = str(uuid.uuid4())
        provisioner = provisioner_class()(
            kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km
        )
        provisioner.zygote = zygote
        km.provisioner = provisioner
    with _START:
        run_sync(km.start_kernel)(cwd=str(cwd), extra_arguments=list(QUIET_KERNEL_ARGS))
    client = km.client()
    client.start_channels()
    try:
        run_sync(client.wait_for_ready)(timeout=timeout)
    finally:
        client.stop_channels()
    return km


class KernelPool:
    """``size`` fresh kernels kept ready; :meth:`take` hands one out and starts its successor."""

    def __init__(self, kernel_name: str, cwd: Path, size: int) -> None:
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.ready: queue.Queue[Any] = queue.Queue()
        self.closed = False
        self._starters: list[threading.Thread] = []
        self.zygote = _zygote_for(kernel_name)
        for _ in range(max(1, size)):
            self._refill()

    def _refill(self) -> None:
        def start() -> None:
            if self.closed:
                return
            try:
                self.ready.put(start_kernel(self.kernel_name, self.cwd, zygote=self.zygote))
            except Exception as e:  # take() then starts one itself and reports the error
                log.warning("could not pre-start a %s kernel: %s", self.kernel_name, e)
                self.ready.put(None)

        t = threading.Thread(target=start, name="kernel-pool", daemon=True)
        self._starters.append(t)
        t.start()

    def take(self) -> Any:
        """A fresh kernel (waits for one being started); the pool starts a replacement."""
        km = self.ready.get()
        self._refill()
        return km if km is not None else start_kernel(self.kernel_name, self.cwd)

    def close(self) -> None:
        """Shut down every kernel not handed out (and those still starting)."""
        self.closed = True
        for t in self._starters:
            t.join()
        while not self.ready.empty():
            km = self.ready.get_nowait()
            if km is not None:
                shutdown(km)
        if self.zygote is not None:
            self.zygote.close()


class ColdKernels:
    """No pool: :meth:`take` starts a kernel when a run needs it (``sweep --cold``, a run on a
    Dask worker). The run still gets a kernel manager we hold, so a kernel killed by a signal
    is told from one that crashed (see :mod:`.engine`)."""

    def __init__(self, kernel_name: str, cwd: Path) -> None:
        self.kernel_name = kernel_name
        self.cwd = cwd

    def take(self) -> Any:
        return start_kernel(self.kernel_name, self.cwd)

    def close(self) -> None:
        """Nothing held between runs."""


def _zygote_for(kernel_name: str) -> Zygote | None:
    """A fork server for this kernel: this Python's ipykernel, on Linux, not switched off."""
    if not enabled():
        return None
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec(kernel_name).argv
    except Exception:  # no such kernel: the ordinary start reports it
        return None
    return Zygote() if forkable(argv) else None


def shutdown(km: Any) -> None:
    """Stop a pool kernel, whether or not nbclient already did (after Ctrl-C)."""
    from jupyter_core.utils import run_sync

    try:
        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=True)
        elif not km.context.closed:
            # It died (killed, crashed) and nobody shut it down: its ZMQ context, control
            # socket and connection file are still ours to release, or each such kernel leaks
            # a dozen descriptors for the life of the process.
            run_sync(km.cleanup_resources)()
    except RuntimeError:  # "No kernel is running!": already gone
        pass
