"""Records jupyter-mlops stores and returns: frozen dataclasses with stable ``to_dict`` forms.

The JSON printed by ``jupyter-mlops show --json`` and served by the REST API is ``to_dict()`` of
these classes; field names are a public contract (documented in the README), so add, never rename.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal


class RunStatus(str, Enum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


class PipelineOutcome(str, Enum):
    """How one firing of a pipeline ended; front-ends map it to exit codes or HTTP statuses.

    The first four end a run; the scheduler also logs the last three, where no run started.
    """

    PASSED = "passed"  # executed, and no blocking gate failed
    GATE_FAILED = "gate_failed"  # executed, but a blocking gate failed
    FAILED = "failed"  # the notebook failed, timed out or its kernel died
    INTERRUPTED = "interrupted"  # Ctrl-C
    MISSED = "missed"  # firing times that passed while no scheduler ran
    SKIPPED = "skipped"  # the pipeline was still running from an earlier firing
    ERROR = "error"  # the run could not start, e.g. the notebook changed since promote


class RunKind(str, Enum):
    CELL = "cell"
    PIPELINE = "pipeline"
    SCRIPT = "script"


class DataRole(str, Enum):
    INPUT = "input"
    OUTPUT = "output"


def iso_time(ts: float | None) -> str | None:
    """Seconds since the epoch as an ISO-8601 UTC string (the form every to_dict uses)."""
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(ts, tz=_dt.timezone.utc).isoformat(timespec="milliseconds")


def parse_time(value: float | str | None) -> float | None:
    """The inverse of :func:`iso_time` (epoch seconds pass through), for ``from_dict``."""
    if value is None or isinstance(value, (int, float)):
        return value
    return _dt.datetime.fromisoformat(value).timestamp()


def to_jsonable(
    value: Any,
    *,
    non_finite: Literal["keep", "null", "text"] = "keep",
    fallback: Callable[[Any], Any] = repr,
) -> Any:
    """``value`` as plain JSON values: containers become lists and string-keyed dicts, NumPy
    scalars Python numbers, dates ISO strings, anything else ``fallback(value)``.

    ``non_finite`` says what NaN and infinities become: kept as floats (the store's JSON
    allows them, so a NaN param round-trips), ``None`` (strict JSON for scripts; in a runs
    frame NaN means "no value") or their text (``"nan"``, for a gate that observed one).
    The one JSON cleaner of the package: params, gate results, the store and the CLI use it."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value) or non_finite == "keep":
            return float(value)
        return None if non_finite == "null" else str(value)
    if isinstance(value, Mapping):
        return {
            str(k): to_jsonable(v, non_finite=non_finite, fallback=fallback)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, non_finite=non_finite, fallback=fallback) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 1) == 0:  # NumPy scalars and 0-d arrays
        try:
            return to_jsonable(item(), non_finite=non_finite, fallback=fallback)
        except (TypeError, ValueError):
            pass
    if callable(getattr(value, "isoformat", None)):  # datetime, date, pandas Timestamp
        return value.isoformat()
    to_dict = getattr(value, "to_dict", None)
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and callable(to_dict):
        return to_jsonable(to_dict(), non_finite=non_finite, fallback=fallback)  # entities
    return fallback(value)


