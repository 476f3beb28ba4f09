"""Registry entities: plain data, no I/O. Timestamps are milliseconds since the epoch (UTC)."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from registre.domain.errors import InvalidInput, NotFound

T = TypeVar("T")


def now_ms() -> int:
    return int(time.time() * 1000)


class Stage(enum.StrEnum):
    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    @classmethod
    def parse(cls, value: str | Stage) -> Stage:
        """Case-insensitive: ``"production"`` → ``Stage.PRODUCTION``."""
        if isinstance(value, Stage):
            return value
        wanted = str(value).strip().lower()
        for stage in cls:
            if stage.value.lower() == wanted:
                return stage
        valid = ", ".join(s.value for s in cls)
        raise InvalidInput(f"invalid stage {value!r}: expected one of {valid}")


class VersionStatus(enum.StrEnum):
    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    READY = "READY"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a model version: its relative path and the sha256 of its bytes.

    When registering, ``size`` may be None (the stored blob's size is taken); registered
    versions always carry it.
    """

    path: str
    digest: str
    size: int | None = None


@dataclass(slots=True)
class ModelVersion:
    name: str
    version: int
    stage: Stage = Stage.NONE
    status: VersionStatus = VersionStatus.READY
    description: str = ""
    source: str = ""
    run_id: str | None = None
    created_by: str | None = None
    created_at: int = 0
    updated_at: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    files: list[FileEntry] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def require_files(self) -> None:
        """NotFound for a version registered by reference (its source holds its files)."""
        if not self.files:
            raise NotFound(
                f"{self.uri} holds no files in Registre: it was registered by reference to "
                f"{self.source!r}, which the registry records but does not store"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage.value,
            "status": self.status.value,
            "description": self.description,
            "source": self.source,
            "run_id": self.run_id,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "tags": dict(self.tags),
            "aliases": list(self.aliases),
            "metrics": dict(self.metrics),
            "params": dict(self.params),
            "files": [{"path": f.path, "digest": f.digest, "size": f.size} for f in self.files],
        }


@dataclass(slots=True)
class RegisteredModel:
    name: str
    description: str = ""
    created_at: int = 0
    updated_at: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_version: int | None = None
    # Newest version in each stage (None, Staging, Production, Archived) that has one.
    latest_versions: list[ModelVersion] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "tags": dict(self.tags),
            "aliases": dict(self.aliases),
            "latest_version": self.latest_version,
            "latest_versions": [v.to_dict() for v in self.latest_versions],
        }


@dataclass(frozen=True, slots=True)
class Event:
    """One mutation: who did what to which model/version, with the state before and after."""

    id: int
    at: int
    actor: str
    action: str
    model: str
    version: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "model": self.model,
            "version": self.version,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str | None = None

    def to_dict(self, key: str) -> dict[str, Any]:
        """``{key: [item.to_dict(), ...], "next_page_token": ...}`` — the wire shape of a page."""
        return {
            key: [item.to_dict() for item in self.items],  # type: ignore[attr-defined]
            "next_page_token": self.next_page_token,
        }
