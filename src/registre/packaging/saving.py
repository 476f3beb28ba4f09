"""Writing a model directory in MLflow's MLmodel layout."""

from __future__ import annotations

import platform
import shutil
import uuid
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registre.domain.errors import AlreadyExists, InvalidInput
from registre.packaging.environment import write_environment
from registre.packaging.flavors import PYFUNC, SavedFlavor, flavor_for
from registre.packaging.input_example import write_input_example
from registre.packaging.inputs import ModelInput
from registre.packaging.mlmodel import ModelInfo, write_mlmodel
from registre.packaging.signature import ModelSignature, Schema, infer_schema


def save_model(
    model: Any,
    path: str | Path,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: ModelSignature | Mapping[str, Any] | None = None,
    serialization: str = "skops",
    requirements: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> ModelInfo:
    """Write ``model`` to the new directory ``path`` and return its MLmodel description.

    The flavor is detected from ``model`` unless given. The signature is inferred from
    ``input_example`` (and the model's prediction on it) unless given. ``requirements``, when
    given, replace the flavor's pinned defaults in requirements.txt.

    >>> save_model(LogisticRegression().fit(X, y), "my_model", input_example=X[:5])
    """
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(f"{target} already exists and is not empty")
    chosen = flavor_for(model, flavor)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed into place: a failed save leaves nothing behind.
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex}.partial"
    staging.mkdir()
    try:
        saved = chosen.save(model, staging, serialization=serialization)
        info = _describe(staging, saved, input_example, signature, requirements, metadata)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return info


def _describe(
    directory: Path,
    saved: SavedFlavor,
    input_example: Any,
    signature: ModelSignature | Mapping[str, Any] | None,
    requirements: list[str] | None,
    metadata: dict[str, Any] | None,
) -> ModelInfo:
    example_info, example = None, None
    if input_example is not None:
        example_info, example = write_input_example(directory, input_example)
    if signature is not None:
        final_signature: ModelSignature | None = _as_signature(signature)
    elif example is not None:
        final_signature = _infer(example, saved)
    else:
        final_signature = None
    env = write_environment(
        directory, saved.requirements if requirements is None else list(requirements)
    )
    flavors = {name: dict(conf) for name, conf in saved.flavors.items()}
    if PYFUNC in flavors:
        flavors[PYFUNC].update(env=env, python_version=platform.python_version())
    info = ModelInfo(
        flavors=flavors,
        model_uuid=uuid.uuid4().hex,
        # MLflow's format: naive UTC, "2026-01-31 12:00:00.000000".
        utc_time_created=str(datetime.now(UTC).replace(tzinfo=None)),
        signature=final_signature,
        saved_input_example_info=example_info,
        model_size_bytes=sum(f.stat().st_size for f in directory.rglob("*") if f.is_file()),
        metadata=metadata,
    )
    write_mlmodel(directory, info)
    return info


def _as_signature(signature: Any) -> ModelSignature:
    if isinstance(signature, ModelSignature):
        return signature
    if isinstance(signature, Mapping):
        return ModelSignature.from_dict(signature)
    if callable(getattr(signature, "to_dict", None)):  # e.g. an mlflow ModelSignature
        return ModelSignature.from_dict(signature.to_dict())
    raise InvalidInput(
        f"signature must be a ModelSignature or its dict form, not {type(signature).__name__}"
    )


def _infer(example: ModelInput, saved: SavedFlavor) -> ModelSignature:
    inputs = infer_schema(example)
    outputs: Schema | None = None
    try:
        prediction = saved.predict(example, None)
        outputs = infer_schema(prediction, unnamed_columns=not inputs.is_tensor)
    except Exception as exc:  # the model's own errors: any type, and the input schema still holds
        warnings.warn(
            f"output schema not inferred: predicting on the input example failed: {exc}",
            stacklevel=3,
        )
    return ModelSignature(inputs, outputs)
