"""Errors raised by jupyter-mlops.

Every error derives from one root, so a front-end can catch ``MLOpsError`` once at its boundary::

    MLOpsError
    ├── ConfigError(ValueError)          bad setting, store URL or option value
    ├── ValidationError(ValueError)      bad input to a core call (params, names, filters)
    │   ├── PipelineSpecError            malformed pipelines/NAME.yaml or gates file: file and field
    │   ├── GateSpecError                a gate definition is invalid: gate index, name and field
    │   ├── ParameterError               a pipeline parameter is unknown or not of its declared type
    │   ├── TypeMismatch                 a value does not fit a parameter type (coerce_value)
    │   └── NotebookError                missing/unreadable notebook, unparsable parameters cell
    │       └── NotebookChangedError     the notebook's code changed since it was promoted
    ├── FingerprintError(TypeError)      an object or file that cannot be fingerprinted
    ├── MissingDependencyError(ImportError)  an optional package is missing: names the extra
    ├── StoreError                       the run store cannot do what was asked
    │   ├── StoreUnavailableError(OSError)   cannot open or write the store (read-only, disk full)
    │   ├── StoreNotFoundError(LookupError)  a read found no store: where it looked, how to make one
    │   ├── SchemaVersionError               the store was written by a newer jupyter-mlops
    │   ├── RunNotFoundError(LookupError)    no run with that id (or prefix)
    │   ├── ExperimentNotFoundError(LookupError)  no experiment of that name: lists the known ones
    │   ├── ModelNotFoundError(LookupError)  no model, model version or blessed version of that name
    │   ├── UntrustedModelError              a model whose loading could run code nobody vouched for
    │   └── AmbiguousRunIdError(LookupError) a run id prefix matches several runs
    ├── NotFoundError(LookupError)       a metric, artifact or output notebook that does not exist
    │   └── KernelNotInstalledError      no kernelspec of that name: lists the installed ones
    ├── GateInputError                   a check cannot find what it needs: the gate's result
    │   └── FeatureMismatchError         a model expects other features than the rows hold
    ├── ConflictError                    the state changed under the call: a pipeline already
    │                                    running, a bless racing a bless (server: 409)
    │   ├── ModelPinnedError             a bless of a model pinned by a rollback or `models pin`
    │   └── FailedGatesError             a bless of a version whose gates failed (CLI exit 3)
    └── PipelineError                    a pipeline run could not complete (CLI exit code 1)
        └── GateFailedError              a blocking gate failed: gate, observed, expected (exit 3)

Messages say what failed, the value, and the next step.
"""

from __future__ import annotations

from collections.abc import Sequence


class MLOpsError(Exception):
    """Root of every error raised by jupyter-mlops."""


class ConfigError(MLOpsError, ValueError):
    """A setting, store URL or option value is invalid."""


class ValidationError(MLOpsError, ValueError):
    """User input to a core call is invalid."""


class FingerprintError(MLOpsError, TypeError):
    """An object or file cannot be fingerprinted."""


class MissingDependencyError(MLOpsError, ImportError):
    """An optional dependency is missing: one line saying what needs it and what to install,
    the jupyter-mlops extra that brings it (``extra``) or else the package itself. Raised where
    the optional import happens, as papermill's ``missing_dependency_generator`` does::

        A postgresql:// store needs psycopg: pip install 'jupyter-mlops[postgres]'
    """

    def __init__(self, package: str, needed_by: str, extra: str | None = None) -> None:
        self.package = package
        self.extra = extra
        install = f"pip install 'jupyter-mlops[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{needed_by} needs {package}: {install}", name=package)


class StoreError(MLOpsError):
    """The run store cannot do what was asked."""


class StoreUnavailableError(StoreError, OSError):
    """The store cannot be opened or written (read-only directory, disk full, corrupt file)."""


class StoreNotFoundError(StoreError, LookupError):
    """A read-only call found no store; reads never create one (an empty store would only hide
    a wrong working directory or a mistyped JUPYTER_MLOPS_STORE)."""

    def __init__(self, location: str, looked_from: str | None = None) -> None:
        self.location = location
        self.looked_from = looked_from
        where = f" (looked from {looked_from})" if looked_from else ""
        super().__init__(
            f"no jupyter-mlops store at {location}{where}; record a run first (a %%track "
            "cell, mlops.start_run() or `jupyter-mlops run`), or set JUPYTER_MLOPS_STORE"
        )


class SchemaVersionError(StoreError):
    """The store's schema is newer than this version of jupyter-mlops understands."""


class RunNotFoundError(StoreError, LookupError):
    """No run matches the given id or id prefix."""

    def __init__(self, run_id: str, location: str = "the store") -> None:
        self.run_id = run_id
        # The id is the caller's input: a line break in it must not break the one-line message.
        shown = run_id if run_id.isprintable() else repr(run_id)[1:-1]
        super().__init__(
            f"Run '{shown}' not found in {location}; list runs with `jupyter-mlops runs` "
            "or `%mlops runs`"
        )


