"""The model registry role of a store: model versions, their stages, pins and events."""

from __future__ import annotations

import abc
from collections.abc import Iterable

from ..entities import DataRef, GateResult, ModelEvent, ModelPin, ModelVersion
from .handle import StoreHandle


class RegistryStore(StoreHandle):
    """Where model versions live: registered from runs, blessed, staged, pinned and rolled
    back, each change an event (as MLflow keeps its registry store beside its tracking store).
    """

    @abc.abstractmethod
    def register_model(
        self,
        name: str,
        run_id: str,
        artifact_uri: str,
        artifact_sha: str,
        size: int,
        metrics: dict[str, float],
        data: list[DataRef],
        pipeline: str | None,
        actor: str | None = None,
    ) -> ModelVersion: ...

    @abc.abstractmethod
    def get_model(self, name: str, version: int | None = None) -> ModelVersion:
        """A version, or the blessed one when ``version`` is None; ModelNotFoundError."""

    @abc.abstractmethod
    def list_models(self, name: str | None = None) -> list[ModelVersion]: ...

    @abc.abstractmethod
    def model_events(self, name: str) -> list[ModelEvent]: ...

    @abc.abstractmethod
    def bless_model(
        self,
        name: str,
        version: int,
        actor: str | None = None,
        reason: str | None = None,
        action: str = "bless",
        *,
        force: bool = False,
        now: float | None = None,
    ) -> ModelVersion:
        """Bless ``name@version`` and archive the previously blessed version, atomically;
        ModelPinnedError if the model is pinned at ``now``, unless ``force`` (the pin moves)."""

    @abc.abstractmethod
    def offer_model(
        self,
        name: str,
        version: int,
        actor: str | None = None,
        reason: str | None = None,
        now: float | None = None,
    ) -> ModelPin | None:
        """Bless unless pinned (atomically); when pinned, record a ``held`` event and return
        the pin."""

    @abc.abstractmethod
    def rollback_model(
        self,
        name: str,
        to: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        *,
        until: float | None = None,
        now: float | None = None,
    ) -> tuple[ModelVersion, ModelVersion]:
        """Re-bless the previous (or ``to``) version and pin it; returns (old, new)."""

    @abc.abstractmethod
    def pin_model(
        self,
        name: str,
        version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        *,
        until: float | None = None,
        now: float | None = None,
    ) -> ModelPin: ...

    @abc.abstractmethod
    def unpin_model(
        self, name: str, actor: str | None = None, reason: str | None = None
    ) -> ModelPin | None: ...

    @abc.abstractmethod
    def model_pin(self, name: str) -> ModelPin | None:
        """The pin of ``name``, expired or not; None when it has none."""

    @abc.abstractmethod
    def set_model_stage(
        self,
        name: str,
        version: int,
        stage: str,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelVersion:
        """Move ``name@version`` to ``stage`` (``shadow`` or ``candidate``), with an event."""

    # -- what users attach to a version (rules: jupyter_mlops.model_metadata) --------------------
    @abc.abstractmethod
    def resolve_model_alias(self, name: str, alias: str) -> int:
        """The version ``name@alias`` points at; ModelNotFoundError when there is none."""

    @abc.abstractmethod
    def set_model_alias(
        self, name: str, alias: str, version: int, actor: str | None = None
    ) -> ModelVersion:
        """Point ``name@alias`` at ``version`` (moving it), with an ``alias`` event."""

    @abc.abstractmethod
    def delete_model_alias(
        self, name: str, alias: str, actor: str | None = None, version: int | None = None
    ) -> int:
        """Remove ``name@alias`` (an ``unalias`` event); the version it named."""

    @abc.abstractmethod
    def set_model_tags(
        self, name: str, version: int, tags: dict[str, str], actor: str | None = None
    ) -> ModelVersion: ...

    @abc.abstractmethod
    def delete_model_tags(
        self, name: str, version: int, keys: Iterable[str], actor: str | None = None
    ) -> ModelVersion: ...

    @abc.abstractmethod
    def set_model_description(
        self, name: str, version: int, text: str | None, actor: str | None = None
    ) -> ModelVersion: ...

    @abc.abstractmethod
    def model_gate_results(self, name: str) -> dict[int, list[GateResult]]:
        """The gate results each version of ``name`` was judged by (absent: no gates ran)."""
