"""The server's answers to a client's mistakes, each an ``MLOpsError`` with its HTTP status.

The app maps one table (:func:`status_of`): these carry their own status; the core's errors map
as the REST API maps them (validation 400, not found 404, conflict 409); anything else is 500,
and a client's mistake never lands there.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import ConflictError, MLOpsError, ValidationError


class ServeError(ValidationError):
    """A request the server cannot serve; ``status`` is its HTTP status, ``extra`` more JSON."""

    status = 400

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.extra = extra or {}


class BadBodyError(ServeError):
    status = 400  # malformed JSON, CSV or Parquet


class BodyTooLargeError(ServeError):
    status = 413


class UnsupportedMediaError(ServeError):
    status = 415


class UnprocessableError(ServeError):
    status = 422  # well formed, but not rows this model can score (empty, wrong columns...)


class ModelFailedError(UnprocessableError):
    """The scoring version's own model raised on rows its contract let through, or returned
    the wrong number of predictions: that version's error, recorded after the response as a
    monitor event of kind ``error`` (what a canary's ``error_rate`` guardrail counts)."""

    def __init__(self, message: str, version: int, rows: int) -> None:
        super().__init__(message)
        self.version, self.rows = version, rows


class UnknownModelError(ServeError, LookupError):
    status = 404


class NotServedError(ConflictError):
    """The model is served but has no blessed version now (409)."""


class RequestTimeoutError(MLOpsError):
    """Scoring took longer than the server's per-request ``--timeout`` (504)."""


class UnauthorizedError(MLOpsError):
    """No bearer token, or a wrong one (401)."""


def status_of(error: BaseException) -> int:
    if isinstance(error, ServeError):
        return error.status
    if isinstance(error, UnauthorizedError):
        return 401
    if isinstance(error, RequestTimeoutError):
        return 504
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, LookupError):
        return 404
    if isinstance(error, ValidationError):
        return 400
    return 500
