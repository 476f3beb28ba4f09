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
    model_id: str | None = None  # the MLflow 3 logged model the version was registered from


@dataclass(frozen=True, slots=True)
class SourceMetric:
    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


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
    artifact_uri: str = ""  # where MLflow keeps the run's artifacts
    model_outputs: dict[str, int] = field(default_factory=dict)  # logged model id → step


@dataclass(frozen=True, slots=True)
class SourceLoggedModel:
    """An MLflow 3 logged model: the files behind a version, with their own metadata."""

    id: str
    experiment_id: str
    experiment_name: str
    name: str
    artifact_location: str
    source_run_id: str | None = None
    model_type: str = ""
    status: str = "READY"
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[SourceMetric] = field(default_factory=list)
    experiment_tags: dict[str, str] = field(default_factory=dict)
