"""The flavors Registre writes and loads natively, in the order loading prefers them."""

from __future__ import annotations

from typing import Any

from registre.domain.errors import InvalidInput
from registre.packaging.flavors import onnx, pyfunc, sklearn
from registre.packaging.flavors.base import PYFUNC, Flavor, LoadedModel, SavedFlavor
from registre.packaging.flavors.pyfunc import PyfuncModel

FLAVORS: dict[str, Flavor] = {sklearn.NAME: sklearn, onnx.NAME: onnx, pyfunc.NAME: pyfunc}
_ALIASES = {"pyfunc": pyfunc.NAME}

__all__ = ["FLAVORS", "PYFUNC", "Flavor", "LoadedModel", "PyfuncModel", "SavedFlavor", "flavor_for"]


def flavor_for(model: Any, name: str | None = None) -> Flavor:
    if name is not None:
        try:
            return FLAVORS[_ALIASES.get(name, name)]
        except KeyError:
            raise InvalidInput(f"unknown flavor {name!r}: use one of {sorted(FLAVORS)}") from None
    for flavor in FLAVORS.values():
        if flavor.accepts(model):
            return flavor
    raise InvalidInput(
        f"cannot tell the flavor of a {type(model).__name__}: pass flavor= one of {sorted(FLAVORS)}"
    )
