"""The JSON Schema of the REST bodies, from the view values themselves (msgspec reads their
dataclass fields and enums), for the panel's TypeScript types: ``labextension``'s
``build:types`` runs ``python -m jupyter_mlops.views.schema`` and json-schema-to-typescript
over its output into ``src/types.ts``. A status or stage added in Python thus reaches the
panel's types at the next build, and tests/test_view_types.py fails while the committed file
lags behind."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

import msgspec

from .. import entities
from ..schedule.scheduler import SchedulerStatus
from ..store.info import StoreInfo
from . import (
    actions,
    artifacts,
    changes,
    compare,
    curves,
    deployments,
    detail,
    models,
    monitors,
    pipelines,
    runs,
    status,
    tables,
)

# Each REST body by the name the panel knows it by (``GET runs`` → RunsPage …).
BODIES: tuple[type, ...] = (
    runs.RunsPage,
    detail.RunDetail,
    detail.MetricSeries,
    detail.OutputNotebook,
    artifacts.ArtifactPreview,
    tables.ArtifactTable,
    curves.RunCurves,
    curves.CurveOverlay,
    compare.Comparison,
    compare.Experiments,
    pipelines.Pipelines,
    pipelines.PipelineDetail,
    actions.Launch,
    actions.Promoted,
    models.Models,
    models.ModelDetail,
    entities.ModelVersion,
    actions.RolledBack,
    actions.Unpinned,
    monitors.Monitors,
    monitors.MonitorReport,
    monitors.MonitorSeries,
    status.Status,
    StoreInfo,
    SchedulerStatus,
    status.Notifications,
    changes.Changes,
    deployments.Deployment,
)

# Fields the entities keep as epoch seconds and their to_dict writes as ISO-8601 text. Until
# the entities hold aware datetimes themselves (issue 18, item 3), the schema says what the
# JSON carries; a field already typed as a datetime is left as msgspec describes it.
ISO_TIME_FIELDS: dict[type, tuple[str, ...]] = {
    entities.Run: ("started", "ended"),
    entities.RunRow: ("started",),
    entities.ModelVersion: ("created", "updated"),
    entities.ModelPin: ("since", "until"),
    entities.ModelEvent: ("time",),
    entities.ScheduleEvent: ("scheduled_for", "time"),
    entities.Notification: ("created", "next_attempt", "delivered"),
}
_TIME = {"type": "string", "format": "date-time"}
# Every to_dict writes each field, defaults included, so each is required; these leave a field
# out when it is None (a computed parameter has no type; a listed run no gate results).
OMITTED_WHEN_NONE: dict[str, tuple[str, ...]] = {
    "ParameterInfo": ("help", "type", "expression"),
    "PipelineRun": ("gate_results",),
}


def _classes(types: tuple[type, ...]) -> dict[str, type]:
    """Every dataclass reachable from ``types`` through field annotations, by name."""
    import typing

    found: dict[str, type] = {}

    def walk(t: Any) -> None:
        if dataclasses.is_dataclass(t) and isinstance(t, type):
            if t.__name__ in found:
                return
            found[t.__name__] = t
            for hint in typing.get_type_hints(t).values():
                walk(hint)
        for arg in typing.get_args(t):
            walk(arg)

    for t in types:
        walk(t)
    return found


def _as_time(prop: dict[str, Any]) -> dict[str, Any]:
    if prop.get("type") == "number":
        return dict(_TIME)
    if "anyOf" in prop:
        return {**prop, "anyOf": [_as_time(p) for p in prop["anyOf"]]}
    return prop


def _nan_as_null(prop: dict[str, Any]) -> None:
    """A map of floats (metrics) may hold NaN, which the encoder writes as null."""
    if prop.get("type") == "object" and prop.get("additionalProperties") == {"type": "number"}:
        prop["additionalProperties"] = {"anyOf": [{"type": "number"}, {"type": "null"}]}


def _retime(components: dict[str, Any], classes: dict[str, type]) -> None:
    for name, schema in components.items():
        cls = classes.get(name)
        for base, names in ISO_TIME_FIELDS.items():
            if cls is not None and issubclass(cls, base):
                props = schema.get("properties", {})
                for field in names:
                    if field in props:
                        props[field] = _as_time(props[field])


def _as_written(components: dict[str, Any]) -> None:
    """Where an entity's to_dict writes other names than its fields (until the entities encode
    themselves, issue 18 item 3): a DataRef's fingerprint is inlined, a pin's actor is "by"."""
    ref, fp = components.get("DataRef"), components.pop("Fingerprint", None)
    if ref is not None and fp is not None and "fingerprint" in ref["properties"]:
        del ref["properties"]["fingerprint"]
        ref["properties"].update(fp["properties"])
    pin = components.get("ModelPin")
    if pin is not None and "actor" in pin["properties"]:
        props = pin["properties"]
        pin["properties"] = {("by" if k == "actor" else k): v for k, v in props.items()}


def json_schema() -> dict[str, Any]:
    """One schema whose ``$defs`` are every body and what it nests; the root lists the bodies
    by name so that each becomes a named TypeScript type."""
    _, components = msgspec.json.schema_components(BODIES, ref_template="#/$defs/{name}")
    _retime(components, _classes(BODIES))
    _as_written(components)
    for name, schema in components.items():
        if "properties" in schema:
            omitted = OMITTED_WHEN_NONE.get(name, ())
            schema["required"] = [p for p in schema["properties"] if p not in omitted]
            schema["additionalProperties"] = False  # a record; free-form maps stay open
            for prop in schema["properties"].values():
                _nan_as_null(prop)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "MLOpsBodies",
        "description": "The REST bodies of jupyter-mlops (generated from jupyter_mlops.views).",
        "type": "object",
        "properties": {t.__name__: {"$ref": f"#/$defs/{t.__name__}"} for t in BODIES},
        "required": [t.__name__ for t in BODIES],
        "additionalProperties": False,
        "$defs": dict(sorted(components.items())),
    }


def main(argv: list[str] | None = None) -> None:
    """Write the schema to the file named by the argument (its folder made), or stdout."""
    from pathlib import Path

    args = sys.argv[1:] if argv is None else argv
    text = json.dumps(json_schema(), indent=2) + "\n"
    if not args:
        sys.stdout.write(text)
        return
    path = Path(args[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


if __name__ == "__main__":
    main()
