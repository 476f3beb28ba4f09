"""The stored input example: ``input_example.json`` plus MLflow's ``serving_input_example.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from registre.domain.errors import InvalidInput
from registre.packaging.enforcement import enforce_input
from registre.packaging.inputs import ModelInput, to_jsonable, to_model_input
from registre.packaging.mlmodel import InputExampleInfo
from registre.packaging.paths import inside
from registre.packaging.signature import Schema

EXAMPLE_FILE = "input_example.json"
SERVING_EXAMPLE_FILE = "serving_input_example.json"


def write_input_example(directory: Path, example: Any) -> tuple[InputExampleInfo, ModelInput]:
    data = to_model_input(example)
    if isinstance(data, pd.DataFrame):
        payload: Any = {
            "columns": [str(c) for c in data.columns],
            "data": to_jsonable(data.to_numpy(dtype=object).tolist()),
        }
        serving: dict[str, Any] = {"dataframe_split": payload}
        info = InputExampleInfo(EXAMPLE_FILE, "dataframe", "split", SERVING_EXAMPLE_FILE)
    else:
        payload = to_jsonable(data)
        serving = {"inputs": payload}
        info = InputExampleInfo(EXAMPLE_FILE, "ndarray", None, SERVING_EXAMPLE_FILE)
    (directory / EXAMPLE_FILE).write_text(json.dumps(payload), encoding="utf-8")
    (directory / SERVING_EXAMPLE_FILE).write_text(json.dumps(serving, indent=2), encoding="utf-8")
    return info, data


def read_input_example(directory: Path, info: InputExampleInfo, schema: Schema | None) -> Any:
    file = inside(directory, info.artifact_path)
    try:
        payload = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read input example {file}: {exc}") from exc
    if info.type == "dataframe":
        if isinstance(payload, dict) and "data" in payload:
            data: Any = pd.DataFrame(payload["data"], columns=payload.get("columns"))
        else:
            data = pd.DataFrame(payload)
    elif info.type == "ndarray":
        if isinstance(payload, dict) and "inputs" in payload:
            payload = payload["inputs"]
        if isinstance(payload, dict):
            data = {k: np.asarray(v) for k, v in payload.items()}
        else:
            data = np.asarray(payload)
    else:
        raise InvalidInput(f"unsupported input example type {info.type!r}")
    try:
        # JSON forgets dtypes (int vs float, float32): the signature knows them.
        return enforce_input(data, schema)
    except InvalidInput:
        return data
