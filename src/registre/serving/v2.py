"""The Open Inference Protocol (KServe v2, used by KServe, Triton and MLServer).

Inputs are tensors ``{"name", "shape", "datatype", "data"}``. For a model with a column
signature each 1-D input is a column (as MLServer's pandas codec does), or one 2-D input holds
the columns in the signature's order; for a tensor signature inputs map to tensors by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from registre.domain.errors import InvalidInput
from registre.packaging.enforcement import enforce_input
from registre.packaging.inputs import MalformedPayload
from registre.packaging.signature import ColSpec, Schema, TensorSpec
from registre.serving.encoding import dumps
from registre.serving.items import Item, Rows, Stack, Whole, check_columns
from registre.serving.versions import ServedVersion

_DATATYPES = {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32,
    "UINT64": np.uint64, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32,
    "INT64": np.int64, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
    "BYTES": np.object_,
}  # fmt: skip
_COLUMN_DATATYPES = {
    "boolean": "BOOL", "integer": "INT32", "long": "INT64", "float": "FP32", "double": "FP64",
    "string": "BYTES", "binary": "BYTES", "datetime": "BYTES",
}  # fmt: skip


def datatype(dtype: np.dtype) -> str:
    for name, numpy_type in _DATATYPES.items():
        if numpy_type is not np.object_ and dtype == np.dtype(numpy_type):
            return name
    return "BYTES"


def metadata(endpoint: str, served: ServedVersion) -> dict[str, Any]:
    signature = served.predictor.metadata.signature
    return {
        "name": endpoint,
        "versions": [served.version],
        "platform": f"registre-{served.flavor}",
        "inputs": _tensors(signature.inputs if signature else None, "input"),
        "outputs": _tensors(signature.outputs if signature else None, "predict"),
        "parameters": {"registered_model": served.name, "uri": served.uri},
    }


def _tensors(schema: Schema | None, default_name: str) -> list[dict[str, Any]]:
    out = []
    for number, spec in enumerate(schema.specs if schema else ()):
        if isinstance(spec, TensorSpec):
            dtype = _numpy_dtype(spec.dtype)
            kind = datatype(dtype) if dtype is not None else "BYTES"
            shape = list(spec.shape)
        else:
            assert isinstance(spec, ColSpec)
            kind, shape = _COLUMN_DATATYPES.get(spec.type, "BYTES"), [-1]
        name = spec.name or (default_name if number == 0 else f"{default_name}-{number}")
        out.append({"name": name, "datatype": kind, "shape": shape})
    return out


def _numpy_dtype(name: str) -> np.dtype | None:
    try:
        return np.dtype(name)
    except TypeError:
        return None


def infer_item(body: Any, served: ServedVersion) -> Item:
    """The predict input of an inference request."""
    if not isinstance(body, dict):
        raise MalformedPayload("the inference request must be a JSON object with 'inputs'")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise MalformedPayload("'inputs' must be a non-empty list of tensors")
    params = body.get("parameters")
    params = params if isinstance(params, dict) and params else None
    tensors = {}
    for number, tensor in enumerate(inputs):
        name, array = _tensor(tensor, number)
        if name in tensors:
            raise MalformedPayload(f"input {name!r} appears twice")
        tensors[name] = array
    if served.columns is not None:
        return _columns_item(tensors, served, params)
    if len(tensors) == 1:
        array = next(iter(tensors.values()))
        if served.tensor is not None and served.row_wise and params is None:
            checked = enforce_input(array, served.predictor.input_schema)
            if isinstance(checked, np.ndarray):
                return Stack(checked)
        return Whole(array, params)
    return Whole(tensors, params)


def _tensor(tensor: Any, number: int) -> tuple[str, np.ndarray]:
    where = f"inputs[{number}]"
    if not isinstance(tensor, dict):
        raise MalformedPayload(f"{where} must be an object with name, shape, datatype, data")
    missing = [k for k in ("name", "shape", "datatype", "data") if k not in tensor]
    if missing:
        raise MalformedPayload(f"{where} lacks {missing}")
    name, shape, kind, data = tensor["name"], tensor["shape"], tensor["datatype"], tensor["data"]
    if not isinstance(name, str):
        raise MalformedPayload(f"{where}.name must be a string")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise MalformedPayload(f"{where}.shape must be a list of non-negative integers")
    if kind not in _DATATYPES:
        raise MalformedPayload(f"{where}.datatype {kind!r} is not one of {sorted(_DATATYPES)}")
    try:
        array: np.ndarray = np.asarray(data, dtype=_DATATYPES[kind])
        return name, array.reshape(shape)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInput(f"{where} ({name!r}) does not match its shape/datatype: {exc}") from None


def _columns_item(
    tensors: dict[str, np.ndarray], served: ServedVersion, params: dict[str, Any] | None
) -> Item:
    assert served.columns is not None
    if len(tensors) == 1:
        (name, array), = tensors.items()  # fmt: skip
        if array.ndim == 2 and name not in served.columns:
            if array.shape[1] != len(served.columns):
                raise InvalidInput(
                    f"input {name!r} has {array.shape[1]} columns; the model's signature has "
                    f"{len(served.columns)}: {list(served.columns)}"
                )
            frame = pd.DataFrame(array, columns=list(served.columns))
            return _rows_or_whole(frame, served, params)
    columns = {}
    for name, array in tensors.items():
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise InvalidInput(f"input {name!r} must be one column (shape [N] or [N, 1])")
        columns[name] = array
    if len({len(a) for a in columns.values()}) > 1:
        raise InvalidInput("the input columns have different lengths")
    return _rows_or_whole(pd.DataFrame(columns), served, params)


def _rows_or_whole(frame: pd.DataFrame, served: ServedVersion, params: Any) -> Item:
    columns = tuple(map(str, frame.columns))
    check_columns(columns, served)
    if params is None and served.row_wise:
        return Rows(columns, frame.to_numpy(dtype=object).tolist())
    return Whole(frame, params)


def infer_body(endpoint: str, version: str, request_id: str | None) -> Any:
    """An encoder for the worker: predictions → the inference response body."""

    def encode(predictions: Any) -> bytes:
        out: dict[str, Any] = {"model_name": endpoint, "model_version": version,
                               "outputs": outputs(predictions)}  # fmt: skip
        if request_id is not None:
            out["id"] = request_id
        return dumps(out)

    return encode


def outputs(predictions: Any) -> list[dict[str, Any]]:
    if isinstance(predictions, pd.DataFrame):
        return [_output(str(c), predictions[c].to_numpy()) for c in predictions.columns]
    if isinstance(predictions, dict):
        return [_output(str(k), np.asarray(v)) for k, v in predictions.items()]
    if isinstance(predictions, pd.Series):
        predictions = predictions.to_numpy()
    return [_output("predict", np.asarray(predictions))]


def _output(name: str, array: np.ndarray) -> dict[str, Any]:
    kind = datatype(array.dtype)
    data = array.ravel()
    if kind == "BYTES":
        data = np.array([v if isinstance(v, str) else str(v) for v in data], dtype=object)
    return {"name": name, "shape": list(array.shape), "datatype": kind, "data": data.tolist()}
