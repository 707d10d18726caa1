"""The model registry: versions, stages, bless and rollback, and loading a model.

A model is loaded only when asked for (``load_model``) and only after its bytes are checked
against the sha256 the registry recorded, so a file swapped in the store is refused. Then the
format decides (``model_format``): a skops file loads if skops trusts its types; a pickle loads
from a local store (its files are the ones this machine wrote), but from a team store (an object
store, a database server) only with ``trust=True`` or from a publisher in ``trusted_publishers``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import time
from collections.abc import Callable
from typing import Any

from . import bounds, model_format
from .codec import utc
from .config import Settings, load_settings
from .entities import GateResult, GateStatus, ModelEvent, ModelPin, ModelVersion, Run
from .exceptions import FailedGatesError, ValidationError
from .model_metadata import check_alias
from .store.handle import StoreHandle
from .store.registry_store import RegistryStore
from .tracking import default_tracker


def split_ref(ref: str) -> tuple[str, int | str | None]:
    """``NAME``, ``NAME@VERSION`` or ``NAME@ALIAS`` -> (name, the version as an int or the
    alias as text, or None); no store is read. An alias can never be read as a version
    (see :mod:`.model_metadata`)."""
    name, sep, after = ref.partition("@")
    if not name or (sep and not after):
        raise ValidationError(
            f"Bad model reference {ref!r}; write NAME, NAME@VERSION or NAME@ALIAS, e.g. churn@3"
            " or churn@champion"
        )
    if not sep:
        return name, None
    if after.isascii() and after.isdigit():
        return name, bounds.parse_int(after, f"the version in {ref!r}", 1, bounds.MAX_VERSION)
    try:
        return name, check_alias(after)
    except ValidationError as e:
        raise ValidationError(f"Bad model reference {ref!r}: {e}") from None


def parse_ref(ref: str, store: RegistryStore | None = None) -> tuple[str, int | None]:
    """``NAME``, ``NAME@VERSION`` or ``NAME@ALIAS`` -> (name, version or None); an alias is
    looked up in ``store`` (without one, an alias is refused)."""
    name, version = split_ref(ref)
    if isinstance(version, str):
        if store is None:
            raise ValidationError(f"{ref!r} names an alias; give NAME@VERSION here")
        return name, store.resolve_model_alias(name, version)
    return name, version


def failed_gates_text(ref: str, failed: list[GateResult]) -> str:
    """``wine@3 failed its gates: metric:accuracy 0.61 (needs >= 0.8)``: one line."""
    parts = []
    for g in failed:
        seen = g.observed
        shown = (
            f"{seen:.4g}"
            if isinstance(seen, float)
            else g.message or ("" if seen is None else str(seen))
        )
        needs = f" (needs {g.threshold})" if g.threshold else ""
        parts.append(f"{g.gate} {shown}".rstrip() + needs)
    return f"{ref} failed its gates: " + "; ".join(parts)


def _actor() -> str:
    try:
        return os.environ.get("JUPYTER_MLOPS_USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def current_actor() -> str:
    """Who acts, as model events record it (``JUPYTER_MLOPS_USER``, else the login)."""
    return _actor()


def is_team_store(store: StoreHandle) -> bool:
    """Whether others can write this store's artifacts: blobs in an object store, or rows on a
    database server (whose artifact rows anyone with access can point anywhere)."""
    dialect = getattr(store, "dialect", None)
    return not store.artifacts.is_local or getattr(dialect, "name", "sqlite") != "sqlite"


def parse_until(text: str, now: float) -> float:
    """``--until``: a duration from ``now`` (``2h``, ``3d``) or an ISO 8601 time, as epoch
    seconds; a time not after ``now`` is refused."""
    from .cron import parse_duration

    try:
        until = now + parse_duration(text)
    except ValidationError:
        try:
            when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"Invalid --until {text!r}: give a duration (e.g. 3d, 12h) or an ISO 8601 time "
                "(e.g. 2026-12-24T00:00Z)"
            ) from None
        until = (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp()
    if until <= now:
        raise ValidationError(f"Invalid --until {text!r}: not in the future; give a later time")
    return until


class ModelRegistry:
    """Versions, stages and pins of models. ``clock`` (epoch seconds) is when a pin's expiry is
    evaluated and when a new pin starts: injected by the scheduler and by tests."""

    def __init__(
        self,
        store: RegistryStore | None = None,
        settings: Settings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # None is for scripts and notebooks (the default tracker's store); front-ends and the
        # runner pass the store they work on.
        if store is None:
            tracker = default_tracker()
            store, settings = tracker.store, settings or tracker.settings
        self.store: RegistryStore = store
        self._settings = settings
        self.clock = clock

    def versions(self, name: str | None = None) -> list[ModelVersion]:
        """Registered versions of ``name`` (of every model when None)."""
        return self.store.list_models(name)

    def resolve(self, ref: str) -> tuple[str, int | None]:
        """``NAME[@VERSION|@ALIAS]`` -> (name, version or None), an alias looked up."""
        return parse_ref(ref, self.store)

    def get(self, ref: str) -> ModelVersion:
        name, version = self.resolve(ref)
        return self.store.get_model(name, version)

    def lookup(self, ref: str) -> list[ModelVersion]:
        """``NAME@V`` (or ``NAME@ALIAS``): that version; ``NAME``: every version of it, oldest
        first. Raises ModelNotFoundError when there is none."""
        name, version = self.resolve(ref)
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

    def bless(
        self,
        ref: str,
        reason: str | None = None,
        *,
        force: bool = False,
        override_gates: bool = False,
    ) -> ModelVersion:
        """Bless ``NAME@V`` by hand. A pinned model is refused (ModelPinnedError, one line
        saying how to unpin) unless ``force``, which blesses and moves the pin to ``V``. A
        version whose gates failed is refused (FailedGatesError) unless ``override_gates``
        with a ``reason``; the failed gates are then recorded with the reason."""
        name, version = self.resolve(ref)
        if version is None:
            raise ValidationError(
                f"Say which version to bless, e.g. {name}@3; see `jupyter-mlops models show {name}`"
            )
        reason = self._checked_gates(name, version, reason, override_gates)
        return self.store.bless_model(
            name, version, _actor(), reason, force=force, now=self.clock()
        )

    def _checked_gates(
        self, name: str, version: int, reason: str | None, override_gates: bool
    ) -> str | None:
        """The reason to record for blessing ``name@version`` by hand (``bless``, or ``pin``
        with a version): a version whose gates failed is refused unless overridden, with a
        reason that then also records the failures."""
        failed = self.failed_gates(name, version)
        if not failed:
            return reason
        text = failed_gates_text(f"{name}@{version}", failed)
        if not override_gates:
            raise FailedGatesError(
                f"{text}; to bless it anyway, give --override-gates and a --reason "
                '(REST: "override_gates": true and a "reason")',
                failed,
            )
        if not (reason or "").strip():
            raise ValidationError(
                f'{text}; say why you bless it anyway with --reason (REST: "reason")'
            )
        return f"{reason} [gates overridden: {text}]"

    def failed_gates(self, name: str, version: int) -> list[GateResult]:
        """The blocking gates ``name@version`` failed (none: it passed, or ran no gates)."""
        results = self.store.model_gate_results(name).get(version, [])
        return [g for g in results if g.status is GateStatus.FAIL]

    def set_alias(self, ref: str, alias: str) -> ModelVersion:
        """Point ``alias`` at the version ``ref`` names (``NAME@V`` or ``NAME@OTHER_ALIAS``)."""
        name, version = self._version_of(ref, "alias")
        return self.store.set_model_alias(name, alias, version, _actor())

    def delete_alias(self, ref: str, alias: str) -> int:
        """Remove ``alias`` of model ``ref`` (``NAME``, or ``NAME@V`` to check it names V);
        returns the version it named."""
        name, version = self.resolve(ref)
        return self.store.delete_model_alias(name, alias, _actor(), version)

    def set_tags(self, ref: str, tags: dict[str, str]) -> ModelVersion:
        name, version = self._version_of(ref, "tag")
        return self.store.set_model_tags(name, version, tags, _actor())

    def delete_tags(self, ref: str, keys: list[str]) -> ModelVersion:
        name, version = self._version_of(ref, "untag")
        return self.store.delete_model_tags(name, version, keys, _actor())

    def describe(self, ref: str, text: str | None) -> ModelVersion:
        """Set the description of ``NAME@V``; empty text clears it."""
        name, version = self._version_of(ref, "describe")
        return self.store.set_model_description(name, version, text, _actor())

    def _version_of(self, ref: str, what: str) -> tuple[str, int]:
        name, version = self.resolve(ref)
        if version is None:
            raise ValidationError(f"Say which version to {what}, e.g. {name}@3")
        return name, version

    def offer(self, mv: ModelVersion, reason: str | None = None) -> ModelPin | None:
        """An automated bless (a pipeline run that passed its gates): blesses ``mv`` unless
        the model is pinned; then ``mv`` stays a candidate and the pin is returned."""
        return self.store.offer_model(mv.name, mv.version, _actor(), reason, now=self.clock())

    def shadow(self, ref: str, reason: str | None = None) -> ModelVersion:
        """Put ``NAME@V`` in stage ``shadow``: ``mlops.predict`` scores production rows with it
        and records its predictions (never returned), so it can be compared before blessing."""
        name, version = self._version_of(ref, "shadow")
        return self.store.set_model_stage(name, version, "shadow", _actor(), reason)

    def rollback(
        self,
        name: str,
        to: int | None = None,
        reason: str | None = None,
        until: float | None = None,
    ) -> tuple[ModelVersion, ModelVersion]:
        """Re-bless the previous version (or ``to``) and pin the model there: automated runs
        register candidates until :meth:`unpin` (or ``until``). Returns (archived, blessed)."""
        return self.store.rollback_model(name, to, _actor(), reason, until=until, now=self.clock())

    def pin(
        self,
        name: str,
        version: int | None = None,
        reason: str | None = None,
        until: float | None = None,
        *,
        override_gates: bool = False,
    ) -> ModelPin:
        """Pin ``name`` at its blessed version (or bless ``version`` and pin it) until
        unpinned or ``until``: automated runs then register candidates only. Blessing a
        version that way follows ``bless``'s rule for a version whose gates failed."""
        if version is not None:
            reason = self._checked_gates(name, version, reason, override_gates)
        return self.store.pin_model(name, version, _actor(), reason, until=until, now=self.clock())

    def unpin(self, name: str, reason: str | None = None) -> ModelPin | None:
        """Remove the pin of ``name``; the pin removed, or None when there was none."""
        return self.store.unpin_model(name, _actor(), reason)

    def pin_of(self, name: str) -> ModelPin | None:
        """The pin holding ``name`` now (an expired one is no pin)."""
        pin = self.store.model_pin(name)
        return pin if pin is not None and pin.active(utc(self.clock())) else None

    def load(self, ref: str, *, trust: bool = False) -> Any:
        return self.load_version(self.get(ref), trust=trust)

    def publisher(self, mv: ModelVersion) -> str | None:
        """Who registered ``mv`` (the actor of its ``register`` event)."""
        return next(
            (
                e.actor
                for e in self.store.model_events(mv.name)
                if e.version == mv.version and e.action == "register"
            ),
            None,
        )

    def load_version(self, mv: ModelVersion, *, trust: bool = False) -> Any:
        """The model of ``mv``: hash-checked, then loaded if its format and source allow it
        (see the module docstring); UntrustedModelError says how to allow it otherwise."""
        data = self.store.artifacts.read_bytes(mv.artifact_uri, mv.artifact_sha)
        trusted = trust or not is_team_store(self.store)
        publisher = None
        if not trusted:
            # The recorded actor is what the publisher's machine said (JUPYTER_MLOPS_USER or the
            # login): an allow-list spares trusted colleagues the flag; it is not authentication.
            publisher = self.publisher(mv)
            settings = self._settings or load_settings()
            trusted = publisher is not None and publisher in settings.trusted_publishers
        by = f" (published by {publisher})" if publisher else ""
        return model_format.loads(
            data,
            what=f"model {mv.ref}{by}",
            trusted=trusted,
            how_to_trust=(
                f"load it with mlops.load_model({mv.name!r}, {mv.version}, trust=True) or add "
                "its publisher to trusted_publishers in [tool.jupyter_mlops]"
            ),
        )


def load_model(name: str, version: int | str | None = None, *, trust: bool = False) -> Any:
    """The blessed version of ``name`` (or ``version``: a number or an alias; ``name`` may be
    ``NAME@VERSION`` or ``NAME@ALIAS`` too). ``trust=True`` vouches for a model whose loading
    may run code (see the module docstring)."""
    registry = ModelRegistry()
    if version is not None:
        name = f"{name}@{version}"
    return registry.load_version(registry.get(name), trust=trust)


def load_run_artifact(store: StoreHandle, run: Run, name: str, kind: str) -> Any:
    """Load an artifact our own run wrote (validation data, its candidate model), hash-checked.

    Trusted whatever the store: the sha256 checked here is the one the pipeline's own run
    recorded moments ago, so these are the bytes its kernel wrote, not a colleague's upload."""
    art = next((a for a in run.artifacts if a.name == name and a.kind == kind), None)
    if art is None:
        return None
    data = store.artifacts.read_bytes(art.uri, art.sha256)
    return model_format.loads(
        data, what=f"artifact {name!r} of run {run.short_id}", trusted=True, how_to_trust=""
    )
