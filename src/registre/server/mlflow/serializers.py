"""Entities → MLflow's JSON messages (versions as strings, timestamps in ms, tags as lists)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from registre.domain.entities import ModelVersion, RegisteredModel
from registre.domain.tracking import Experiment, ListedFile, LoggedModel, Metric, Run

_LOGGED_MODEL_SOURCE = re.compile(r"^models:/(m-[0-9a-f]{32})/?$")


def key_values(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": values[k]} for k in sorted(values)] if values else []


def model_version(v: ModelVersion) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": v.name,
        "version": str(v.version),
        "creation_timestamp": v.created_at,
        "last_updated_timestamp": v.updated_at,
        "user_id": v.created_by or "",
        "current_stage": v.stage.value,
        "description": v.description,
        "source": v.source,
        "run_id": v.run_id or "",
        "status": v.status.value,
        "tags": key_values(v.tags),
        "run_link": "",
        "aliases": list(v.aliases),
    }
    if v.source.startswith("models:/m-") and (match := _LOGGED_MODEL_SOURCE.match(v.source)):
        body["model_id"] = match.group(1)
    return body


def registered_model(m: RegisteredModel) -> dict[str, Any]:
    return {
        "name": m.name,
        "creation_timestamp": m.created_at,
        "last_updated_timestamp": m.updated_at,
        "description": m.description,
        "latest_versions": [model_version(v) for v in m.latest_versions],
        "tags": key_values(m.tags),
        "aliases": [
            {"alias": alias, "version": str(number)} for alias, number in sorted(m.aliases.items())
        ],
    }


def experiment(e: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": e.id,
        "name": e.name,
        "artifact_location": e.artifact_location,
        "lifecycle_stage": e.lifecycle_stage,
        "creation_time": e.created_at,
        "last_update_time": e.updated_at,
        "tags": key_values(e.tags),
    }


def number(value: float) -> float | str:
    """A double as protobuf's JSON mapping writes it: NaN and infinities as strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def metric(m: Metric) -> dict[str, Any]:
    body: dict[str, Any] = {"key": m.key, "value": number(m.value), "timestamp": m.timestamp,
                            "step": m.step}  # fmt: skip
    if m.model_id:
        body["model_id"] = m.model_id
    if m.run_id:
        body["run_id"] = m.run_id
    return body


def run_info(r: Run) -> dict[str, Any]:
    info: dict[str, Any] = {
        "run_id": r.id,
        "run_uuid": r.id,
        "run_name": r.name,
        "experiment_id": r.experiment_id,
        "user_id": r.user_id,
        "status": r.status.value,
        "start_time": r.start_time,
        "artifact_uri": r.artifact_uri,
        "lifecycle_stage": r.lifecycle_stage,
    }
    if r.end_time is not None:
        info["end_time"] = r.end_time
    return info


def run(r: Run) -> dict[str, Any]:
    return {
        "info": run_info(r),
        "data": {
            "metrics": [metric(m) for m in r.metrics],
            "params": key_values(r.params),
            "tags": key_values(r.tags),
        },
        "inputs": {
            "dataset_inputs": list(r.datasets),
            "model_inputs": [{"model_id": m} for m in r.inputs],
        },
        "outputs": {"model_outputs": [{"model_id": m, "step": s} for m, s in r.outputs]},
    }


def logged_model(m: LoggedModel) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model_id": m.id,
        "experiment_id": m.experiment_id,
        "name": m.name,
        "creation_timestamp_ms": m.created_at,
        "last_updated_timestamp_ms": m.updated_at,
        "artifact_uri": m.artifact_uri,
        "status": m.status.value,
        "model_type": m.model_type,
        "status_message": m.status_message,
        "tags": key_values(m.tags),
    }
    if m.source_run_id:
        info["source_run_id"] = m.source_run_id
    return {
        "info": info,
        "data": {"params": key_values(m.params), "metrics": [metric(x) for x in m.metrics]},
    }


def files(listing: list[ListedFile], prefix: str = "") -> list[dict[str, Any]]:
    result = []
    for f in listing:
        item: dict[str, Any] = {"path": f"{prefix}{f.path}", "is_dir": f.is_dir}
        if not f.is_dir and f.size is not None:
            item["file_size"] = f.size
        result.append(item)
    return result