class ExperimentNotFoundError(StoreError, LookupError):
    """No experiment has this name; ``known`` lists the experiments the store holds."""

    def __init__(self, experiment: str, known: list[str], location: str = "the store") -> None:
        import difflib

        self.experiment = experiment
        self.known = list(known)
        close = difflib.get_close_matches(experiment, self.known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        shown = ", ".join(self.known[:20]) + (" …" if len(self.known) > 20 else "")
        listing = f"known experiments: {shown}" if self.known else "the store has no experiments"
        super().__init__(f"unknown experiment {experiment!r} in {location}; {hint}{listing}")


class ModelNotFoundError(StoreError, LookupError):
    """No model, model version or blessed version matches."""


class UntrustedModelError(StoreError):
    """A model is refused: a pickle from a team store, or a skops file with types skops does
    not trust, without ``trust=True`` or an allow-listed publisher."""


class AmbiguousRunIdError(StoreError, LookupError):
    """A run id prefix matches more than one run."""

    def __init__(self, prefix: str, matches: list[str]) -> None:
        self.prefix = prefix
        self.matches = matches
        shown = ", ".join(m[:12] for m in matches[:5])
        super().__init__(
            f"Run id prefix '{prefix}' matches {len(matches)} runs ({shown}); type more characters"
        )


class PipelineSpecError(ValidationError):
    """A pipeline spec (``pipelines/NAME.yaml``) or gates file is malformed."""

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None) -> None:
        self.path = path
        self.field = field
        super().__init__(message)


class GateSpecError(ValidationError):
    """A gate definition is invalid; ``index`` is its 0-based position in the gates list."""

    def __init__(
        self,
        message: str,
        *,
        index: int | None = None,
        gate: str | None = None,
        field: str | None = None,
    ) -> None:
        self.index = index
        self.gate = gate
        self.field = field
        super().__init__(message)


class ParameterError(ValidationError):
    """A pipeline parameter is unknown, or its value does not match the declared type."""

    def __init__(
        self,
        message: str,
        *,
        name: str | None = None,
        value: object = None,
        expected: str | None = None,
    ) -> None:
        self.name = name
        self.value = value
        self.expected = expected
        super().__init__(message)


class TypeMismatch(ValidationError):
    """A value does not fit a parameter type (raised by ``pipeline.params.coerce_value``)."""


class NotebookError(ValidationError):
    """A notebook is missing or unreadable, or its ``parameters`` cell cannot be used."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        cell_index: int | None = None,
        line: int | None = None,
    ) -> None:
        self.path = path
        self.cell_index = cell_index
        self.line = line
        super().__init__(message)


class NotebookChangedError(NotebookError):
    """The notebook's code cells differ from the hashes recorded when it was promoted."""

    def __init__(
        self, message: str, *, path: str | None = None, changes: list[str] | None = None
    ) -> None:
        self.changes = list(changes or [])
        super().__init__(message, path=path)


class NotFoundError(MLOpsError, LookupError):
    """Something a view was asked for does not exist (a metric, an artifact, a notebook)."""


class KernelNotInstalledError(NotFoundError):
    """No kernelspec of that name here; ``installed`` lists the names there are."""

    def __init__(self, name: str, installed: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.installed = installed


class GateInputError(MLOpsError):
    """A check cannot find what it needs (dataset, column, model): its message is the result."""


class FeatureMismatchError(GateInputError):
    """A model expects other features than the validation rows hold."""


class ConflictError(MLOpsError):
    """What was asked conflicts with work in progress: retry when that work is done."""


class ModelPinnedError(ConflictError):
    """A bless refused because the model is pinned; ``pin`` is the :class:`ModelPin`."""

    def __init__(self, message: str, pin: object) -> None:
        super().__init__(message)
        self.pin = pin


class FailedGatesError(ConflictError):
    """A bless refused because the version failed blocking gates; ``results`` holds them.
    Overriding takes an explicit flag and a reason (``override_gates``)."""

    def __init__(self, message: str, results: Sequence[object]) -> None:
        super().__init__(message)
        self.results = list(results)


class PipelineError(MLOpsError):
    """A pipeline run could not complete."""


class GateFailedError(PipelineError):
    """A blocking gate failed; ``results`` holds every gate's result when the caller has them."""

    def __init__(
        self,
        gate: str,
        observed: object,
        expected: object,
        message: str = "",
        results: list[object] | None = None,
    ) -> None:
        self.gate = gate
        self.observed = observed
        self.expected = expected
        self.results = list(results or [])
        detail = f": {message}" if message else ""
        super().__init__(f"Gate '{gate}' failed (observed {observed}, expected {expected}){detail}")
