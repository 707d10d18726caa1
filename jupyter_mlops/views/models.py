"""The model registry: every model (``GET models``, ``jupyter-mlops models list``) and one
model's versions (with their aliases, tags, description and gate outcome), pin and history
(``GET models/NAME``, ``jupyter-mlops models show NAME``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..codec import utc
from ..entities import GateResult, GateStatus, ModelEvent, ModelPin, ModelStage, ModelVersion
from .monitors import ActionTaken
from .values import View

if TYPE_CHECKING:
    from ..tracking import Tracker


@dataclass(frozen=True)
class ModelSummary(View):
    name: str
    versions: int  # how many
    blessed: int | None  # the blessed version
    pinned: int | None  # the version a rollback or `models pin` holds; None: runs may bless
    latest: ModelVersion


@dataclass(frozen=True)
class Models(View):
    models: tuple[ModelSummary, ...]


@dataclass(frozen=True)
class VersionGates(View):
    """The gates a version was judged by (its pipeline run's): the outcome, the blocking
    failures, and ``failed_text``, the one line a bless of it is refused with
    ("wine@3 failed its gates: metric:accuracy 0.61 (needs >= 0.8)"), None when none failed."""

    version: int
    outcome: str  # passed | failed | warned
    failed: tuple[GateResult, ...]
    failed_text: str | None


@dataclass(frozen=True)
class ModelDetail(View):
    """Versions of a model (all, or the one a ``NAME@VERSION`` or ``NAME@ALIAS`` names) with
    their stages, aliases, tags and description, the gates of the versions that ran some, its
    pin (None when runs may bless), the history of changes and the monitor's actions."""

    name: str
    versions: tuple[ModelVersion, ...]
    gates: tuple[VersionGates, ...]
    pin: ModelPin | None
    events: tuple[ModelEvent, ...]
    monitor_actions: tuple[ActionTaken, ...]


def model_list(tracker: Tracker, clock: Callable[[], float] = time.time) -> Models:
    """One entry per model name: how many versions, the blessed, pinned and latest one."""
    from ..registry import ModelRegistry

    by_name: dict[str, list[ModelVersion]] = {}
    for m in tracker.store.list_models():
        by_name.setdefault(m.name, []).append(m)
    registry = ModelRegistry(tracker.store, clock=clock)
    out = []
    for name, versions in sorted(by_name.items()):
        versions.sort(key=lambda m: m.version)
        blessed = [m.version for m in versions if m.stage is ModelStage.BLESSED]
        pin = registry.pin_of(name)
        out.append(
            ModelSummary(
                name=name,
                versions=len(versions),
                blessed=blessed[-1] if blessed else None,
                pinned=pin.version if pin is not None else None,
                latest=versions[-1],
            )
        )
    return Models(tuple(out))


def model_detail(tracker: Tracker, ref: str, clock: Callable[[], float] = time.time) -> ModelDetail:
    """Model ``ref`` (``NAME`` or ``NAME@VERSION``); raises the registry's "no model named"."""
    from ..monitoring.report import describe_event
    from ..registry import ModelRegistry

    registry = ModelRegistry(tracker.store, clock=clock)
    versions = registry.lookup(ref)
    name = versions[0].name
    actions = tuple(
        ActionTaken.of({**e.detail, "time": utc(e.time), "status": e.status,
                        "description": describe_event(e)})
        for e in tracker.store.monitor_events(name)
        if e.kind == "action"
    )  # fmt: skip
    shown = {m.version for m in versions}
    return ModelDetail(
        name=name,
        versions=tuple(versions),
        gates=tuple(
            _version_gates(name, v, results)
            for v, results in sorted(tracker.store.model_gate_results(name).items())
            if v in shown
        ),
        pin=registry.pin_of(name),
        events=tuple(registry.events(name)),
        monitor_actions=actions,
    )


def _version_gates(name: str, version: int, results: list[GateResult]) -> VersionGates:
    from ..registry import failed_gates_text

    failed = tuple(g for g in results if g.status is GateStatus.FAIL)
    warned = any(g.status is GateStatus.WARN for g in results)
    return VersionGates(
        version=version,
        outcome="failed" if failed else "warned" if warned else "passed",
        failed=failed,
        failed_text=failed_gates_text(f"{name}@{version}", list(failed)) if failed else None,
    )
