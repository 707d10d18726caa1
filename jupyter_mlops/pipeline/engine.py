"""Notebook execution engines. This is the only module that imports papermill.

An engine executes a prepared notebook and reports *how* it ended as an :class:`Execution`
instead of raising, so the runner maps every ending (success, a failing cell, ``sys.exit``, a
timeout, a dead kernel, Ctrl-C) to a run status in one place.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Ending(str, Enum):
    OK = "ok"
    EXITED = "exited"  # sys.exit(0) / sys.exit() in a cell: stop early, successfully
    CELL_ERROR = "cell_error"
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel_died"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Execution:
    ending: Ending
    seconds: float
    cell_index: int | None = None  # index in the output notebook
    execution_count: int | None = None
    ename: str | None = None
    evalue: str | None = None
    traceback: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.ending in (Ending.OK, Ending.EXITED)


class Engine(Protocol):
    def execute(
        self,
        notebook: Any,
        output_path: Path,
        *,
        parameters: dict[str, Any],
        kernel_name: str,
        cwd: Path,
        timeout_s: float | None,
        progress: bool,
    ) -> Execution: ...


def _exit_ok(evalue: str | None) -> bool:
    return (evalue or "").strip() in ("", "0", "None")


class PapermillEngine:
    """papermill + nbclient. The whole-run timeout is enforced per cell through nbclient's
    ``timeout_func``: each cell may only use what is left of the run's budget."""

    def execute(
        self,
        notebook: Any,
        output_path: Path,
        *,
        parameters: dict[str, Any],
        kernel_name: str,
        cwd: Path,
        timeout_s: float | None,
        progress: bool,
    ) -> Execution:
        import papermill as pm
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        start = time.monotonic()
        deadline = None if timeout_s is None else start + timeout_s

        def remaining(_cell: Any) -> int | None:
            if deadline is None:
                return None
            left = deadline - time.monotonic()
            if left <= 0:  # stop before the next cell instead of granting it a second
                raise CellTimeoutError(f"the whole-run timeout of {timeout_s:g}s was reached")
            return max(1, int(left + 0.999))

        try:
            pm.execute_notebook(
                notebook,
                str(output_path),
                parameters=parameters,
                kernel_name=kernel_name,
                cwd=str(cwd),
                progress_bar=progress,
                timeout_func=remaining,
                log_output=False,
                # The kernel's own log (TCP warnings, the KeyboardInterrupt it logs on Ctrl-C)
                # is not the user's output; cell errors still reach the output notebook.
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
        except pm.PapermillExecutionError as e:
            ending = (
                Ending.EXITED
                if e.ename == "SystemExit" and _exit_ok(e.evalue)
                else Ending.CELL_ERROR
            )
            return Execution(
                ending,
                time.monotonic() - start,
                e.cell_index,
                e.exec_count,
                e.ename,
                e.evalue,
                "\n".join(e.traceback or []),
            )
        except CellTimeoutError as e:
            return Execution(
                Ending.TIMEOUT,
                time.monotonic() - start,
                ename="Timeout",
                evalue=str(e).splitlines()[0] if str(e) else "timeout",
            )
        except DeadKernelError as e:
            return Execution(
                Ending.KERNEL_DIED,
                time.monotonic() - start,
                ename="DeadKernel",
                evalue=str(e) or "the kernel died",
            )
        except KeyboardInterrupt:
            return Execution(
                Ending.INTERRUPTED,
                time.monotonic() - start,
                ename="KeyboardInterrupt",
                evalue="interrupted by the user",
            )
        return Execution(Ending.OK, time.monotonic() - start)


ENGINES: dict[str, Engine] = {"papermill": PapermillEngine()}


def get_engine(name: str = "papermill") -> Engine:
    from ..exceptions import ConfigError

    try:
        return ENGINES[name]
    except KeyError:
        raise ConfigError(f"Unknown engine {name!r}; available: {', '.join(ENGINES)}") from None
