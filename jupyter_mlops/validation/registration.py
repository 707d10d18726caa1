"""Registering a model from any run, with its input contract.

``register_model(NAME, model_or_ref)`` is MLflow's ``register_model("runs:/ID/model", NAME)``:
the reference is ``RUN_ID[:ARTIFACT]`` (a short id works; the artifact defaults to the run's
only model), or a fitted model, logged on the active run (or on a new script run) first. The
version is made by :meth:`ModelRegistry.register`, as a pipeline's is: the same version numbers,
``register`` event and trust rules (nothing is unpickled from a team store unless trusted).

Every registration then records the version's signature (:func:`record_signature`), inferred
from the best evidence: the training profile the run logged, the DataFrame it read, the model.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from ..bounds import check_name
from ..entities import ModelVersion, Run
from ..exceptions import MLOpsError, ValidationError
from ..registry import ModelRegistry, current_actor
from ..store.sql_signatures import SignatureTables
from .contract import DEFAULT_POLICY, check_policy, forget_contract, policy_of
from .contract import signature_of as signature_of
from .signature import Signature, from_frame, narrowed
from .signature_inference import infer_signature, loaded_safely

log = logging.getLogger(__name__)

_MLFLOW_REF = re.compile(r"^runs:/([^/]+)/(.+)$")


def split_run_ref(ref: str) -> tuple[str, str | None]:
    """``RUN_ID[:ARTIFACT]`` (or MLflow's ``runs:/RUN_ID/ARTIFACT``) -> (run id, artifact)."""
    if not isinstance(ref, str) or not ref.strip():
        raise ValidationError(
            f"Bad run reference {ref!r}; write RUN_ID or RUN_ID:ARTIFACT, e.g. 3f9a2c:model"
        )
    found = _MLFLOW_REF.match(ref)
    if found:
        return found.group(1), found.group(2)
    run_id, sep, artifact = ref.strip().partition(":")
    if not run_id or (sep and not artifact):
        raise ValidationError(
            f"Bad run reference {ref!r}; write RUN_ID or RUN_ID:ARTIFACT, e.g. 3f9a2c:model"
        )
    return run_id, artifact or None


def model_artifact(run: Run, artifact: str | None) -> str:
    """The model artifact of ``run`` to register: ``artifact``, or its only model."""
    models = sorted(a.name for a in run.artifacts if a.kind == "model")
    if artifact is not None:
        if artifact not in models:
            listing = ", ".join(models) if models else "none"
            raise ValidationError(
                f"Run {run.short_id} logged no model named {artifact!r} (its models: {listing})"
            )
        return artifact
    if len(models) == 1:
        return models[0]
    if not models:
        raise ValidationError(
            f"Run {run.short_id} logged no model; log one with mlops.log_model(model) or "
            "%%track --log-model"
        )
    raise ValidationError(
        f"Run {run.short_id} logged {len(models)} models ({', '.join(models)}); say which, "
        f"e.g. {run.short_id}:{models[0]}"
    )


def record_signature(store: Any, mv: ModelVersion, model: Any = None) -> Signature | None:
    """Infer and record ``mv``'s signature (JSON ``null`` when nothing is known) with the
    default policy; a failure is logged, never raised: the version is registered already."""
    if not isinstance(store, SignatureTables):
        return None
    try:
        sig = infer_signature(store, mv, model)
        text = json.dumps(None if sig is None else sig.to_dict())
        store.set_model_signature(mv.name, mv.version, text, DEFAULT_POLICY)
    except (MLOpsError, OSError, ValueError, KeyError) as e:
        log.warning("model %s: its input contract was not recorded: %s", mv.ref, e)
        return None
    forget_contract(store, mv.name, mv.version)
    return sig


def register_run_model(
    name: str, run: Run, artifact: str | None = None, registry: ModelRegistry | None = None
) -> ModelVersion:
    """Register ``run``'s model ``artifact`` (default: its only one) as a new version of
    ``name``, with its signature."""
    check_name(name, "model name", "model")
    registry = registry or ModelRegistry()
    mv = registry.register(name, run, model_artifact(run, artifact))
    record_signature(registry.store, mv)
    return mv


def register_model(
    name: str,
    model_or_ref: Any,
    *,
    example: Any = None,
    registry: ModelRegistry | None = None,
) -> ModelVersion:
    """Register a model under ``name`` (see the module docstring); returns the new version.
    ``example``: training data (a DataFrame, or rows of it) to take the signature from, when
    the run recorded none (its kinds, nulls and categories are then known)."""
    check_name(name, "model name", "model")
    shown = None if example is None else example_signature(example)  # refused before registering
    registry = registry or ModelRegistry()
    store: Any = registry.store
    if isinstance(model_or_ref, str):
        run_id, artifact = split_run_ref(model_or_ref)
        mv = register_run_model(name, store.get_run(run_id), artifact, registry)
        if shown is not None:
            record_example(store, mv, shown)
        return mv
    from ..tracking import active_run, default_tracker

    run = active_run()
    own = run is None
    if run is None:
        run = default_tracker().start_run(name=f"register {name}")
    try:
        art = run.log_model(model_or_ref, name)
        run.flush()
        mv = registry.register(name, store.get_run(run.id), art.name)
    finally:
        if own:
            run.end()
    if shown is not None:
        record_example(store, mv, shown, model_or_ref)
    else:
        record_signature(store, mv, model_or_ref)
    return mv


def example_signature(example: Any) -> Signature:
    """The signature training data ``example`` shows; a one-line error when it is no table."""
    try:
        return from_frame(example)
    except (ValueError, TypeError) as e:
        raise ValidationError(
            f"example= must be training data (a DataFrame or rows of one), got "
            f"{type(example).__name__}: {e}"
        ) from None


def record_example(store: Any, mv: ModelVersion, sig: Signature, model: Any = None) -> Signature:
    """Record ``sig`` (:func:`example_signature`) as ``mv``'s, cut to the model's features when
    the model names them."""
    if model is None:
        model = loaded_safely(store, mv)
    sig = narrowed(sig, model) if model is not None else sig
    if isinstance(store, SignatureTables):
        store.set_model_signature(mv.name, mv.version, json.dumps(sig.to_dict()), DEFAULT_POLICY)
        forget_contract(store, mv.name, mv.version)
    return sig


def set_contract_policy(
    ref: str, policy: str, *, registry: ModelRegistry | None = None
) -> tuple[ModelVersion, Signature | None]:
    """Set the policy of ``NAME@V``'s contract (``NAME``: the blessed version), recorded as
    a ``contract`` model event; returns the version and its signature."""
    check_policy(policy)
    registry = registry or ModelRegistry()
    store: Any = registry.store
    mv = registry.get(ref)
    if not isinstance(store, SignatureTables):
        raise ValidationError("This store keeps no input contracts; upgrade it (store migrate)")
    sig = signature_of(store, mv)
    text = json.dumps(None if sig is None else sig.to_dict())
    store.set_model_signature(mv.name, mv.version, text, policy, current_actor(), event=True)
    forget_contract(store, mv.name, mv.version)
    return mv, sig


def contract_summary(store: Any, mv: ModelVersion) -> dict[str, Any]:
    """``mv``'s contract as JSON for ``models show``: the policy and the signature (or None)."""
    sig = signature_of(store, mv)
    return {"policy": policy_of(store, mv), "signature": None if sig is None else sig.to_dict()}
