"""The models a server serves, followed in the store: a bless, a rollback, a shadow or a canary
step takes effect without a restart.

The request path reads this table in memory (no store read per request). A background task
calls :meth:`ModelTable.poll` about once a second: one cheap read of the store's change marks
(:mod:`jupyter_mlops.store.sql_changes`); only when the models' mark moved are the versions
listed again, and a newly blessed version is loaded before it is served, so its first request
does not pay for the unpickling.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from ..entities import ModelStage, ModelVersion
from ..monitoring.recording import load
from ..store.base import RunStore
from ..validation.contract import forget_contract
from .errors import NotServedError, UnknownModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    """One model as served now: its versions (oldest first) and the blessed one, if any."""

    name: str
    versions: tuple[ModelVersion, ...]

    @property
    def blessed(self) -> ModelVersion | None:
        return next((m for m in self.versions if m.stage is ModelStage.BLESSED), None)

    def version(self, number: int) -> ModelVersion:
        found = next((m for m in self.versions if m.version == number), None)
        if found is None:
            raise UnknownModelError(f"Model {self.name!r} has no version {number}")
        return found


class ModelTable:
    """The served models of ``store``: ``names``, or (none given) every model with a blessed
    version, models blessed later included."""

    def __init__(self, store: RunStore, names: tuple[str, ...] = ()) -> None:
        self.store = store
        self.names = names
        self._models: dict[str, Served] = {}
        self._mark: Any = None
        self._lock = threading.Lock()
        self.ready = False
        self.reloads = 0

    def get(self, name: str) -> Served:
        served = self._models.get(name)
        if served is None:
            listing = ", ".join(sorted(self._models)) or "none"
            raise UnknownModelError(
                f"No model {name[:120]!r} is served here (served: {listing}); see GET /models"
            )
        return served

    def version(self, name: str, number: int) -> ModelVersion:
        """``name@number``; a version the table does not know yet (routing read the store
        after a bless or a canary step the poll has not seen) reloads the table once."""
        try:
            return self.get(name).version(number)
        except UnknownModelError:
            self.refresh()
            return self.get(name).version(number)

    def blessed(self, name: str) -> ModelVersion:
        mv = self.get(name).blessed
        if mv is None:
            raise NotServedError(
                f"Model {name!r} has no blessed version; bless one with "
                f"`jupyter-mlops models bless {name}@VERSION`"
            )
        return mv

    def served_names(self) -> frozenset[str]:
        return frozenset(self._models)

    def models(self) -> list[Served]:
        return [self._models[n] for n in sorted(self._models)]

    def poll(self) -> bool:
        """Reload the versions if the store's models changed since the last look; True if so."""
        mark = self.store.change_marks()["models"]
        if mark == self._mark:
            return False
        self.refresh(mark)
        return True

    def refresh(self, mark: Any = None) -> None:
        """Read every served model's versions and load the blessed ones not yet loaded."""
        with self._lock:
            if mark is None:
                mark = self.store.change_marks()["models"]
            by_name: dict[str, list[ModelVersion]] = {}
            for mv in self.store.list_models():
                if not self.names or mv.name in self.names:
                    by_name.setdefault(mv.name, []).append(mv)
            table = {
                name: Served(name, tuple(sorted(found, key=lambda m: m.version)))
                for name, found in by_name.items()
                if self.names or any(m.stage is ModelStage.BLESSED for m in found)
            }
            for served in table.values():
                for mv in served.versions:  # a policy or signature may have changed with them
                    forget_contract(self.store, mv.name, mv.version)
                self._preload(served)
            self._models, self._mark = table, mark
            self.ready = True
            self.reloads += 1

    def _preload(self, served: Served) -> None:
        for mv in served.versions:
            if mv.stage in (ModelStage.BLESSED, ModelStage.SHADOW):
                try:
                    load(self.store, mv)
                except Exception:  # an unloadable version fails its own requests, not the server
                    log.exception("could not load %s", mv.ref)

    def missing(self) -> list[str]:
        """Names asked for that are not registered (``/ready`` reports them)."""
        return [n for n in self.names if n not in self._models]
