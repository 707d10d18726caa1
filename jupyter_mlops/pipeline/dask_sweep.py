"""``jupyter-mlops sweep NAME --on dask://HOST:PORT``: a sweep's runs as tasks on a Dask cluster.

Each combination is one ``dask.distributed`` task. The task starts this module as a child
process (``python -m jupyter_mlops.pipeline.dask_sweep``) that calls the same runner as a local
sweep (typed params, gates, models registered as candidates, tracking, tagged ``sweep=<id>``),
so a run can be interrupted like ``jupyter-mlops run``: SIGINT, and the run ends
``interrupted``. The runs write into the sweep's store, so every worker must see it and the
project at the same paths: one machine, or a shared filesystem. The workers need jupyter-mlops
and the notebook's packages.

Each run's id is chosen here, before the task is submitted, so the sweep reads every outcome
from the store, whichever worker ran it. A worker that dies takes its child down with it
(SIGINT on parent death), so the run ends ``interrupted``, or the store's liveness rules mark it
so; when the scheduler resubmits that task elsewhere, the task sees its run already started and
does not run it again. Ctrl-C sets a cluster-wide cancel event: tasks under way interrupt their
run, the rest never start, and the futures are cancelled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..entities import PipelineOutcome, RunStatus
from ..exceptions import (
    MissingDependencyError,
    MLOpsError,
    PipelineError,
    RunNotFoundError,
    ValidationError,
)
from ..project import project_environment
from ..tracking import Tracker
from .spec import PipelineSpec

_SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")
_SETTLE_S = 60.0  # how long a run interrupted by Ctrl-C or a dead worker may take to say so


def dask_address(on: str) -> str:
    """``dask://HOST:PORT`` -> ``tcp://HOST:PORT``; other ``distributed`` addresses unchanged."""
    scheme, sep, rest = on.partition("://")
    if sep and rest and scheme == "dask":
        return f"tcp://{rest}"
    if sep and rest and scheme in _SCHEMES:
        return on
    raise ValidationError(
        f"Invalid --on {on!r}: give a Dask scheduler address, e.g. dask://HOST:8786 or "
        "tcp://HOST:8786"
    )


