"""Notebook execution engines. This is the only module that imports papermill.

An engine executes a prepared notebook and reports *how* it ended as an :class:`Execution`
instead of raising, so the runner maps every ending (success, a failing cell, ``sys.exit``, a
timeout, a dead kernel, a kernel killed by a signal, Ctrl-C) to a run status in one place.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from ..exceptions import KernelNotInstalledError

log = logging.getLogger(__name__)


class Ending(str, Enum):
    OK = "ok"
    EXITED = "exited"  # sys.exit(0) / sys.exit() in a cell: stop early, successfully
    CELL_ERROR = "cell_error"
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel_died"
    KILLED = "killed"  # the kernel process was ended by a signal (kill -9, SIGTERM, OOM killer)
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
        language: str,
        cwd: Path,
        timeout_s: float | None,
        progress: bool,
        km: Any = None,
    ) -> Execution: ...


# The kernel's own log is not the user's output: its "Kernel is running over TCP without
# encryption" warning on every start, and the KeyboardInterrupt it logs on Ctrl-C. Cell errors
# still reach the output notebook. Every place that starts a kernel passes these arguments.
QUIET_KERNEL_ARGS = ("--IPKernelApp.log_level=CRITICAL",)


def installed_kernel_language(name: str) -> str:
    """The language of the installed kernel ``name`` ('' if its kernel.json names none)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        return manager.get_kernel_spec(name).language or ""
    except NoSuchKernel:
        raise KernelNotInstalledError(name, sorted(manager.find_kernel_specs())) from None


def can_inject_parameters(kernel_name: str, language: str) -> bool:
    """Whether papermill can write a parameters cell for this kernel or language."""
    from papermill.exceptions import PapermillException
    from papermill.translators import papermill_translators

    try:
        papermill_translators.find_translator(kernel_name, language)
    except PapermillException:
        return False
    return True


def _exit_ok(evalue: str | None) -> bool:
    return (evalue or "").strip() in ("", "0", "None")


def _budget(start: float, timeout_s: float | None) -> Callable[[Any], int | None]:
    """nbclient's ``timeout_func``: the seconds a cell may take, what is left of the run's."""
    from nbclient.exceptions import CellTimeoutError

    deadline = None if timeout_s is None else start + timeout_s

    def remaining(_cell: Any) -> int | None:
        if deadline is None:
            return None
        left = deadline - time.monotonic()
        if left <= 0:  # stop before the next cell instead of granting it a second
            raise CellTimeoutError(f"the whole-run timeout of {timeout_s:g}s was reached")
        return max(1, int(left + 0.999))

    return remaining


def _cell_error(e: Any, seconds: float) -> Execution:
    """A cell raised (papermill's PapermillExecutionError ``e``); ``sys.exit(0)`` ends well."""
    ending = Ending.EXITED if e.ename == "SystemExit" and _exit_ok(e.evalue) else Ending.CELL_ERROR
    return Execution(
        ending,
        seconds,
        e.cell_index,
        e.exec_count,
        e.ename,
        e.evalue,
        "\n".join(e.traceback or []),
    )


def _dead_kernel(e: BaseException, km: Any, start: float) -> Execution:
    """The kernel died: killed by a signal when ours says so, else it died by itself."""
    signum = kernel_signal(km)
    if signum is not None:
        return Execution(
            Ending.KILLED,
            time.monotonic() - start,
            ename="KernelKilled",
            evalue=f"the kernel was killed by {_signal_name(signum)}",
        )
    return Execution(
        Ending.KERNEL_DIED,
        time.monotonic() - start,
        ename="DeadKernel",
        evalue=str(e) or "the kernel died",
    )


