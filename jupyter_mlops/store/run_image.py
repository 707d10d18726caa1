"""A run as it will be stored, folded from its start and updates by the store's own rules, so
a front-end can show it without reading it back."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..codec import to_jsonable, utc
from ..entities import Artifact, DataRef, GitState, Run, RunStatus
from .base import RunStart, RunUpdate
from .rows import supersedes


def _as_stored(value: Any) -> Any:
    """A param value as reading it back from the store gives it (tuples become lists …)."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    return to_jsonable(value, fallback=str)


@dataclass
class RunImage:
    """A run folded from its start and every update, by the store's own rules: one value per
    param/tag key and per data (role, name) and artifact name, the last one winning; the latest
    metric is the highest step, then the newest time; listed in the order the store lists them."""

    start: RunStart
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # step, t, value
    tags: dict[str, str] = field(default_factory=dict)
    data: dict[tuple[str, str], DataRef] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    code: str | None = None
    code_sha: str | None = None
    history: list[str] | None = None
    environment_id: str | None = None
    git: GitState | None = None
    peak_memory: int | None = None
    stdout_tail: str | None = None
    status: RunStatus = RunStatus.RUNNING
    ended: float | None = None
    duration: float | None = None
    error: str | None = None

    def fold(self, u: RunUpdate, code_texts: dict[str, str] | None = None) -> None:
        self.params.update({k: _as_stored(v) for k, v in u.params.items()})
        for key, value, step, t in u.metrics:
            old = self.metrics.get(key)
            if supersedes((step, t), None if old is None else old[:2]):
                self.metrics[key] = (step, t, value)
        self.tags.update({k: str(v) for k, v in u.tags.items()})
        for d in u.data:
            self.data[(d.role.value, d.name)] = d
        for a in u.artifacts:
            self.artifacts[a.name] = a
        if u.warnings:
            self.warnings += [w for w in u.warnings if w not in self.warnings]
        if u.code_sha is not None:
            self.code_sha = u.code_sha
            texts = {**(code_texts or {}), **u.code}
            self.code = texts.get(u.code_sha, self.code)
        if u.history is not None:
            self.history = list(u.history)
        if u.environment is not None:
            self.environment_id = u.environment.id
        for name in ("git", "peak_memory", "stdout_tail"):
            if getattr(u, name) is not None:
                setattr(self, name, getattr(u, name))
        if u.status is not None:
            self.status, self.ended, self.duration, self.error = (
                u.status,
                u.ended,
                u.duration,
                u.error,
            )

    def copy(self) -> RunImage:
        return replace(
            self,
            params=dict(self.params),
            metrics=dict(self.metrics),
            tags=dict(self.tags),
            data=dict(self.data),
            artifacts=dict(self.artifacts),
            warnings=list(self.warnings),
        )

    def to_run(self) -> Run:
        s = self.start
        return Run(
            id=s.id,
            experiment=s.experiment,
            status=self.status,
            kind=s.kind,
            started=utc(s.started),
            name=s.name,
            parent_id=s.parent_id,
            ended=utc(self.ended),
            duration=self.duration,
            seed=s.seed,
            notebook=s.notebook,
            execution_count=s.execution_count,
            code=self.code,
            history=tuple(self.history or ()),
            peak_memory=self.peak_memory,
            git=self.git or GitState(),
            environment_id=self.environment_id,
            error=self.error,
            stdout_tail=self.stdout_tail,
            host=s.host,
            pid=s.pid,
            params=dict(sorted(self.params.items())),
            metrics={k: float(v[2]) for k, v in sorted(self.metrics.items())},
            tags=dict(sorted(self.tags.items())),
            data=tuple(v for _k, v in sorted(self.data.items())),
            artifacts=tuple(v for _k, v in sorted(self.artifacts.items())),
            warnings=tuple(self.warnings),
        )
