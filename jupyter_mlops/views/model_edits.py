"""Edits of what users attach to a model version: its aliases, tags and description
(``POST models/NAME/versions/V/alias|tags|description``, ``jupyter-mlops models alias | tag |
describe``). ``V`` (and the version in ``NAME@V``) may be an alias. Each returns the version as
it is after the change; the rules of the values are :mod:`jupyter_mlops.model_metadata`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ..entities import ModelVersion

if TYPE_CHECKING:
    from ..tracking import Tracker


def alias_model(tracker: Tracker, ref: str, alias: str, *, delete: bool = False) -> ModelVersion:
    """Point ``alias`` at the version ``ref`` names (moving it); with ``delete``, remove it
    (``ref`` may then be ``NAME``) and return the version it named."""
    from ..registry import ModelRegistry

    registry = ModelRegistry(tracker.store)
    if not delete:
        return registry.set_alias(ref, alias)
    name = registry.resolve(ref)[0]
    return tracker.store.get_model(name, registry.delete_alias(ref, alias))


def tag_model(
    tracker: Tracker,
    ref: str,
    set_tags: Mapping[str, str] | None = None,
    delete: Iterable[str] = (),
) -> ModelVersion:
    """Set ``set_tags`` and delete the tags ``delete`` of the version ``ref`` names."""
    from ..exceptions import ValidationError
    from ..registry import ModelRegistry

    registry = ModelRegistry(tracker.store)
    keys = list(delete)
    if not set_tags and not keys:
        raise ValidationError("Give tags to set (KEY=VALUE) or keys to delete (--delete KEY)")
    mv = registry.set_tags(ref, dict(set_tags)) if set_tags else registry.get(ref)
    return registry.delete_tags(mv.ref, keys) if keys else mv


def describe_model(tracker: Tracker, ref: str, text: str | None) -> ModelVersion:
    """Set the description of the version ``ref`` names; empty text clears it."""
    from ..registry import ModelRegistry

    return ModelRegistry(tracker.store).describe(ref, text)
