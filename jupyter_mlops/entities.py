"""Records jupyter-mlops stores and returns: frozen dataclasses and ``str`` enums.

The JSON printed by ``jupyter-mlops show --json`` and served by the REST API is these classes
encoded by :func:`jupyter_mlops.codec.to_jsonable` from their field names (decoded by
:func:`~jupyter_mlops.codec.from_jsonable`); field names are a public contract (documented in
the README), so add, never rename. Times are aware UTC datetimes (ISO-8601 in JSON).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .codec import iso_time, parse_time, to_jsonable  # noqa: F401  (their home before codec)


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


@dataclass(frozen=True, init=False)
class DataRef(Fingerprint):
    """A dataset a run read (input) or produced (output), by the name it had in the run: its
    fingerprint's fields with a role and a name.

    A subclass rather than a ``fingerprint`` field because its JSON (in the store, the journal
    and ``show --json``) has always been flat; msgspec fills the fields without ``__init__``."""

    role: DataRole = DataRole.INPUT
    name: str = ""

    def __init__(self, role: DataRole, name: str, fingerprint: Fingerprint) -> None:
        for f in dataclasses.fields(Fingerprint):
            object.__setattr__(self, f.name, getattr(fingerprint, f.name))
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "name", name)

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint(
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(Fingerprint)}
        )


@dataclass(frozen=True)
class Artifact:
    """A file stored content-addressed under ``artifacts/`` (``uri`` is relative to the store)."""

    name: str
    kind: str  # "file" | "model" | "figure" | "notebook"
    sha256: str
    size: int
    uri: str


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    step: int = 0
    time: dt.datetime | None = None


@dataclass(frozen=True)
class Environment:
    """Python, platform and the versions of the top-level packages a run had imported."""

    id: str
    python: str
    platform: str
    packages: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GitState:
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    diff_hash: str | None = None


@dataclass(frozen=True)
class Run:
    """One tracked execution: a ``%%track`` cell, a pipeline run or a script's ``start_run``."""

    id: str
    experiment: str
    status: RunStatus
    kind: RunKind
    started: dt.datetime
    name: str | None = None
    parent_id: str | None = None
    ended: dt.datetime | None = None
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
    created: dt.datetime
    updated: dt.datetime
    metrics: dict[str, float] = field(default_factory=dict)
    data: tuple[DataRef, ...] = ()
    pipeline: str | None = None
    description: str | None = None
    aliases: tuple[str, ...] = ()  # names that point at this version (``NAME@ALIAS``), sorted
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class ModelPin:
    """A model held at ``version``: automated runs (pipelines, scheduled firings, sweeps)
    register candidates but do not bless, until it is unpinned or ``until`` passes.

    ``origin`` is how it was pinned: ``rollback`` (every rollback pins) or ``pin`` (by hand)."""

    name: str
    version: int
    origin: str
    by: str | None  # who pinned it
    reason: str | None
    since: dt.datetime
    until: dt.datetime | None = None

    def active(self, now: dt.datetime) -> bool:
        return self.until is None or now < self.until

    def describe(self) -> str:
        """``pinned by rollback at v2`` (the words a held bless and ``models show`` use)."""
        return f"pinned by {self.origin} at v{self.version}"


@dataclass(frozen=True)
class ModelEvent:
    name: str
    version: int
    # register | bless | archive | rollback | pin | unpin | held | shadow, and the edits of a
    # version's metadata: alias | unalias | tag | untag | describe (``reason`` says what)
    action: str
    actor: str | None
    reason: str | None
    time: dt.datetime


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


@dataclass(frozen=True)
class PipelineRecord:
    """A promoted pipeline as the store knows it: its spec (as in the YAML) and notebook hash."""

    name: str
    spec: dict[str, Any]
    notebook: str
    notebook_hash: str
    schedule: str | None
    updated: dt.datetime


@dataclass(frozen=True)
class ScheduleEvent:
    """What the scheduler did about one firing: its outcome (passed, gate_failed, failed,
    interrupted), or that it skipped or missed it."""

    pipeline: str
    scheduled_for: dt.datetime
    outcome: str
    run_id: str | None
    message: str | None
    time: dt.datetime


class NotificationStatus(str, Enum):
    PENDING = "pending"  # not delivered yet: due at ``next_attempt`` (or being sent)
    DELIVERED = "delivered"
    FAILED = "failed"  # given up on after the outbox's maximum age; ``notify retry`` revives it


@dataclass(frozen=True)
class Notification:
    """One message of the notification outbox, to one target (a webhook URL or a command).
    ``id`` is its idempotency key: every delivery of it carries the same id."""

    id: str
    created: dt.datetime
    event: str
    channel: str  # webhook | command
    target: str
    payload: dict[str, Any]
    attempts: int
    next_attempt: dt.datetime | None  # None unless pending
    status: NotificationStatus
    last_error: str | None = None
    delivered: dt.datetime | None = None
    claimed_by: str | None = None  # the sender delivering it now (or that died doing so)


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
    started: dt.datetime
    duration: float | None
    seed: int | None
    gates: str | None  # passed | failed | warned, None when no gate ran
    model: str | None  # the model version(s) the run registered: "wine@3"
    model_stage: str | None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunsPage:
    """One page of a runs listing; pass ``next_cursor`` back for the next page (None: last)."""

    runs: tuple[RunRow, ...]
    next_cursor: str | None = None

    @property
    def rows(self) -> tuple[RunRow, ...]:
        return self.runs
