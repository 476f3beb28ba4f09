"""What the importer reads from MLflow, as plain data (no MLflow types leak past the reader)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file of a version's artifact location; ``path`` is relative to that location."""

    path: str
    size: int | None = None


@dataclass(frozen=True, slots=True)
class SourceModel:
    name: str
    description: str = ""
    created_at: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceVersion:
    name: str
    version: int
    stage: str = "None"
    status: str = "READY"
    description: str = ""
    source: str = ""
    run_id: str | None = None
    user_id: str = ""
    created_at: int = 0
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceMetric:
    key: str
    value: float
    timestamp: int
    step: int = 0


@dataclass(frozen=True, slots=True)
class SourceRun:
    id: str
    experiment_id: str
    experiment_name: str
    name: str = ""
    user_id: str = ""
    status: str = "FINISHED"
    start_time: int = 0
    end_time: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # the latest value of each key
    tags: dict[str, str] = field(default_factory=dict)
    experiment_tags: dict[str, str] = field(default_factory=dict)
