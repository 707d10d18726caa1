"""Errors raised by jupyter-mlops.

Every error derives from one root, so a front-end can catch ``MLOpsError`` once at its boundary::

    MLOpsError
    ├── ConfigError(ValueError)          bad setting, store URL or option value
    ├── ValidationError(ValueError)      bad user input to a core call (params, names, where clauses)
    ├── FingerprintError(TypeError)      an object or file that cannot be fingerprinted
    ├── MissingDependencyError(ImportError)  an optional package is needed: names the extra
    └── StoreError                       the run store cannot do what was asked
        ├── StoreUnavailableError(OSError)   cannot open or write the store (read-only, disk full)
        ├── SchemaVersionError               the store was written by a newer jupyter-mlops
        ├── RunNotFoundError(LookupError)    no run with that id (or prefix)
        └── AmbiguousRunIdError(LookupError) a run id prefix matches several runs

Messages say what failed, the value, and the next step.
"""

from __future__ import annotations


class MLOpsError(Exception):
    """Root of every error raised by jupyter-mlops."""


class ConfigError(MLOpsError, ValueError):
    """A setting, store URL or option value is invalid."""


class ValidationError(MLOpsError, ValueError):
    """User input to a core call is invalid."""


class FingerprintError(MLOpsError, TypeError):
    """An object or file cannot be fingerprinted."""


class MissingDependencyError(MLOpsError, ImportError):
    """An optional dependency is missing."""

    def __init__(self, package: str, extra: str | None = None, purpose: str = "") -> None:
        self.package = package
        self.extra = extra
        install = f"pip install 'jupyter-mlops[{extra}]'" if extra else f"pip install {package}"
        what = f" for {purpose}" if purpose else ""
        super().__init__(f"{package} is required{what}; install it with: {install}")


class StoreError(MLOpsError):
    """The run store cannot do what was asked."""


class StoreUnavailableError(StoreError, OSError):
    """The store cannot be opened or written (read-only directory, disk full, corrupt file)."""


class SchemaVersionError(StoreError):
    """The store's schema is newer than this version of jupyter-mlops understands."""


class RunNotFoundError(StoreError, LookupError):
    """No run matches the given id or id prefix."""

    def __init__(self, run_id: str, location: str = "the store") -> None:
        self.run_id = run_id
        super().__init__(
            f"Run '{run_id}' not found in {location}; list runs with `jupyter-mlops runs` "
            "or `%mlops runs`"
        )


class AmbiguousRunIdError(StoreError, LookupError):
    """A run id prefix matches more than one run."""

    def __init__(self, prefix: str, matches: list[str]) -> None:
        self.prefix = prefix
        self.matches = matches
        shown = ", ".join(m[:12] for m in matches[:5])
        super().__init__(
            f"Run id prefix '{prefix}' matches {len(matches)} runs ({shown}); type more characters"
        )
