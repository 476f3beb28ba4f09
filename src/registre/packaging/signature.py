"""Model signatures in MLflow's JSON form: column specs, tensor specs, and their inference."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from registre.domain.errors import InvalidInput

COLUMN_TYPES = ("boolean", "integer", "long", "float", "double", "string", "binary", "datetime")


@dataclass(frozen=True)
class ColSpec:
    """One named (or unnamed) column: ``{"type": "double", "name": "x", "required": true}``."""

    type: str
    name: str | None = None
    required: bool = True
    # Keys of composite types ("items" for arrays, "properties" for objects), kept verbatim.
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, **self.details}
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out


@dataclass(frozen=True)
class TensorSpec:
    """A tensor: ``{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}``."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        spec = {"type": "tensor", "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)}}
        return spec if self.name is None else {"name": self.name, **spec}


Spec = ColSpec | TensorSpec


@dataclass(frozen=True)
class Schema:
    """An ordered list of specs, all columns or all tensors."""

    specs: tuple[Spec, ...]

    def __post_init__(self) -> None:
        kinds = {isinstance(s, TensorSpec) for s in self.specs}
        if len(kinds) > 1:
            raise InvalidInput("a schema mixes column specs and tensor specs")

    @property
    def is_tensor(self) -> bool:
        return bool(self.specs) and isinstance(self.specs[0], TensorSpec)

    @property
    def names(self) -> list[str | None]:
        return [s.name for s in self.specs]

    def to_json(self) -> str:
        return json.dumps([s.to_dict() for s in self.specs])

    @classmethod
    def from_json(cls, text: str | Sequence[Mapping[str, Any]]) -> Schema:
        try:
            items = json.loads(text) if isinstance(text, str) else text
            return cls(tuple(_spec_from_dict(item) for item in items))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InvalidInput(f"malformed schema {text!r}: {exc}") from exc


def _spec_from_dict(item: Mapping[str, Any]) -> Spec:
    if item["type"] == "tensor":
        tensor = item["tensor-spec"]
        return TensorSpec(
            str(tensor["dtype"]), tuple(int(d) for d in tensor["shape"]), item.get("name")
        )
    details = {k: v for k, v in item.items() if k not in ("type", "name", "required")}
    return ColSpec(str(item["type"]), item.get("name"), bool(item.get("required", True)), details)


@dataclass(frozen=True)
class ModelSignature:
    """Input and output schemas, plus MLflow's inference-params schema kept as parsed JSON."""

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "params": json.dumps(self.params) if self.params else None,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ModelSignature:
        params = raw.get("params")
        return cls(
            inputs=Schema.from_json(raw["inputs"]) if raw.get("inputs") else None,
            outputs=Schema.from_json(raw["outputs"]) if raw.get("outputs") else None,
            params=json.loads(params) if isinstance(params, str) else params or None,
        )


def infer_signature(model_input: Any, model_output: Any = None) -> ModelSignature:
    """Infer a signature from example input (and output) data.

    >>> infer_signature(pd.DataFrame({"x": [1.0]}), np.array([0])).to_dict()["inputs"]
    '[{"type": "double", "name": "x", "required": true}]'
    """
    inputs = infer_schema(model_input)
    outputs = None
    if model_output is not None:
        outputs = infer_schema(model_output, unnamed_columns=not inputs.is_tensor)
    return ModelSignature(inputs, outputs)


def infer_schema(data: Any, *, unnamed_columns: bool = False) -> Schema:
    if isinstance(data, pd.DataFrame):
        return Schema(tuple(ColSpec(column_type(data[c]), str(c)) for c in data.columns))
    if isinstance(data, pd.Series):
        name = None if data.name is None else str(data.name)
        return Schema((ColSpec(column_type(data), name),))
    array = np.asarray(data)
    # A model fed a DataFrame predicts one unnamed column (MLflow's description), not a tensor.
    if unnamed_columns and array.ndim == 1:
        return Schema((ColSpec(column_type(pd.Series(array)), None),))
    if array.ndim == 0:
        raise InvalidInput("cannot infer a schema from a scalar")
    return Schema((TensorSpec(_tensor_dtype(array.dtype), (-1, *array.shape[1:])),))


def column_type(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        # MLflow's "integer" is int32: narrower integers fit in it, anything wider is "long".
        return "integer" if np.dtype(dtype).itemsize < 4 or dtype == np.int32 else "long"
    if pd.api.types.is_float_dtype(dtype):
        return "float" if np.dtype(dtype).itemsize <= 4 else "double"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    by_inferred = {
        "string": "string",
        "bytes": "binary",
        "boolean": "boolean",
        "integer": "long",
        "floating": "double",
        "mixed-integer-float": "double",
        "datetime": "datetime",
        "datetime64": "datetime",
        "date": "datetime",
    }
    if inferred in by_inferred:
        return by_inferred[inferred]
    raise InvalidInput(f"cannot infer a column type for {series.name!r} (values are {inferred})")


def _tensor_dtype(dtype: np.dtype) -> str:
    # Unicode and bytes arrays carry their width in the dtype name (<U6); MLflow names them by kind.
    return {"U": "str", "S": "bytes"}.get(dtype.kind, dtype.name)
