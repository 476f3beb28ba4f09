"""Generic Python models: a class Registre stores by import path, plus the code it needs.

The class has ``predict(self, model_input, params=None)`` and optionally
``load_context(self, artifacts_dir: pathlib.Path)``; it is built with no arguments. Nothing is
pickled: the MLmodel records ``entry_point: "module:Class"``, and the files given as
``code_paths`` are copied into ``code/`` (``artifacts`` into ``artifacts/<name>``).

Loading imports ``module`` and builds the class, so it runs Python code. When the model ships
its own code (``code/``), that code comes from whoever made the model: loading then requires
``trust_code=True`` and puts ``code/`` first on ``sys.path``. A model without shipped code only
names a class already installed here; the entry point must still be a class with ``predict``.
Module names are process-wide: a module of the same name that is already imported is reused.

>>> save_model(PyfuncModel(MyModel, code_paths=["my_model.py"]), "out")
>>> load_model("out", trust_code=True).predict(frame)
"""

from __future__ import annotations

import importlib
import inspect
import platform
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registre.domain.errors import InvalidInput, UnsafeModel
from registre.packaging.environment import pinned
from registre.packaging.flavors.base import LoadedModel, SavedFlavor
from registre.packaging.paths import inside

NAME = "registre_pyfunc"
CODE_DIR = "code"
ARTIFACTS_DIR = "artifacts"


@dataclass(frozen=True)
class PyfuncModel:
    """What to save: the model class (or ``"module:Class"``), code files, artifact files."""

    model_class: type | str
    code_paths: Sequence[str | Path] = ()
    artifacts: Mapping[str, str | Path] = field(default_factory=dict)


def accepts(model: Any) -> bool:
    return isinstance(model, PyfuncModel) or (
        inspect.isclass(model) and callable(getattr(model, "predict", None))
    )


def save(model: Any, directory: Path, *, serialization: str) -> SavedFlavor:
    if serialization != "skops":
        raise InvalidInput("serialization applies to sklearn models only")
    spec = model if isinstance(model, PyfuncModel) else PyfuncModel(model)
    entry_point = _entry_point(spec.model_class)
    conf: dict[str, Any] = {"entry_point": entry_point, "python_version": platform.python_version()}
    if spec.code_paths:
        _copy_all(spec.code_paths, directory / CODE_DIR)
        conf["code"] = CODE_DIR
    if spec.artifacts:
        _copy_artifacts(spec.artifacts, directory / ARTIFACTS_DIR)
        conf["artifacts"] = ARTIFACTS_DIR
    artifacts_dir = directory / ARTIFACTS_DIR
    instance: list[Any] = []

    def predict(data: Any, params: dict[str, Any] | None) -> Any:
        # Built on first use only: saving without an input example runs none of the model's code.
        if not instance:
            cls = spec.model_class if inspect.isclass(spec.model_class) else _resolve(entry_point)
            instance.append(_build(cls, artifacts_dir))
        return _call_predict(instance[0], data, params)

    return SavedFlavor({NAME: conf}, pinned("registre", "numpy", "pandas"), predict)


def _entry_point(model_class: type | str) -> str:
    if isinstance(model_class, str):
        if ":" not in model_class:
            raise InvalidInput(f"entry point {model_class!r} is not of the form 'module:Class'")
        return model_class
    if not inspect.isclass(model_class) or not callable(getattr(model_class, "predict", None)):
        raise InvalidInput("a pyfunc model is a class with a predict(model_input, params) method")
    module, qualname = model_class.__module__, model_class.__qualname__
    if module == "__main__" or "<locals>" in qualname:
        raise InvalidInput(
            f"{qualname} cannot be imported back by name: define it at the top "
            "level of a module and pass that module's file in code_paths"
        )
    return f"{module}:{qualname}"


def _copy_all(paths: Sequence[str | Path], target: Path) -> None:
    target.mkdir()
    for source in map(Path, paths):
        destination = target / source.name
        if destination.exists():
            raise InvalidInput(f"two code paths are named {source.name!r}")
        _copy(source, destination)


def _copy_artifacts(artifacts: Mapping[str, str | Path], target: Path) -> None:
    target.mkdir()
    for name, source in artifacts.items():
        if not name or name in (".", "..") or "/" in name or "\\" in name:
            raise InvalidInput(f"artifact name {name!r} must be a plain file name")
        _copy(Path(source), target / name)


def _copy(source: Path, destination: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
    elif source.is_file():
        shutil.copy2(source, destination)
    else:
        raise InvalidInput(f"{source} does not exist")


def load(
    directory: Path, conf: dict[str, Any], *, trust_pickle: bool, trust_code: bool
) -> LoadedModel:
    entry_point = conf.get("entry_point")
    if not isinstance(entry_point, str) or ":" not in entry_point:
        raise InvalidInput(f"{directory}/MLmodel has no valid {NAME}.entry_point")
    if conf.get("code"):
        code_dir = inside(directory, conf["code"])
        if not trust_code:
            raise UnsafeModel(
                f"{directory} ships Python code ({conf['code']}/) that loading would import and "
                "run. Load it with trust_code=True only if you trust where this model came from."
            )
        if str(code_dir) not in sys.path:
            sys.path.insert(0, str(code_dir))
        importlib.invalidate_caches()
    artifacts_dir = inside(directory, conf.get("artifacts") or ARTIFACTS_DIR)
    instance = _build(_resolve(entry_point), artifacts_dir)
    return LoadedModel(instance, lambda data, params: _call_predict(instance, data, params))


def _resolve(entry_point: str) -> type:
    module_name, _, qualname = entry_point.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(f"cannot import pyfunc entry point {entry_point!r}: {exc}") from exc
    # Only a class with predict: a crafted MLmodel must not get us to call, say, os.system.
    if not inspect.isclass(target) or not callable(getattr(target, "predict", None)):
        raise InvalidInput(f"pyfunc entry point {entry_point!r} is not a class with predict")
    return target


def _build(cls: type, artifacts_dir: Path) -> Any:
    instance = cls()
    if callable(load_context := getattr(instance, "load_context", None)):
        load_context(artifacts_dir)
    return instance


def _call_predict(instance: Any, data: Any, params: dict[str, Any] | None) -> Any:
    # predict(model_input) without params is accepted too, as long as no params are sent.
    if params is None:
        return instance.predict(data)
    return instance.predict(data, params=params)