@dataclass(frozen=True)
class Fingerprint:
    """A content hash of a DataFrame, Series, Index, array or file.

    ``hash`` covers content, schema and order; ``parts`` holds one digest per column (and the
    index) so a diff can say *which* column changed.
    """

    kind: str  # "dataframe" | "series" | "index" | "ndarray" | "file" | "bytes"
    hash: str  # 32 hex chars of xxh3-128
    shape: tuple[int, ...] | None = None
    schema: dict[str, str] = field(default_factory=dict)  # column (or "values") -> dtype
    parts: dict[str, str] = field(default_factory=dict)  # column / "index" -> digest
    nbytes: int = 0  # bytes hashed
    path: str | None = None  # files only: absolute path

    @property
    def short(self) -> str:
        return self.hash[:10]

    def changed_parts(self, other: Fingerprint) -> list[str]:
        """Names of parts (columns, index, schema) that differ from ``other``."""
        changed = [k for k, v in self.parts.items() if other.parts.get(k) != v]
        changed += [k for k in other.parts if k not in self.parts]
        if self.schema != other.schema and not changed:
            changed.append("schema")
        return changed

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "hash": self.hash,
            "shape": list(self.shape) if self.shape is not None else None,
            "schema": dict(self.schema),
            "parts": dict(self.parts),
            "nbytes": self.nbytes,
            "path": self.path,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fingerprint:
        shape = d.get("shape")
        return cls(
            kind=d["kind"],
            hash=d["hash"],
            shape=tuple(shape) if shape is not None else None,
            schema=dict(d.get("schema") or {}),
            parts=dict(d.get("parts") or {}),
            nbytes=int(d.get("nbytes") or 0),
            path=d.get("path"),
        )


@dataclass(frozen=True)
class DataRef:
    """A dataset a run read (input) or produced (output), by the name it had in the run."""

    role: DataRole
    name: str
    fingerprint: Fingerprint

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role.value, "name": self.name, **self.fingerprint.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataRef:
        return cls(DataRole(d["role"]), d["name"], Fingerprint.from_dict(d))


@dataclass(frozen=True)
class Artifact:
    """A file stored content-addressed under ``artifacts/`` (``uri`` is relative to the store)."""

    name: str
    kind: str  # "file" | "model" | "figure" | "notebook"
    sha256: str
    size: int
    uri: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "sha256": self.sha256,
            "size": self.size,
            "uri": self.uri,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Artifact:
        return cls(d["name"], d["kind"], d["sha256"], int(d["size"]), d["uri"])


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    step: int = 0
    timestamp: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "step": self.step,
            "time": iso_time(self.timestamp),
        }


@dataclass(frozen=True)
class Environment:
    """Python, platform and the versions of the top-level packages a run had imported."""

    id: str
    python: str
    platform: str
    packages: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "python": self.python,
            "platform": self.platform,
            "packages": dict(self.packages),
        }


@dataclass(frozen=True)
class GitState:
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    diff_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "branch": self.branch,
            "dirty": self.dirty,
            "diff_hash": self.diff_hash,
        }


@dataclass(frozen=True)
class Run:
    """One tracked execution: a ``%%track`` cell, a pipeline run or a script's ``start_run``."""

    id: str
    experiment: str
    status: RunStatus
    kind: RunKind
    started: float
    name: str | None = None
    parent_id: str | None = None
    ended: float | None = None
    duration: float | None = None
    seed: int | None = None
    notebook: str | None = None
    execution_count: int | None = None
    code: str | None = None
    history: tuple[str, ...] = ()  # content hashes of the session's executed cells, in order
    peak_memory: int | None = None  # bytes above the RSS at start
    git: GitState = field(default_factory=GitState)
    environment_id: str | None = None
    error: str | None = None
    stdout_tail: str | None = None
    host: str | None = None
    pid: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # latest value per key
    tags: dict[str, str] = field(default_factory=dict)
    data: tuple[DataRef, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @property
    def inputs(self) -> tuple[DataRef, ...]:
        return tuple(d for d in self.data if d.role is DataRole.INPUT)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "experiment": self.experiment,
            "name": self.name,
            "status": self.status.value,
            "kind": self.kind.value,
            "parent_id": self.parent_id,
            "started": iso_time(self.started),
            "ended": iso_time(self.ended),
            "duration": self.duration,
            "seed": self.seed,
            "notebook": self.notebook,
            "execution_count": self.execution_count,
            "code": self.code,
            "history": list(self.history),
            "peak_memory": self.peak_memory,
            "git": self.git.to_dict(),
            "environment_id": self.environment_id,
            "error": self.error,
            "stdout_tail": self.stdout_tail,
            "host": self.host,
            "pid": self.pid,
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "tags": dict(self.tags),
            "data": [d.to_dict() for d in self.data],
            "artifacts": [a.to_dict() for a in self.artifacts],
            "warnings": list(self.warnings),
        }


