"""scikit-learn models, stored with skops by default (pickle only when the caller opts in)."""

from __future__ import annotations

import importlib
import inspect
import pickle
import zipfile
from pathlib import Path
from typing import Any

from registre.domain.errors import InvalidInput, UnsafeModel
from registre.packaging.environment import pinned
from registre.packaging.flavors.base import PYFUNC, LoadedModel, SavedFlavor
from registre.packaging.paths import inside

NAME = "sklearn"
SKOPS_FILE = "model.skops"
PICKLE_FILE = "model.pkl"
FORMATS = ("skops", "pickle", "cloudpickle")

# Packages whose classes may be auto-trusted when loading a skops file (see _trusted_types).
_LIBRARY_PACKAGES = frozenset({"sklearn", "numpy", "scipy"})


def accepts(model: Any) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:
        return False
    return isinstance(model, BaseEstimator)


def save(model: Any, directory: Path, *, serialization: str) -> SavedFlavor:
    import sklearn

    if serialization not in FORMATS:
        raise InvalidInput(f"unknown serialization {serialization!r}: use one of {FORMATS}")
    if serialization == "skops":
        file, trusted = _dump_skops(model, directory / SKOPS_FILE)
        requirements = pinned("scikit-learn", "numpy", "scipy", "skops")
    else:
        file, trusted = _dump_pickle(model, directory / PICKLE_FILE, serialization), []
        extra = ("cloudpickle",) if serialization == "cloudpickle" else ()
        requirements = pinned("scikit-learn", "numpy", "scipy", *extra)
    flavors: dict[str, dict[str, Any]] = {
        NAME: {
            "pickled_model": file.name,
            "serialization_format": serialization,
            "sklearn_version": sklearn.__version__,
            "skops_trusted_types": trusted or None,
            "code": None,
        }
    }
    if callable(getattr(model, "predict", None)):
        flavors[PYFUNC] = {
            "loader_module": "mlflow.sklearn",
            "model_path": file.name,
            "predict_fn": "predict",
        }
    return SavedFlavor(flavors, requirements, lambda data, params: model.predict(data))


def _dump_skops(model: Any, file: Path) -> tuple[Path, list[str]]:
    import skops.io as sio

    sio.dump(model, file)
    # The saver trusts its own model: record every type skops does not trust by default, so
    # MLflow (which passes this list to skops as is) and Registre can load it back.
    trusted = sio.get_untrusted_types(file=file)
    sio.load(file, trusted=trusted)  # fail now, not at load time, if skops cannot rebuild it
    return file, trusted


def _dump_pickle(model: Any, file: Path, serialization: str) -> Path:
    if serialization == "cloudpickle":
        try:
            import cloudpickle as pickler
        except ImportError as exc:
            raise InvalidInput("serialization='cloudpickle' needs the cloudpickle package") from exc
    else:
        pickler = pickle
    with file.open("wb") as out:
        # The default protocol, not the highest: older Pythons (and MLflow) must read it.
        pickler.dump(model, out, protocol=pickle.DEFAULT_PROTOCOL)
    return file


def load(
    directory: Path, conf: dict[str, Any], *, trust_pickle: bool, trust_code: bool
) -> LoadedModel:
    # MLflow's own default for MLmodel files written before serialization_format existed.
    serialization = conf.get("serialization_format", "pickle")
    file = inside(directory, conf.get("pickled_model") or PICKLE_FILE)
    if serialization == "skops":
        recorded = conf.get("skops_trusted_types") or []
        model = _load_skops(file, [str(t) for t in recorded], trust_pickle)
    elif serialization in ("pickle", "cloudpickle"):
        if not trust_pickle:
            raise UnsafeModel(
                f"{file} is a {serialization} file: unpickling it can run arbitrary code. Load it "
                "with trust_pickle=True only if you trust where this model came from."
            )
        model = _unpickle(file)
    else:
        raise InvalidInput(
            f"unknown sklearn serialization_format {serialization!r} in {directory}/MLmodel"
        )
    if not callable(getattr(model, "predict", None)):
        raise InvalidInput(f"the model in {file} ({type(model).__name__}) has no predict method")
    return LoadedModel(model, lambda data, params: model.predict(data))


def _load_skops(file: Path, recorded: list[str], trust_all: bool) -> Any:
    import skops.io as sio

    try:
        needed = sio.get_untrusted_types(file=file)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InvalidInput(f"{file} is not a readable skops file: {exc}") from exc
    if not trust_all:
        refused = [t for t in needed if not _may_trust(t, recorded)]
        if refused:
            raise UnsafeModel(
                f"{file} needs types that Registre does not trust on its own: {refused}. A type "
                "is trusted when the MLmodel lists it in skops_trusted_types and it is a class "
                "from scikit-learn, NumPy or SciPy. Load with trust_pickle=True to trust every "
                "type in the file (as unsafe as unpickling) if you trust where it came from."
            )
    return sio.load(file, trusted=needed)


def _may_trust(type_name: str, recorded: list[str]) -> bool:
    # The recorded list comes from the MLmodel file, which whoever made the model wrote: it could
    # list builtins.eval or os.system. So a type must be (1) recorded, (2) a class, not a function
    # (skops hands functions back to the model, which may call them), and (3) from a library the
    # model already runs on. skops rebuilds such classes by setting their state, without calling
    # arbitrary code, which is what makes sklearn.tree._tree.Tree and friends safe to accept.
    if type_name not in recorded:
        return False
    module_name, _, attribute = type_name.rpartition(".")
    if module_name.split(".")[0] not in _LIBRARY_PACKAGES:
        return False
    try:
        return inspect.isclass(getattr(importlib.import_module(module_name), attribute))
    except (ImportError, AttributeError):
        return False


def _unpickle(file: Path) -> Any:
    try:
        import cloudpickle as unpickler  # reads both plain pickles and cloudpickle's output
    except ImportError:
        unpickler = pickle
    with file.open("rb") as source:
        return unpickler.load(source)
