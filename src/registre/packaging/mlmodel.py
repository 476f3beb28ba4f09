"""The MLmodel file: a typed view of its YAML, read and written in MLflow's layout."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from registre.domain.errors import InvalidInput, NotFound
from registre.packaging.paths import MLMODEL_FILE
from registre.packaging.signature import ModelSignature


@dataclass(frozen=True)
class InputExampleInfo:
    """Where the input example is stored (``saved_input_example_info``)."""

    artifact_path: str
    type: str  # "dataframe" or "ndarray" (MLflow also knows sparse matrices and json_object)
    pandas_orient: str | None = None
    serving_input_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        raw = {
            "artifact_path": self.artifact_path,
            "type": self.type,
            "pandas_orient": self.pandas_orient,
            "serving_input_path": self.serving_input_path,
        }
        return {k: v for k, v in raw.items() if v is not None}


@dataclass(frozen=True)
class ModelInfo:
    """The parsed MLmodel file. Keys Registre does not model are kept in ``extra``."""

    flavors: dict[str, dict[str, Any]]
    model_uuid: str | None = None
    utc_time_created: str | None = None
    signature: ModelSignature | None = None
    saved_input_example_info: InputExampleInfo | None = None
    model_size_bytes: int | None = None
    metadata: dict[str, Any] | None = None
    artifact_path: str | None = None
    run_id: str | None = None
    model_id: str | None = None
    mlflow_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out["flavors"] = self.flavors
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
        if self.saved_input_example_info is not None:
            out["saved_input_example_info"] = self.saved_input_example_info.to_dict()
        for key in (
            "model_uuid",
            "utc_time_created",
            "model_size_bytes",
            "metadata",
            "artifact_path",
            "run_id",
            "model_id",
            "mlflow_version",
        ):
            # MLflow leaves out null fields too: some consumers choke on them.
            if (value := getattr(self, key)) is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelInfo:
        raw = dict(raw)
        flavors = raw.pop("flavors", None)
        if not isinstance(flavors, dict) or not all(isinstance(v, dict) for v in flavors.values()):
            raise InvalidInput("MLmodel has no valid 'flavors' mapping")
        signature = raw.pop("signature", None)
        example = raw.pop("saved_input_example_info", None)
        created = raw.pop("utc_time_created", None)
        try:
            return cls(
                flavors=flavors,
                signature=ModelSignature.from_dict(signature) if signature else None,
                saved_input_example_info=InputExampleInfo(**example) if example else None,
                utc_time_created=None if created is None else str(created),
                model_uuid=raw.pop("model_uuid", None),
                model_size_bytes=raw.pop("model_size_bytes", None),
                metadata=raw.pop("metadata", None),
                artifact_path=raw.pop("artifact_path", None),
                run_id=raw.pop("run_id", None),
                model_id=raw.pop("model_id", None),
                mlflow_version=raw.pop("mlflow_version", None),
                extra=raw,
            )
        except TypeError as exc:  # unexpected keys in saved_input_example_info
            raise InvalidInput(f"malformed MLmodel: {exc}") from exc


def mlmodel_file(path: str | Path) -> Path:
    path = Path(path)
    if path.is_file() and path.name == MLMODEL_FILE:
        return path
    if not path.exists():
        raise NotFound(f"{path} does not exist")
    if not (path / MLMODEL_FILE).is_file():
        raise InvalidInput(f"{path} is not a model directory: no {MLMODEL_FILE} file")
    return path / MLMODEL_FILE


def read_mlmodel(path: str | Path) -> ModelInfo:
    """Parse the MLmodel file of the model directory ``path``.

    >>> read_mlmodel("my_model").flavors.keys()
    dict_keys(['python_function', 'sklearn'])
    """
    file = mlmodel_file(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{file} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise InvalidInput(f"{file} is not a YAML mapping")
    return ModelInfo.from_dict(raw)


def write_mlmodel(path: str | Path, info: ModelInfo) -> Path:
    """Write ``info`` as ``path/MLmodel`` (``path`` a directory) and return the file's path."""
    file = Path(path) / MLMODEL_FILE
    file.write_text(yaml.safe_dump(info.to_dict(), default_flow_style=False), encoding="utf-8")
    return file
