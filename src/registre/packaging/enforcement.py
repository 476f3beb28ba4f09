"""Checking (and casting) prediction input against a model's input schema."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from registre.domain.errors import InvalidInput
from registre.packaging.signature import ColSpec, Schema, TensorSpec

_NUMPY_TYPES = {
    "boolean": np.bool_,
    "integer": np.int32,
    "long": np.int64,
    "float": np.float32,
    "double": np.float64,
}

# Which pandas-inferred value kinds may be cast to each column type.
_CASTABLE = {
    "double": {"floating", "integer", "mixed-integer-float", "decimal"},
    "float": {"floating", "integer", "mixed-integer-float", "decimal"},
    "long": {"integer"},
    "integer": {"integer"},
    "boolean": {"boolean"},
    "string": {"string"},
    "binary": {"bytes"},
    "datetime": {"datetime64", "datetime", "date"},
}


def enforce_input(data: Any, schema: Schema | None) -> Any:
    if schema is None or not schema.specs:
        return data
    if schema.is_tensor:
        return _enforce_tensors(data, schema)
    names = schema.names
    if any(name is None for name in names):
        return data  # unnamed columns: nothing to match by name
    if isinstance(data, np.ndarray) and data.ndim == 2 and data.shape[1] == len(names):
        # Positional rows (MLflow's "instances"/"inputs" payloads) take the signature's names.
        data = pd.DataFrame(data, columns=names)
    if not isinstance(data, pd.DataFrame):
        return data
    return _enforce_columns(data, schema)


def _enforce_columns(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    columns: dict[str, pd.Series] = {}
    for spec in schema.specs:
        assert isinstance(spec, ColSpec) and spec.name is not None
        if spec.name not in frame.columns:
            if spec.required:
                raise InvalidInput(
                    f"missing required column {spec.name!r}"
                    f" (input has {list(map(str, frame.columns))})"
                )
            continue
        columns[spec.name] = _cast_column(frame[spec.name], spec)
    # Only the signature's columns, in its order: estimators fitted on named features reject
    # extra or reordered columns.
    return pd.DataFrame(columns, index=frame.index)


def _cast_column(column: pd.Series, spec: ColSpec) -> pd.Series:
    allowed = _CASTABLE.get(spec.type)
    if allowed is None:
        return column  # composite types (array, object, map): passed through unchecked
    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind == "empty":
        return column
    if spec.type in ("long", "integer") and kind in ("floating", "mixed-integer-float"):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
            kind = "integer"  # 1.0, 2.0: a lossless cast
    if kind not in allowed:
        raise InvalidInput(
            f"column {spec.name!r} has {kind} values, which cannot be cast to {spec.type}"
        )
    target = _NUMPY_TYPES.get(spec.type)
    if target is None or column.dtype == target:
        return column
    try:
        return column.astype(target)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInput(f"column {spec.name!r} cannot be cast to {spec.type}: {exc}") from exc


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    specs = [s for s in schema.specs if isinstance(s, TensorSpec)]
    if isinstance(data, dict) and all(s.name for s in specs):
        missing = [s.name for s in specs if s.name not in data]
        if missing:
            raise InvalidInput(f"missing required input tensor(s) {missing}")
        return {**data, **{s.name: _cast_tensor(np.asarray(data[s.name]), s) for s in specs}}
    if isinstance(data, np.ndarray) and len(specs) == 1:
        return _cast_tensor(data, specs[0])
    return data


def _cast_tensor(array: np.ndarray, spec: TensorSpec) -> np.ndarray:
    label = f"input tensor {spec.name!r}" if spec.name else "input tensor"
    if array.ndim != len(spec.shape):
        raise InvalidInput(f"{label} has shape {list(array.shape)}, expected {list(spec.shape)}")
    for got, want in zip(array.shape, spec.shape, strict=True):
        if want != -1 and got != want:
            raise InvalidInput(
                f"{label} has shape {list(array.shape)}, expected {list(spec.shape)}"
            )
    try:
        target = np.dtype(spec.dtype)
    except TypeError:
        return array  # dtype names numpy does not know ("str", "object"): nothing to cast to
    if array.dtype == target:
        return array
    if not np.can_cast(array.dtype, target, casting="same_kind"):
        raise InvalidInput(f"{label} has dtype {array.dtype}, which cannot be cast to {target}")
    return array.astype(target)
