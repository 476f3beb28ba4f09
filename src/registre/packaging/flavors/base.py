"""What every flavor module provides: detection, saving into a directory, loading from one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

PredictFn = Callable[[Any, dict[str, Any] | None], Any]

PYFUNC = "python_function"  # MLflow's generic flavor, read by mlflow.pyfunc.load_model


@dataclass(frozen=True)
class SavedFlavor:
    flavors: dict[str, dict[str, Any]]  # the MLmodel entries the flavor wrote
    requirements: list[str]  # defaults for requirements.txt
    predict: PredictFn  # over the in-memory model, to infer the output schema


@dataclass(frozen=True)
class LoadedModel:
    raw_model: Any
    predict: PredictFn


class Flavor(Protocol):
    NAME: str

    def accepts(self, model: Any) -> bool: ...

    def save(self, model: Any, directory: Path, *, serialization: str) -> SavedFlavor: ...

    def load(
        self, directory: Path, conf: dict[str, Any], *, trust_pickle: bool, trust_code: bool
    ) -> LoadedModel: ...
