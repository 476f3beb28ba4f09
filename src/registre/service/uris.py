"""Parsing of ``models:/`` URIs into a model name and a reference."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from registre.domain.entities import Stage
from registre.domain.errors import InvalidInput

RefKind = Literal["version", "stage", "latest", "alias"]


@dataclass(frozen=True, slots=True)
class ModelRef:
    name: str
    kind: RefKind
    value: str  # version number, canonical stage, "latest", or alias name

    def __str__(self) -> str:
        if self.kind == "alias":
            return f"models:/{self.name}@{self.value}"
        return f"models:/{self.name}/{self.value}"


def parse_ref(name: str, ref: str | int) -> ModelRef:
    """``("M", 3)``, ``("M", "production")``, ``("M", "latest")``, ``("M", "@champion")``."""
    text = str(ref).strip()
    if text.startswith("@"):
        return ModelRef(name, "alias", text[1:])
    if re.fullmatch(r"\d+", text):
        return ModelRef(name, "version", str(int(text)))
    if text.lower() == "latest":
        return ModelRef(name, "latest", "latest")
    try:
        return ModelRef(name, "stage", Stage.parse(text).value)
    except InvalidInput:
        raise InvalidInput(
            f"invalid model reference {text!r}: use a version number, 'latest', a stage "
            f"({', '.join(s.value for s in Stage)}) or '@alias'"
        ) from None


def parse_model_uri(uri: str) -> ModelRef:
    """``models:/Name/<version|stage|latest>`` or ``models:/Name@alias``."""
    if not isinstance(uri, str) or not uri.startswith("models:"):
        raise InvalidInput(f"not a models:/ URI: {uri!r}")
    path = unquote(uri[len("models:") :]).lstrip("/")
    if "@" in path and "/" not in path.split("@", 1)[1]:
        name, alias = path.rsplit("@", 1)
        if name and alias:
            return ModelRef(name, "alias", alias)
    parts = path.rsplit("/", 1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise InvalidInput(
            f"invalid model URI {uri!r}: expected models:/<name>/<version|stage|latest> "
            "or models:/<name>@<alias>"
        )
    return parse_ref(parts[0], parts[1])
