"""ONNX models, run with onnxruntime.

``predict`` feeds a single-input model a DataFrame or array; a multi-input model takes a dict of
arrays (or a DataFrame whose columns are the input names). It returns the first output as an
ndarray; ``params={"output": "all"}`` returns a dict of every output, ``{"output": name}`` one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from registre.domain.errors import InvalidInput
from registre.packaging.environment import pinned
from registre.packaging.flavors.base import PYFUNC, LoadedModel, SavedFlavor
from registre.packaging.paths import inside

NAME = "onnx"
MODEL_FILE = "model.onnx"
_CPU = "CPUExecutionProvider"

_ONNX_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


def accepts(model: Any) -> bool:
    if isinstance(model, str | Path):
        return str(model).endswith(".onnx")
    # Checked by name so that saving other flavors never imports onnx.
    return type(model).__name__ == "ModelProto" and type(model).__module__.startswith("onnx")


def save(model: Any, directory: Path, *, serialization: str) -> SavedFlavor:
    if serialization != "skops":
        raise InvalidInput("serialization applies to sklearn models only")
    content = _model_bytes(model)
    (directory / MODEL_FILE).write_bytes(content)
    session = _session(content, [_CPU])
    conf: dict[str, Any] = {"data": MODEL_FILE, "providers": [_CPU], "code": None}
    requirements = pinned("onnxruntime", "numpy")
    try:
        import onnx
    except ImportError:
        pass  # saved from bytes without the onnx package: nothing to record
    else:
        conf["onnx_version"] = onnx.__version__
        requirements = pinned("onnx") + requirements
    flavors = {NAME: conf, PYFUNC: {"loader_module": "mlflow.onnx", "data": MODEL_FILE}}
    return SavedFlavor(flavors, requirements, lambda data, params: _predict(session, data, params))


def _model_bytes(model: Any) -> bytes:
    if isinstance(model, bytes | bytearray):
        return bytes(model)
    if isinstance(model, str | Path):
        return Path(model).read_bytes()
    if callable(getattr(model, "SerializeToString", None)):
        return bytes(model.SerializeToString())
    raise InvalidInput(
        f"cannot save {type(model).__name__} as ONNX: pass an onnx.ModelProto, "
        "the bytes of a .onnx file, or its path"
    )


def load(
    directory: Path, conf: dict[str, Any], *, trust_pickle: bool, trust_code: bool
) -> LoadedModel:
    file = inside(directory, conf.get("data") or MODEL_FILE)
    recorded = conf.get("providers") or [_CPU]
    session = _session(str(file), [p for p in recorded if isinstance(p, str)])
    return LoadedModel(session, lambda data, params: _predict(session, data, params))


def _session(model: str | bytes, providers: list[str]) -> Any:
    import onnxruntime

    # Providers recorded on a GPU machine may not exist here; the CPU one always does.
    available = set(onnxruntime.get_available_providers())
    usable = [p for p in providers if p in available] or [_CPU]
    try:
        return onnxruntime.InferenceSession(model, providers=usable)
    except Exception as exc:  # onnxruntime raises its own untyped errors for invalid models
        raise InvalidInput(f"onnxruntime cannot load the model: {exc}") from exc


def _predict(session: Any, data: Any, params: dict[str, Any] | None) -> Any:
    feed = _feed(session.get_inputs(), data)
    names = [o.name for o in session.get_outputs()]
    results = dict(zip(names, session.run(None, feed), strict=True))
    wanted = (params or {}).get("output")
    if wanted == "all":
        return results
    if wanted is not None:
        if wanted not in results:
            raise InvalidInput(f"unknown output {wanted!r}: the model has {names}")
        return results[wanted]
    return results[names[0]]


def _feed(inputs: list[Any], data: Any) -> dict[str, np.ndarray]:
    names = [i.name for i in inputs]
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            raise InvalidInput(f"missing model input(s) {missing}; the model takes {names}")
        return {i.name: _as_tensor(data[i.name], i) for i in inputs}
    if isinstance(data, pd.DataFrame):
        if len(inputs) > 1 or names[0] in data.columns:
            return _feed(inputs, {c: data[c].to_numpy() for c in data.columns})
        data = data.to_numpy()
    if len(inputs) > 1:
        raise InvalidInput(f"the model takes several inputs {names}: pass a dict of arrays")
    return {names[0]: _as_tensor(data, inputs[0])}


def _as_tensor(values: Any, spec: Any) -> np.ndarray:
    array = np.asarray(values, dtype=_ONNX_TYPES.get(spec.type))
    rank = len(spec.shape)
    if array.ndim == 1 and rank == 2:
        array = array.reshape(-1, 1)  # one DataFrame column feeding an [N, 1] input
    if array.ndim != rank:
        raise InvalidInput(
            f"input {spec.name!r} has shape {list(array.shape)}, the model expects {spec.shape}"
        )
    return array
