"""What every view value shares: frozen dataclasses whose JSON is their fields, encoded by the
package's one cleaner (:func:`jupyter_mlops.entities.to_jsonable`)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .. import entities


def to_jsonable(value: Any) -> Any:
    """Strict JSON for HTTP and scripts: the package's one cleaner, NaN/inf as null."""
    return entities.to_jsonable(value, non_finite="null", fallback=str)


def encode(value: Any, indent: int | None = None) -> str:
    """``value`` as JSON text: the REST body and what ``jupyter-mlops … --json`` prints."""
    return json.dumps(to_jsonable(value), indent=indent)


@dataclasses.dataclass(frozen=True)
class View:
    """A value a front-end renders. Its JSON is its fields by name (nested values, entities
    included, by their own ``to_dict``), so the JSON Schema of the class is the REST body's."""

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose: to_jsonable recurses and calls each nested value's to_dict.
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
