"""The model registry: versions, stages, bless and rollback, and loading a model.

Models are pickles that *our own* runs wrote into the store's content-addressed artifacts; a
model is unpickled only when asked for (``load_model``) and only after its bytes are checked
against the sha256 the registry recorded, so a file swapped in the store is refused.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import pickle
from typing import Any

from .entities import ModelEvent, ModelVersion, Run
from .exceptions import StoreError, ValidationError
from .store.base import RunStore
from .tracking import default_tracker


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``name`` or ``name@version`` -> (name, version or None)."""
    name, sep, version = ref.partition("@")
    if not name or (sep and not version.isdigit()):
        raise ValidationError(
            f"Bad model reference {ref!r}; write NAME or NAME@VERSION, e.g. churn@3"
        )
    return name, int(version) if sep else None


def _actor() -> str:
    try:
        return os.environ.get("JUPYTER_MLOPS_USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


class ModelRegistry:
    def __init__(self, store: RunStore | None = None) -> None:
        # None is for scripts and notebooks (the default tracker's store); front-ends and the
        # runner pass the store they work on.
        self.store: RunStore = store or default_tracker().store

    def versions(self, name: str | None = None) -> list[ModelVersion]:
        """Registered versions of ``name`` (of every model when None)."""
        return self.store.list_models(name)

    def get(self, ref: str) -> ModelVersion:
        name, version = parse_ref(ref)
        return self.store.get_model(name, version)

    def lookup(self, ref: str) -> list[ModelVersion]:
        """``NAME@V``: that version; ``NAME``: every version of it, oldest first. Raises
        ModelNotFoundError when there is none."""
        name, version = parse_ref(ref)
        if version is not None:
            return [self.store.get_model(name, version)]
        versions = self.store.list_models(name)
        if not versions:
            self.store.get_model(name)  # raises the store's "no model named" error
        return versions

    def events(self, name: str) -> list[ModelEvent]:
        return self.store.model_events(name)

    def register(
        self, name: str, run: Run, artifact_name: str, pipeline: str | None = None
    ) -> ModelVersion:
        """Register the model artifact ``artifact_name`` of ``run`` as a new candidate."""
        art = next(
            (a for a in run.artifacts if a.name == artifact_name and a.kind == "model"), None
        )
        if art is None:
            raise ValidationError(f"Run {run.short_id} logged no model named {artifact_name!r}")
        return self.store.register_model(
            name,
            run.id,
            art.uri,
            art.sha256,
            art.size,
            dict(run.metrics),
            list(run.inputs),
            pipeline,
            _actor(),
        )

    def bless(self, ref: str, reason: str | None = None) -> ModelVersion:
        name, version = parse_ref(ref)
        if version is None:
            raise ValidationError(
                f"Say which version to bless, e.g. {name}@3; see `jupyter-mlops models show {name}`"
            )
        return self.store.bless_model(name, version, _actor(), reason)

    def shadow(self, ref: str, reason: str | None = None) -> ModelVersion:
        """Put ``NAME@V`` in stage ``shadow``: ``mlops.predict`` scores production rows with it
        and records its predictions (never returned), so it can be compared before blessing."""
        name, version = parse_ref(ref)
        if version is None:
            raise ValidationError(f"Say which version to shadow, e.g. {name}@3")
        return self.store.set_model_stage(name, version, "shadow", _actor(), reason)

    def rollback(
        self, name: str, to: int | None = None, reason: str | None = None
    ) -> tuple[ModelVersion, ModelVersion]:
        return self.store.rollback_model(name, to, _actor(), reason)

    def load(self, ref: str) -> Any:
        return self.load_version(self.get(ref))

    def load_version(self, mv: ModelVersion) -> Any:
        path = self.store.artifacts.resolve(mv.artifact_uri)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise StoreError(
                f"The artifact of {mv.ref} is missing from the store ({path}): "
                f"{e.strerror}; it cannot be loaded"
            ) from e
        if hashlib.sha256(data).hexdigest() != mv.artifact_sha:
            raise StoreError(
                f"The artifact of {mv.ref} does not match its recorded sha256; "
                "refusing to unpickle it"
            )
        return pickle.loads(data)  # our own artifact, hash-checked above


def load_model(name: str, version: int | None = None) -> Any:
    """The blessed version of ``name`` (or ``version``), unpickled."""
    registry = ModelRegistry()
    return registry.load_version(registry.store.get_model(name, version))


def load_run_artifact(store: RunStore, run: Run, name: str, kind: str) -> Any:
    """Unpickle an artifact our own run wrote (validation data, models), hash-checked."""
    art = next((a for a in run.artifacts if a.name == name and a.kind == kind), None)
    if art is None:
        return None
    data = store.artifacts.resolve(art.uri).read_bytes()
    if hashlib.sha256(data).hexdigest() != art.sha256:
        raise StoreError(f"Artifact {name!r} of run {run.short_id} does not match its sha256")
    return pickle.loads(data)  # our own artifact, hash-checked above