class ModelStage(str, Enum):
    CANDIDATE = "candidate"
    BLESSED = "blessed"
    ARCHIVED = "archived"
    SHADOW = "shadow"  # scored on production rows by mlops.predict, never returned


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model: lineage back to the run that produced it."""

    name: str
    version: int
    run_id: str
    artifact_uri: str
    artifact_sha: str
    size: int
    stage: ModelStage
    created: float
    updated: float
    metrics: dict[str, float] = field(default_factory=dict)
    data: tuple[DataRef, ...] = ()
    pipeline: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "artifact_uri": self.artifact_uri,
            "artifact_sha": self.artifact_sha,
            "size": self.size,
            "stage": self.stage.value,
            "created": iso_time(self.created),
            "updated": iso_time(self.updated),
            "metrics": dict(self.metrics),
            "data": [d.to_dict() for d in self.data],
            "pipeline": self.pipeline,
        }


@dataclass(frozen=True)
class ModelPin:
    """A model held at ``version``: automated runs (pipelines, scheduled firings, sweeps)
    register candidates but do not bless, until it is unpinned or ``until`` passes.

    ``origin`` is how it was pinned: ``rollback`` (every rollback pins) or ``pin`` (by hand)."""

    name: str
    version: int
    origin: str
    actor: str | None
    reason: str | None
    since: float
    until: float | None = None

    def active(self, now: float) -> bool:
        return self.until is None or now < self.until

    def describe(self) -> str:
        """``pinned by rollback at v2`` (the words a held bless and ``models show`` use)."""
        return f"pinned by {self.origin} at v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "origin": self.origin,
            "by": self.actor,
            "reason": self.reason,
            "since": iso_time(self.since),
            "until": iso_time(self.until),
        }


@dataclass(frozen=True)
class ModelEvent:
    name: str
    version: int
    action: str  # register | bless | archive | rollback | pin | unpin | held | shadow
    actor: str | None
    reason: str | None
    time: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "action": self.action,
            "actor": self.actor,
            "reason": self.reason,
            "time": iso_time(self.time),
        }


class GateStatus(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


class Severity(str, Enum):
    ERROR = "error"
    WARN = "warn"


@dataclass(frozen=True)
class GateResult:
    """The outcome of one gate; ``observed`` is JSON-able, ``threshold`` a short human string."""

    gate: str
    kind: str
    status: GateStatus
    observed: Any = None
    threshold: str = ""
    message: str = ""
    severity: Severity = Severity.ERROR
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.status is GateStatus.FAIL

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "kind": self.kind,
            "status": self.status.value,
            "severity": self.severity.value,
            "observed": self.observed,
            "threshold": self.threshold,
            "message": self.message,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GateResult:
        return cls(
            gate=d["gate"],
            kind=d["kind"],
            status=GateStatus(d["status"]),
            observed=d.get("observed"),
            threshold=d.get("threshold") or "",
            message=d.get("message") or "",
            severity=Severity(d.get("severity") or "error"),
            details=dict(d.get("details") or {}),
        )


@dataclass(frozen=True)
class PipelineRecord:
    """A promoted pipeline as the store knows it: its spec (as in the YAML) and notebook hash."""

    name: str
    spec: dict[str, Any]
    notebook: str
    notebook_hash: str
    schedule: str | None
    updated: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "spec": dict(self.spec),
            "notebook": self.notebook,
            "notebook_hash": self.notebook_hash,
            "schedule": self.schedule,
            "updated": iso_time(self.updated),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PipelineRecord:
        return cls(
            name=d["name"],
            spec=dict(d["spec"]),
            notebook=d["notebook"],
            notebook_hash=d["notebook_hash"],
            schedule=d.get("schedule"),
            updated=parse_time(d["updated"]) or 0.0,
        )


@dataclass(frozen=True)
class ScheduleEvent:
    """What the scheduler did about one firing: its outcome (passed, gate_failed, failed,
    interrupted), or that it skipped or missed it."""

    pipeline: str
    scheduled_for: float
    outcome: str
    run_id: str | None
    message: str | None
    time: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "scheduled_for": iso_time(self.scheduled_for),
            "outcome": self.outcome,
            "run_id": self.run_id,
            "message": self.message,
            "time": iso_time(self.time),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScheduleEvent:
        return cls(
            pipeline=d["pipeline"],
            scheduled_for=parse_time(d["scheduled_for"]) or 0.0,
            outcome=d["outcome"],
            run_id=d.get("run_id"),
            message=d.get("message"),
            time=parse_time(d["time"]) or 0.0,
        )


class NotificationStatus(str, Enum):
    PENDING = "pending"  # not delivered yet: due at ``next_attempt`` (or being sent)
    DELIVERED = "delivered"
    FAILED = "failed"  # given up on after the outbox's maximum age; ``notify retry`` revives it


@dataclass(frozen=True)
class Notification:
    """One message of the notification outbox, to one target (a webhook URL or a command).
    ``id`` is its idempotency key: every delivery of it carries the same id."""

    id: str
    created: float
    event: str
    channel: str  # webhook | command
    target: str
    payload: dict[str, Any]
    attempts: int
    next_attempt: float
    status: NotificationStatus
    last_error: str | None = None
    delivered: float | None = None
    claimed_by: str | None = None  # the sender delivering it now (or that died doing so)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": iso_time(self.created),
            "event": self.event,
            "channel": self.channel,
            "target": self.target,
            "status": self.status.value,
            "attempts": self.attempts,
            "next_attempt": (
                iso_time(self.next_attempt) if self.status is NotificationStatus.PENDING else None
            ),
            "last_error": self.last_error,
            "delivered": iso_time(self.delivered),
            "claimed_by": self.claimed_by,
            "payload": self.payload,
        }


@dataclass(frozen=True)
class RunRow:
    """One line of a runs listing: the columns of ``runs()`` (``store.rows.RUN_COLUMNS``)
    with the run's params and latest metrics, without the detail of a full :class:`Run`."""

    id: str
    experiment: str
    name: str | None
    status: RunStatus
    kind: RunKind
    parent_id: str | None
    started: float
    duration: float | None
    seed: int | None
    gates: str | None  # passed | failed | warned, None when no gate ran
    model: str | None  # the model version(s) the run registered: "wine@3"
    model_stage: str | None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "experiment": self.experiment,
            "name": self.name,
            "status": self.status.value,
            "kind": self.kind.value,
            "parent_id": self.parent_id,
            "started": iso_time(self.started),
            "duration": self.duration,
            "seed": self.seed,
            "gates": self.gates,
            "model": self.model,
            "model_stage": self.model_stage,
            "params": to_jsonable(self.params, non_finite="null"),
            "metrics": to_jsonable(self.metrics, non_finite="null"),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunRow:
        nan = float("nan")
        return cls(
            id=d["id"],
            experiment=d["experiment"],
            name=d.get("name"),
            status=RunStatus(d["status"]),
            kind=RunKind(d["kind"]),
            parent_id=d.get("parent_id"),
            started=parse_time(d["started"]) or 0.0,
            duration=d.get("duration"),
            seed=d.get("seed"),
            gates=d.get("gates"),
            model=d.get("model"),
            model_stage=d.get("model_stage"),
            params=dict(d.get("params") or {}),
            metrics={k: nan if v is None else v for k, v in (d.get("metrics") or {}).items()},
        )


@dataclass(frozen=True)
class RunsPage:
    """One page of a runs listing; pass ``next_cursor`` back for the next page (None: last)."""

    rows: tuple[RunRow, ...]
    next_cursor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"runs": [r.to_dict() for r in self.rows], "next_cursor": self.next_cursor}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunsPage:
        return cls(tuple(RunRow.from_dict(r) for r in d["runs"]), d.get("next_cursor"))
