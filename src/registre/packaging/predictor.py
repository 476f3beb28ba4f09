"""A loaded model: predict on frames, arrays, records or columns, checked against its signature."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registre.packaging.enforcement import enforce_input
from registre.packaging.flavors import LoadedModel
from registre.packaging.input_example import read_input_example
from registre.packaging.inputs import to_model_input
from registre.packaging.mlmodel import ModelInfo
from registre.packaging.signature import Schema


class Predictor:
    """A model loaded from a directory, with the MLmodel it was described by."""

    def __init__(self, path: Path, metadata: ModelInfo, flavor: str, loaded: LoadedModel) -> None:
        self.path = path
        self.metadata = metadata
        self.flavor = flavor
        self._loaded = loaded

    @property
    def raw_model(self) -> Any:
        """The underlying object: an estimator, an onnxruntime session, a pyfunc instance."""
        return self._loaded.raw_model

    @property
    def input_schema(self) -> Schema | None:
        signature = self.metadata.signature
        return signature.inputs if signature is not None else None

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on a DataFrame, ndarray, list of records or dict of columns.

        Input is checked against the model's input signature (InvalidInput names the missing
        column or the wrong type). ``params`` go to pyfunc models and select ONNX outputs.

        >>> load_model("my_model").predict([{"x": 1.0, "y": 2.0}])
        array([0])
        """
        model_input = enforce_input(to_model_input(data), self.input_schema)
        return self._loaded.predict(model_input, params)

    def input_example(self) -> Any:
        """The stored input example (a DataFrame, or an array for tensor models), or None."""
        info = self.metadata.saved_input_example_info
        if info is None:
            return None
        return read_input_example(self.path, info, self.input_schema)

    def __repr__(self) -> str:
        return f"Predictor(path={str(self.path)!r}, flavor={self.flavor!r})"
