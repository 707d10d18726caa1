"""REST handlers that edit what users attach to a model version: its aliases, tags and
description. ``V`` in the path is a version number or an alias (``champion``). Each answers
the version after the change (a ``ModelVersion``); a bad alias, tag or text is a 400, an
unknown model, version, alias or tag a 404."""

from __future__ import annotations

from typing import Any

from .. import bounds, views
from ..exceptions import ValidationError
from .base import MLOpsHandler


def _ref(name: str, version: str) -> str:
    return f"{name}@{version}"


class ModelAliasHandler(MLOpsHandler):
    """``POST models/NAME/versions/V/alias`` ``{"alias": "champion"}``: point the alias at V
    (moving it); with ``"delete": true``, remove it (it must point at V)."""

    fields = ("alias", "delete")

    def act(self, name: str, version: str, body: bounds.Body) -> Any:
        alias = body.text("alias", 200, required=True)
        assert alias is not None
        return views.alias_model(
            self.ctx.tracker(), _ref(name, version), alias, delete=body.flag("delete")
        )


class ModelTagsHandler(MLOpsHandler):
    """``POST models/NAME/versions/V/tags`` ``{"set": {"owner": "ana"}, "delete": ["team"]}``:
    set (add or replace) and delete tags of V."""

    fields = ("set", "delete")

    def act(self, name: str, version: str, body: bounds.Body) -> Any:
        delete = body.get("delete") or []
        if not isinstance(delete, list) or not all(isinstance(k, str) for k in delete):
            raise ValidationError('"delete" must be a list of tag keys, e.g. ["team"]')
        return views.tag_model(self.ctx.tracker(), _ref(name, version), body.mapping("set"), delete)


class ModelDescriptionHandler(MLOpsHandler):
    """``POST models/NAME/versions/V/description`` ``{"description": "…"}``: set V's
    description; empty text clears it."""

    fields = ("description",)

    def act(self, name: str, version: str, body: bounds.Body) -> Any:
        text = body.text("description", 100_000, prose=True)
        return views.describe_model(self.ctx.tracker(), _ref(name, version), text or None)


_ID = r"([^/]+)"

MODEL_ROUTES: list[tuple[str, type[MLOpsHandler]]] = [
    (f"models/{_ID}/versions/{_ID}/alias", ModelAliasHandler),
    (f"models/{_ID}/versions/{_ID}/tags", ModelTagsHandler),
    (f"models/{_ID}/versions/{_ID}/description", ModelDescriptionHandler),
]
