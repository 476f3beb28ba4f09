"""Turning the input shapes callers use (records, columns, arrays) into frames and arrays."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from registre.domain.errors import InvalidInput

ModelInput: TypeAlias = pd.DataFrame | np.ndarray | dict[str, np.ndarray]


def to_model_input(data: Any) -> ModelInput:
    if isinstance(data, pd.DataFrame | np.ndarray):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, Mapping):
        return _from_mapping(data)
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        if data and all(isinstance(row, Mapping) for row in data):
            return pd.DataFrame.from_records(list(data))
        return np.asarray(data)
    raise InvalidInput(
        f"unsupported model input of type {type(data).__name__}: pass a pandas "
        "DataFrame, a numpy array, a list of records or a dict of columns"
    )


def _from_mapping(data: Mapping[Any, Any]) -> ModelInput:
    values = list(data.values())
    if all(np.ndim(v) == 0 for v in values):
        return pd.DataFrame([dict(data)])  # one record
    arrays = {str(k): np.asarray(v) for k, v in data.items()}
    lengths = {len(a) for a in arrays.values() if a.ndim == 1}
    if all(a.ndim == 1 for a in arrays.values()) and len(lengths) == 1:
        return pd.DataFrame(arrays)
    return arrays  # tensors of different ranks or lengths: only named-tensor models take these


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value
