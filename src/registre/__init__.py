"""Registre: a model registry that speaks MLflow's REST API.

>>> import registre
>>> version = registre.log_model(model, "IrisClassifierModel", metrics={"accuracy": 0.97})
>>> registre.load_model("models:/IrisClassifierModel/latest").predict(rows)
"""

from __future__ import annotations

from typing import Any

from registre.client.client import Client
from registre.domain.entities import (
    Event,
    FileEntry,
    ModelVersion,
    Page,
    RegisteredModel,
    Stage,
    VersionStatus,
)
from registre.domain.errors import (
    AlreadyExists,
    Conflict,
    IntegrityError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RegistreError,
    Unavailable,
    UnsafeModel,
)

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "Client",
    "Conflict",
    "Event",
    "FileEntry",
    "IntegrityError",
    "InvalidInput",
    "ModelVersion",
    "NotFound",
    "Page",
    "PayloadTooLarge",
    "PermissionDenied",
    "RegisteredModel",
    "RegistreError",
    "Stage",
    "Unavailable",
    "UnsafeModel",
    "VersionStatus",
    "load_model",
    "log_model",
]


def log_model(model: Any, name: str, *, url: str | None = None, **kwargs: Any) -> ModelVersion:
    """Package and register ``model`` with the registry at ``url`` (or ``REGISTRE_URL``)."""
    with Client(url) as client:
        return client.log_model(model, name, **kwargs)


def load_model(uri: str, *, url: str | None = None, **kwargs: Any) -> Any:
    """Load ``models:/Name/<version|stage|latest>`` or ``models:/Name@alias`` for prediction."""
    with Client(url) as client:
        return client.load_model(uri, **kwargs)
