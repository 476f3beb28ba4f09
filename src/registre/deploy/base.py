"""The deployment-target interface: what ``registre deploy`` asks of every target.

A target is made by a factory taking a :class:`TargetContext`; built-in targets are registered
in code, others come from the ``registre.deploy_targets`` entry-point group::

    [project.entry-points."registre.deploy_targets"]
    mytarget = "my_package.deploy:MyTarget"   # MyTarget(context) -> DeploymentTarget
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from registre.domain.entities import ModelVersion
from registre.domain.errors import InvalidInput


@dataclass
class Deployment:
    """One deployment as a target reports it."""

    name: str
    target: str
    uri: str
    status: str  # target-specific: "running", "stopped", "written", "InService", ...
    version: str | None = None  # the model version deployed (or served right now)
    endpoint: str | None = None  # where to send predictions, when known
    details: dict[str, Any] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)  # what to run by hand to apply it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TargetContext:
    """What a target may use: the data directory, the registry, and how the CLI reached it."""

    home: Path
    client_factory: Callable[[], Any]  # opens the registre.Client lazily
    registry_args: list[str] = field(default_factory=list)  # root CLI options for child processes
    _client: Any = field(default=None, repr=False)

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.client_factory()
        return self._client

    def directory(self, target: str, name: str) -> Path:
        return self.home / "deployments" / target / check_name(name)


class DeploymentTarget(Protocol):
    name: str

    def create(self, name: str, uri: str, config: Mapping[str, str]) -> Deployment: ...
    def update(self, name: str, uri: str | None, config: Mapping[str, str]) -> Deployment: ...
    def delete(self, name: str, config: Mapping[str, str]) -> list[str] | None:
        """Remove the deployment; returns commands still to run by hand, if any."""
        ...

    def list(self, config: Mapping[str, str]) -> list[Deployment]: ...
    def get(self, name: str, config: Mapping[str, str]) -> Deployment: ...


TargetFactory = Callable[[TargetContext], DeploymentTarget]

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def check_name(name: str) -> str:
    """Deployment names travel into DNS labels, container and endpoint names: keep them so."""
    if not _NAME.match(name):
        raise InvalidInput(
            f"invalid deployment name {name!r}: use 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return name


def slug(text: str) -> str:
    """A model name as an image or resource name: lowercase letters, digits and '-'."""
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:50] or "model"


def default_image(version: ModelVersion) -> str:
    return f"registre/{slug(version.name)}:v{version.version}"


def write_json(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    return path


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def option(config: Mapping[str, str], key: str, default: str) -> str:
    return str(config.get(key, default))


def int_option(config: Mapping[str, str], key: str, default: int) -> int:
    try:
        return int(config.get(key, default))
    except ValueError:
        raise InvalidInput(f"config {key} must be an integer, not {config[key]!r}") from None
