"""The table of gate kinds: a name -> :class:`GateKind` mapping that imports none of the kinds.

Kinds arrive three ways, all on the first lookup (so parsing no gate costs nothing):

- the built-in kinds: the ``KINDS`` mapping of :mod:`.data_checks` and :mod:`.model_checks`;
- third-party kinds, through the ``jupyter_mlops.gate_kinds`` entry-point group, as papermill
  loads engines. An entry point names a :class:`GateKind` (registered under the entry point's
  name) or a module with a ``KINDS`` mapping of name to :class:`GateKind`::

      [project.entry-points."jupyter_mlops.gate_kinds"]
      row_parity = "my_package.gates:ROW_PARITY"

- :func:`register_gate_kind` called at run time; it replaces a kind of the same name.

A plug-in that fails to load is logged and remembered, so that a gate of its kind says why the
kind is missing instead of only "unknown kind". This table and the kinds it holds are the
module-level mutable state of :mod:`jupyter_mlops.validation` ("registry" is the model registry).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the kinds' types, for annotations only: this module imports no kind
    from .gates import GateContext, GateSpec, Outcome

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "jupyter_mlops.gate_kinds"
BUILTIN_MODULES = (
    "jupyter_mlops.validation.data_checks",
    "jupyter_mlops.validation.model_checks",
)

Check = Callable[["GateSpec", "GateContext"], "Outcome"]
Validator = Callable[[Any], "str | None"]  # returns what is wrong, or None


@dataclass(frozen=True)
class GateKind:
    """A registered kind: its check and the fields a gate of this kind may have."""

    check: Check
    fields: Mapping[str, tuple[bool, Validator]]  # name -> (required, validator)
    any_of: tuple[tuple[str, ...], ...] = ()  # each group needs at least one of its fields


class GateKindTable(MutableMapping[str, GateKind]):
    """Gate kinds by name; loads the built-in and plug-in kinds before the first access."""

    def __init__(self) -> None:
        self._kinds: dict[str, GateKind] = {}
        self._state = "new"  # new -> loading -> loaded
        self.load_errors: dict[str, str] = {}  # plug-in name -> why it did not load

    def _ensure_loaded(self) -> None:
        if self._state != "new":
            return
        self._state = "loading"  # a kind module calling register_gate_kind lands here
        try:
            for name in BUILTIN_MODULES:
                self._kinds.update(importlib.import_module(name).KINDS)
            for ep in _entry_points():
                self._load_entry_point(ep)
        finally:
            self._state = "loaded"

    def _load_entry_point(self, ep: Any) -> None:
        try:
            value = ep.load()
        except Exception as e:  # one broken plug-in must not take the other kinds down
            self.load_errors[ep.name] = f"{type(e).__name__}: {e}"
            log.warning("gate kind plug-in %r (%s) failed to load: %s", ep.name, ep.value, e)
            return
        kinds = getattr(value, "KINDS", None) if isinstance(value, ModuleType) else None
        if isinstance(value, GateKind):
            self._kinds[ep.name] = value
        elif isinstance(kinds, Mapping) and all(isinstance(k, GateKind) for k in kinds.values()):
            self._kinds.update(kinds)
        else:
            self.load_errors[ep.name] = (
                f"{ep.value} is a {type(value).__name__}, not a GateKind or a module with KINDS"
            )
            log.warning("gate kind plug-in %r: %s", ep.name, self.load_errors[ep.name])

    def __getitem__(self, name: str) -> GateKind:
        self._ensure_loaded()
        return self._kinds[name]

    def __setitem__(self, name: str, kind: GateKind) -> None:
        self._ensure_loaded()  # so a replacement made before the first lookup is not overwritten
        self._kinds[name] = kind

    def __delitem__(self, name: str) -> None:
        self._ensure_loaded()
        del self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        self._ensure_loaded()
        return iter(self._kinds)

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self._kinds)

    def __repr__(self) -> str:
        return f"GateKindTable({sorted(self)})"


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))


GATE_KINDS = GateKindTable()  # the one piece of module-level mutable state here


def register_gate_kind(name: str, kind: GateKind) -> None:
    """Add (or replace) a gate kind; plug-ins call this at import time."""
    GATE_KINDS[name] = kind
