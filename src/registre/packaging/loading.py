"""Loading a model directory into a Predictor, choosing the flavor to load it with."""

from __future__ import annotations

from pathlib import Path

from registre.domain.errors import InvalidInput, UnsafeModel
from registre.packaging.flavors import FLAVORS, PYFUNC
from registre.packaging.mlmodel import ModelInfo, mlmodel_file, read_mlmodel
from registre.packaging.predictor import Predictor


def load_model(
    path: str | Path, *, trust_pickle: bool = False, trust_code: bool = False
) -> Predictor:
    """Load the model directory ``path`` with its native flavor (sklearn, onnx, registre_pyfunc).

    Pickled models need ``trust_pickle=True`` and pyfunc models that ship code need
    ``trust_code=True``; otherwise UnsafeModel is raised before anything is deserialized.

    >>> load_model("my_model").predict(frame)
    """
    directory = mlmodel_file(path).parent
    info = read_mlmodel(directory)
    name = native_flavor(info, directory)
    loaded = FLAVORS[name].load(
        directory, info.flavors[name], trust_pickle=trust_pickle, trust_code=trust_code
    )
    return Predictor(directory, info, name, loaded)


def native_flavor(info: ModelInfo, directory: Path) -> str:
    for name in FLAVORS:
        if name in info.flavors:
            return name
    present = sorted(info.flavors)
    if PYFUNC in info.flavors:
        loader = info.flavors[PYFUNC].get("loader_module")
        raise UnsafeModel(
            f"{directory} has flavors {present}, none of which Registre loads natively. Its "
            f"{PYFUNC} flavor would mean importing and running {loader!r} to unpack it, which "
            "Registre does not do; load it with mlflow.pyfunc.load_model where you trust it."
        )
    raise InvalidInput(f"{directory} has flavors {present}; Registre can load {sorted(FLAVORS)}")
