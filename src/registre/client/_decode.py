"""JSON (the server's ``entity.to_dict()``) back into domain entities."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from registre.domain.entities import (
    Event,
    FileEntry,
    ModelVersion,
    Page,
    RegisteredModel,
    Stage,
    VersionStatus,
)

T = TypeVar("T")


def file_entry(data: dict[str, Any]) -> FileEntry:
    return FileEntry(data["path"], data["digest"], int(data["size"]))


def model_version(data: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=data["name"],
        version=int(data["version"]),
        stage=Stage(data["stage"]),
        status=VersionStatus(data["status"]),
        description=data.get("description") or "",
        source=data.get("source") or "",
        run_id=data.get("run_id"),
        created_by=data.get("created_by"),
        created_at=int(data.get("created_at") or 0),
        updated_at=int(data.get("updated_at") or 0),
        tags=dict(data.get("tags") or {}),
        aliases=list(data.get("aliases") or []),
        # JSON has no NaN: a NaN metric comes back as null.
        metrics={
            k: math.nan if v is None else float(v) for k, v in (data.get("metrics") or {}).items()
        },
        params=dict(data.get("params") or {}),
        files=[file_entry(f) for f in data.get("files") or []],
    )


def registered_model(data: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=data["name"],
        description=data.get("description") or "",
        created_at=int(data.get("created_at") or 0),
        updated_at=int(data.get("updated_at") or 0),
        tags=dict(data.get("tags") or {}),
        aliases={k: int(v) for k, v in (data.get("aliases") or {}).items()},
        latest_version=data.get("latest_version"),
        latest_versions=[model_version(v) for v in data.get("latest_versions") or []],
    )


def event(data: dict[str, Any]) -> Event:
    return Event(
        id=int(data["id"]),
        at=int(data["at"]),
        actor=data["actor"],
        action=data["action"],
        model=data["model"],
        version=data.get("version"),
        before=data.get("before"),
        after=data.get("after"),
    )


def page(data: dict[str, Any], key: str, decode: Callable[[dict[str, Any]], T]) -> Page[T]:
    return Page([decode(item) for item in data[key]], data.get("next_page_token"))