KERNEL_START_TIMEOUT = 180.0  # seconds a kernel gets to answer its first request


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
        language: str,
        cwd: Path,
        timeout_s: float | None,
        progress: bool,
        km: Any = None,
    ) -> Execution:
        import papermill as pm
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        for name in ("papermill", "papermill.translators"):
            logging.getLogger(name).addFilter(_PARAMETERS_CHECKED)  # a no-op once added
        start = time.monotonic()
        try:
            pm.execute_notebook(
                notebook,
                str(output_path),
                parameters=parameters,
                # Always the spec's kernel and its language: a notebook without kernel
                # metadata (nbformat.v4.new_notebook(), jupytext) cannot tell papermill how to
                # write the injected parameters.
                kernel_name=kernel_name,
                language=language,
                cwd=str(cwd),
                progress_bar=progress,
                timeout_func=_budget(start, timeout_s),
                log_output=False,
                # nbclient's default (60 s) fails a run whose kernel is merely slow to start on
                # a busy machine (seen with two test workers and a browser on 2 cores); a
                # kernel that dies at start is still reported at once.
                start_timeout=KERNEL_START_TIMEOUT,
                extra_arguments=list(QUIET_KERNEL_ARGS),
                # A pre-started kernel from a sweep's pool (nbclient leaves it running).
                **({"km": km} if km is not None else {}),
            )
        except pm.PapermillExecutionError as e:
            return _cell_error(e, time.monotonic() - start)
        except CellTimeoutError as e:
            return Execution(
                Ending.TIMEOUT,
                time.monotonic() - start,
                ename="Timeout",
                evalue=str(e).splitlines()[0] if str(e) else "timeout",
            )
        except DeadKernelError as e:
            return _dead_kernel(e, km, start)
        except KeyboardInterrupt:
            return Execution(
                Ending.INTERRUPTED,
                time.monotonic() - start,
                ename="KeyboardInterrupt",
                evalue="interrupted by the user",
            )
        return Execution(Ending.OK, time.monotonic() - start)


def kernel_signal(km: Any, timeout: float = 10.0) -> int | None:
    """The signal that ended the kernel of ``km`` (a manager we started, see :mod:`.pool`), or
    None: still running after ``timeout``, ended by itself, or a kernel papermill started (its
    process is out of our reach, so such a death stays ``kernel_died``)."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is None:
        return None
    try:
        code = process.wait(timeout=timeout)  # nbclient saw it dead: this is at once
    except (subprocess.TimeoutExpired, OSError):
        return None
    return -code if isinstance(code, int) and code < 0 else None


def _signal_name(signum: int) -> str:
    try:
        return f"{signal.Signals(signum).name} (signal {signum})"
    except ValueError:
        return f"signal {signum}"


def kernel_language(
    kernel: str, notebook: Path, spec_path: str | None, with_parameters: bool
) -> str:
    """The language papermill writes injected parameters in: the installed kernel's, else the
    notebook's. Refused in one line, naming the file to fix, when it cannot be known."""
    from ..exceptions import NotebookError, PipelineSpecError
    from .notebook import kernel_language as notebook_language
    from .notebook import read_notebook

    spec_file = spec_path or "the pipeline spec"
    try:
        language = installed_kernel_language(kernel)
    except KernelNotInstalledError as e:
        raise PipelineSpecError(
            f"{spec_file}: kernel '{kernel}' is not installed here (installed: "
            f"{', '.join(e.installed) or 'none'}); install it (for Python: python -m ipykernel "
            f"install --user --name {kernel}) or set `kernel:` in {spec_file} to an installed one",
            path=spec_path,
            field="kernel",
        ) from None
    language = language or notebook_language(read_notebook(notebook)) or ""
    if not with_parameters:
        return language
    if not language:
        raise NotebookError(
            f"'{notebook}': kernel '{kernel}' declares no language and the notebook records none, "
            'so parameters cannot be injected; add "language": "python" (or the kernel\'s '
            "language) to metadata.kernelspec in the notebook",
            path=str(notebook),
        )
    if not can_inject_parameters(kernel, language):
        raise PipelineSpecError(
            f"{spec_file}: papermill cannot write parameters for kernel '{kernel}' (language "
            f"'{language}'); run without -p, or set `kernel:` to a kernel in a language papermill "
            "supports (python, R, julia, scala, ...)",
            path=spec_path,
            field="kernel",
        )
    return language


class _ParametersChecked(logging.Filter):
    """Drops papermill's own guesses about the parameters cell ("Unable to parse line …",
    "Passed unknown parameter …"): the runner has already checked every override against the
    spec, and derived parameters (``d = a == 3``) are overridable on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not text.startswith(("Unable to parse line", "Passed unknown parameter"))


_PARAMETERS_CHECKED = _ParametersChecked()

ENGINES: dict[str, Engine] = {"papermill": PapermillEngine()}


def get_engine(name: str = "papermill") -> Engine:
    from ..exceptions import ConfigError

    try:
        return ENGINES[name]
    except KeyError:
        raise ConfigError(f"Unknown engine {name!r}; available: {', '.join(ENGINES)}") from None