def connect(address: str, timeout: float = 10.0) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` (lazily imported)."""
    try:
        from distributed import Client
    except ImportError as e:
        raise MissingDependencyError("dask.distributed", "sweep --on", "dask") from e
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise PipelineError(  # exit 1: the sweep could not run
            f"Cannot reach the Dask scheduler at {address}: {reason}; start one with "
            "`dask scheduler` or check the address"
        ) from e


def drive_on_dask(
    client: Any,
    spec: PipelineSpec,
    result: Any,  # sweep.SweepResult (not imported: sweep imports this module)
    tracker: Tracker,
    parallel: int,
    bar: Any,
) -> None:
    """Run ``result.runs`` as tasks, at most ``parallel`` at once, filling each from the store."""
    if spec.path is None:
        raise ValidationError(f"pipeline '{spec.name}' has no spec file to send to the workers")
    cancel = f"jupyter-mlops-sweep-{result.sweep_id}-cancel"
    base = {
        "spec": str(Path(spec.path).resolve()),
        "store": str(tracker.store.workdir.resolve()),
        "cwd": str(Path.cwd()),
        "env": project_environment(tracker.project),  # the worker's runs see our folders
        "tags": {"sweep": result.sweep_id},
        "cancel": cancel,
    }
    owner: dict[str, Any] = {}  # future key -> SweepRun
    pending: set[Any] = set()

    def submit(item: Any) -> None:
        item.run_id = uuid.uuid4().hex
        job = {**base, "params": item.params, "run_id": item.run_id}
        key = f"jupyter-mlops-sweep-{result.sweep_id}-{item.run_id}"
        future = client.submit(_task, job, key=key, pure=False, retries=0)
        owner[future.key] = item
        pending.add(future)

    with client.as_current():  # distributed.wait finds its client as the current one
        _drive(client, result, parallel, submit, pending, owner, tracker, cancel, bar)


def _drive(
    client: Any,
    result: Any,
    parallel: int,
    submit: Any,
    pending: set[Any],
    owner: dict[str, Any],
    tracker: Tracker,
    cancel: str,
    bar: Any,
) -> None:
    from distributed import Event
    from distributed import wait as dask_wait

    todo = iter(result.runs)
    try:
        for _ in range(parallel):
            nxt = next(todo, None)
            if nxt is not None:
                submit(nxt)
        while pending:
            done, still = dask_wait(list(pending), return_when="FIRST_COMPLETED")
            pending.clear()
            pending.update(still)
            for f in done:
                _finish(owner[f.key], f, tracker, result.metric)
                bar.update(1)
                nxt = next(todo, None)
                if nxt is not None:
                    submit(nxt)
    except KeyboardInterrupt:
        # Tasks under way interrupt their run (they watch the event); queued ones never start.
        Event(cancel, client=client).set()
        try:
            dask_wait(list(pending), timeout=_SETTLE_S)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
            pass
        except Exception:  # distributed's TimeoutError: some task did not answer in time
            pass
        client.cancel(list(pending), force=True)
        for f in pending:
            _finish(owner[f.key], f, tracker, result.metric)
        raise


def _finish(item: Any, future: Any, tracker: Tracker, metric: str | None) -> None:
    """Fill ``item`` from what its run recorded (its task's answer only says how it ended)."""
    answer: dict[str, Any] = {}
    if future.done() and not future.cancelled():
        try:
            answer = future.result()
        except Exception as e:  # the task itself failed (e.g. distributed's KilledWorker)
            answer = {"error": f"{type(e).__name__}: {e}"}
    run = _settled_run(tracker, item.run_id)
    if run is None:  # the run never started: the child could not, or Ctrl-C came first
        item.run_id = None
        item.status = "not started"
        item.error = answer.get("error")
        if item.error:
            item.status, item.outcome = "failed", PipelineOutcome.FAILED.value
        return
    item.status = run.status.value
    item.outcome = _outcome(run).value
    if metric is not None:
        item.value = run.metrics.get(metric)


def _settled_run(tracker: Tracker, run_id: str) -> Any:
    """The run, once it has ended (a dead child's run is marked interrupted meanwhile)."""
    deadline = time.monotonic() + _SETTLE_S
    while True:
        try:
            run = tracker.get_run(run_id)
        except RunNotFoundError:
            return None
        if run.status is not RunStatus.RUNNING or time.monotonic() > deadline:
            return run
        tracker.store.mark_interrupted_runs()  # its process is gone: the liveness rules say
        time.sleep(0.2)


def _outcome(run: Any) -> PipelineOutcome:
    if run.status is RunStatus.FINISHED:
        return (
            PipelineOutcome.GATE_FAILED
            if run.tags.get("gates") == "failed"
            else PipelineOutcome.PASSED
        )
    if run.status is RunStatus.INTERRUPTED:
        return PipelineOutcome.INTERRUPTED
    return PipelineOutcome.FAILED


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: a pre-exec hook making the child get SIGINT when the worker that started it dies
    (even by SIGKILL). libc is looked up here, in the parent: the hook runs between fork and
    exec of a threaded worker, where importing or loading anything could deadlock."""
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigint = 1, int(signal.SIGINT)

    def hook() -> None:  # pragma: no cover - runs in the child
        prctl(pr_set_pdeathsig, sigint)

    return hook


def _task(job: dict[str, Any]) -> dict[str, Any]:
    """One run, on a Dask worker: in a child process, interrupted when the sweep is cancelled."""
    from distributed import Event

    from ..store import open_store

    cancel = Event(job["cancel"])
    if cancel.is_set():
        return {"cancelled": True}
    store = open_store(job["store"])
    with contextlib.suppress(RunNotFoundError):
        store.get_run(job["run_id"])
        # Resubmitted after its worker died: that attempt's run ends interrupted, not re-run.
        return {"resubmitted": True}
    env = {**os.environ, **job.get("env", {}), "JUPYTER_MLOPS_STORE": job["store"]}
    env.pop("JUPYTER_MLOPS_PARENT_RUN", None)
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", __name__, json.dumps(job)],
            cwd=job["cwd"], env=env, stdout=subprocess.DEVNULL, stderr=err,
            preexec_fn=_die_with_parent(),
        )  # fmt: skip
        try:
            while proc.poll() is None:
                if cancel.wait(timeout=0.5):
                    proc.send_signal(signal.SIGINT)  # the runner ends the run interrupted
                    proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        tail = [ln for ln in err.read().splitlines() if ln.strip()][-1:]
    if proc.returncode not in (0, 130) and tail:
        return {"returncode": proc.returncode, "error": tail[0]}
    return {"returncode": proc.returncode}


def _child(job: dict[str, Any]) -> int:
    """The run itself, in the child process: the same runner as a local sweep."""
    from .pool import ColdKernels
    from .runner import PipelineRunner
    from .spec import load_spec

    spec = load_spec(job["spec"])
    # A kernel we started (not papermill), so a kill of it ends the run interrupted.
    kernels = ColdKernels(spec.kernel, spec.notebook_path().parent)
    runner = PipelineRunner(progress=False, kernels=kernels)
    try:
        res = runner.run(
            spec,
            job["params"],
            tags=job["tags"],
            hold_lock=False,
            run_id=job["run_id"],
            bless=False,  # a sweep's run: the sweep blesses (--bless-best), or nothing does
        )
    except KeyboardInterrupt:
        return 130
    return 130 if res.outcome is PipelineOutcome.INTERRUPTED else 0


if __name__ == "__main__":
    try:
        sys.exit(_child(json.loads(sys.argv[1])))
    except MLOpsError as e:
        print(f"jupyter-mlops: error: {e}", file=sys.stderr)
        sys.exit(1)
