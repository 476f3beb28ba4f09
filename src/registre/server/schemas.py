"""Request and response shapes of the native REST API.

Requests are validated against these models. Responses are built from ``entity.to_dict()``
and sent as orjson bytes; the response models exist to document them in ``/openapi.json``.
Names, stages, paths and numbers are checked by the service, not here, so every rule (and its
error message) lives in one place.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from registre.domain.entities import Stage, VersionStatus


class _Request(BaseModel):
    # A misspelt field ("archiveExisting") is an error, not a silently ignored option.
    model_config = ConfigDict(extra="forbid")


# ---- requests ---------------------------------------------------------------------------
class CreateModelRequest(_Request):
    name: str
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)


class UpdateDescriptionRequest(_Request):
    description: str


class RenameModelRequest(_Request):
    new_name: str


class TagValueRequest(_Request):
    value: str


class FileSpec(_Request):
    path: str = Field(description="Relative POSIX path inside the version, e.g. model/MLmodel")
    digest: str = Field(description="sha256 (hex) of a blob already uploaded with POST /blobs")
    size: int | None = Field(default=None, description="Checked against the stored blob if given")


# Metric and param values are checked (and converted) by the service, as for every other door;
# the schema only documents them.
def _numbers(schema: dict[str, Any]) -> None:
    schema["additionalProperties"] = {"type": "number"}


def _scalars(schema: dict[str, Any]) -> None:
    schema["additionalProperties"] = {"type": ["string", "number", "boolean"]}


class RegisterVersionRequest(_Request):
    files: list[FileSpec] = Field(default_factory=list)
    source: str = ""
    run_id: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict, json_schema_extra=_numbers)
    params: dict[str, Any] = Field(default_factory=dict, json_schema_extra=_scalars)
    tags: dict[str, str] = Field(default_factory=dict)
    description: str = ""
    create_model: bool = Field(default=True, description="Create the model if it is missing")
    number: int | None = Field(
        default=None,
        description="Exact version number (imports); 409 if that number was already reached",
    )


class LogMetricsRequest(_Request):
    metrics: dict[str, Any] = Field(json_schema_extra=_numbers)


class TransitionStageRequest(_Request):
    stage: str = Field(description="None, Staging, Production or Archived (any case)")
    archive_existing: bool = False


class RollbackRequest(_Request):
    stage: str = Stage.PRODUCTION.value


class RecordEventRequest(_Request):
    action: str = Field(description="serving_check_failed, serving_swapped, deployed or note")
    version: int | str | None = Field(default=None, description="The version it concerns, if any")
    details: dict[str, Any] = Field(default_factory=dict)


class SetAliasRequest(_Request):
    version: int | str


# ---- responses --------------------------------------------------------------------------
class FileOut(BaseModel):
    path: str
    digest: str
    size: int


class ModelVersionOut(BaseModel):
    name: str
    version: int
    stage: Stage
    status: VersionStatus
    description: str
    source: str
    run_id: str | None
    created_by: str | None
    created_at: int = Field(description="Milliseconds since the epoch (UTC)")
    updated_at: int
    tags: dict[str, str]
    aliases: list[str]
    metrics: dict[str, float]
    params: dict[str, str]
    files: list[FileOut]


class RegisteredModelOut(BaseModel):
    name: str
    description: str
    created_at: int
    updated_at: int
    tags: dict[str, str]
    aliases: dict[str, int]
    latest_version: int | None
    latest_versions: list[ModelVersionOut] = Field(
        description="The newest version in each stage that has one"
    )


class EventOut(BaseModel):
    id: int
    at: int
    actor: str
    action: str
    model: str
    version: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ModelPage(BaseModel):
    models: list[RegisteredModelOut]
    next_page_token: str | None


class VersionPage(BaseModel):
    versions: list[ModelVersionOut]
    next_page_token: str | None


class VersionList(BaseModel):
    versions: list[ModelVersionOut]


class EventPage(BaseModel):
    events: list[EventOut]
    next_page_token: str | None


class FileList(BaseModel):
    files: list[FileOut]


class BlobOut(BaseModel):
    digest: str
    size: int


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. NOT_FOUND")
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


class HealthOut(BaseModel):
    status: str
