"""Targets whose deployment is a set of files, applied with the platform's own CLI.

``create`` resolves the URI to a version, writes the files under
``<home>/deployments/<target>/<name>/`` (or ``-C output=DIR``) with a ``deployment.json`` that
remembers them, and returns the exact commands to apply them.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from registre.deploy.base import Deployment, TargetContext, check_name, read_json, write_json
from registre.domain.entities import ModelVersion
from registre.domain.errors import AlreadyExists, NotFound

STATE_FILE = "deployment.json"


@dataclass
class Rendered:
    files: dict[str, Any]  # relative path → YAML/JSON-able document, or text
    commands: list[str]
    delete_commands: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class WrittenTarget:
    """Subclasses set ``name`` and implement ``render``."""

    name = "written"

    def __init__(self, context: TargetContext) -> None:
        self.context = context

    def render(
        self, name: str, version: ModelVersion, uri: str, config: Mapping[str, str], out: Path
    ) -> Rendered:
        raise NotImplementedError

    def create(self, name: str, uri: str, config: Mapping[str, str]) -> Deployment:
        check_name(name)
        if (self._state_dir(name) / STATE_FILE).exists():
            raise AlreadyExists(f"{self.name} deployment {name!r} exists: update or delete it")
        return self._write(name, uri, dict(config))

    def update(self, name: str, uri: str | None, config: Mapping[str, str]) -> Deployment:
        spec = self._spec(name)
        return self._write(name, uri or spec["uri"], {**spec["config"], **config})

    def delete(self, name: str, config: Mapping[str, str]) -> list[str]:
        spec = self._spec(name)
        output = Path(spec["output"])
        if output != self._state_dir(name):
            shutil.rmtree(output, ignore_errors=True)
        shutil.rmtree(self._state_dir(name), ignore_errors=True)
        commands: list[str] = spec.get("delete_commands", [])
        return commands

    def list(self, config: Mapping[str, str]) -> list[Deployment]:
        root = self.context.home / "deployments" / self.name
        return [self.get(p.parent.name, config) for p in sorted(root.glob(f"*/{STATE_FILE}"))]

    def get(self, name: str, config: Mapping[str, str]) -> Deployment:
        spec = self._spec(name)
        return self._deployment(spec)

    # ---- helpers ---------------------------------------------------------------------------
    def _state_dir(self, name: str) -> Path:
        return self.context.directory(self.name, name)

    def _spec(self, name: str) -> dict[str, Any]:
        file = self._state_dir(name) / STATE_FILE
        if not file.exists():
            raise NotFound(f"no {self.name} deployment {name!r}")
        spec: dict[str, Any] = read_json(file)
        return spec

    def _write(self, name: str, uri: str, config: dict[str, str]) -> Deployment:
        version = self.context.client.resolve_uri(uri)
        out = Path(config.get("output") or self._state_dir(name)).resolve()
        out.mkdir(parents=True, exist_ok=True)
        rendered = self.render(name, version, uri, config, out)
        for rel, content in rendered.files.items():
            write_document(out / rel, content)
        spec = {
            "name": name, "target": self.name, "uri": uri, "version": str(version.version),
            "model": version.name, "config": config, "output": str(out),
            "files": sorted(rendered.files), "commands": rendered.commands,
            "delete_commands": rendered.delete_commands, "details": rendered.details,
            "updated_at": time.time(),
        }  # fmt: skip
        write_json(self._state_dir(name) / STATE_FILE, spec)
        return self._deployment(spec)

    def _deployment(self, spec: dict[str, Any]) -> Deployment:
        details = {"output": spec["output"], "files": ", ".join(spec["files"]), **spec["details"]}
        return Deployment(
            spec["name"], self.name, spec["uri"], spec["details"].get("status", "written"),
            spec["version"], spec["details"].get("endpoint"), details, spec["commands"],
        )  # fmt: skip


def write_document(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif path.suffix == ".json":
        write_json(path, content)
    elif isinstance(content, list):  # several YAML documents in one file
        path.write_text(yaml.safe_dump_all(content, sort_keys=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
