"""Inferring a registered version's signature from what its run left (see :mod:`.signature`):
the training profile it logged, else the DataFrame it read, else the model itself; the model
(given, or loaded only if that runs no pickle) cuts a profile or frame to its features."""

from __future__ import annotations

import json
import logging
from typing import Any

from .. import model_format
from ..entities import ModelVersion
from ..exceptions import MLOpsError
from .signature import Signature, best_input, from_model, from_profile, from_schema, narrowed

log = logging.getLogger(__name__)


def loaded_safely(store: Any, mv: ModelVersion) -> Any:
    """The model of ``mv`` if it loads without unpickling (a skops file of trusted types, a
    framework's own format), else None: registering never runs a pickle's code."""
    try:
        data = store.artifacts.read_bytes(mv.artifact_uri, mv.artifact_sha)
        if model_format.format_of(data) == model_format.CLOUDPICKLE:
            return None
        return model_format.loads(data, what=f"model {mv.ref}", trusted=False, how_to_trust="")
    except (MLOpsError, ImportError, OSError) as e:
        log.info("model %s not loaded to infer its signature: %s", mv.ref, e)
        return None


def infer_signature(store: Any, mv: ModelVersion, model: Any = None) -> Signature | None:
    """What the run that made ``mv`` tells of its input (see the module docstring)."""
    if model is None:
        model = loaded_safely(store, mv)
    run = store.get_run(mv.run_id)
    profiles = sorted((a for a in run.artifacts if a.kind == "profile"), key=lambda a: a.name)
    found: Signature | None = None
    if profiles:
        raw = store.artifacts.read_bytes(profiles[0].uri, profiles[0].sha256)
        found = from_profile(json.loads(raw))
    else:
        frames = [d.schema for d in mv.data if d.kind == "dataframe" and d.schema]
        schema = best_input(frames, model)
        found = from_schema(schema) if schema is not None else None
    if found is None:
        return from_model(model) if model is not None else None
    return narrowed(found, model) if model is not None else found
