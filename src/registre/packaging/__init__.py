"""Model packaging: writing and reading model directories in MLflow's MLmodel layout.

>>> from registre.packaging import save_model, load_model
>>> save_model(estimator, "my_model", input_example=X[:5])
>>> load_model("my_model").predict(X)
"""

from registre.packaging.flavors import PyfuncModel
from registre.packaging.loading import load_model
from registre.packaging.mlmodel import InputExampleInfo, ModelInfo, read_mlmodel, write_mlmodel
from registre.packaging.predictor import Predictor
from registre.packaging.saving import save_model
from registre.packaging.signature import (
    ColSpec,
    ModelSignature,
    Schema,
    TensorSpec,
    infer_signature,
)

__all__ = [
    "ColSpec",
    "InputExampleInfo",
    "ModelInfo",
    "ModelSignature",
    "Predictor",
    "PyfuncModel",
    "Schema",
    "TensorSpec",
    "infer_signature",
    "load_model",
    "read_mlmodel",
    "save_model",
    "write_mlmodel",
]
