"""Model-version sources from tracking: ``runs:/``, ``models:/m-…``, ``mlflow-artifacts:/…``.

A source resolves to entries of the artifact index (never to a filesystem path); registering
from it hands their digests to ``Registry.register_version``, so no byte is copied and the
version holds exactly the files the source held at registration time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from registre.domain.entities import FileEntry, ModelVersion
from registre.domain.errors import InvalidInput, NotFound
from registre.domain.tracking import (
    ARTIFACT_SCHEME,
    ArtifactLocation,
    check_artifact_key,
    check_run_id,
    model_artifact_root,
    parse_artifact_location,
    run_artifact_root,
    version_artifact_uri,
)
from registre.store.sql.tracking_store import run_logged_model_ids

if TYPE_CHECKING:
    from registre.domain.tracking import LoggedModel, Run
    from registre.service.tracking import Tracking

_LOGGED_MODEL_URI = re.compile(r"^models:/(m-[0-9a-f]{32})/?$")
MAX_SOURCE_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class ResolvedSource:
    location: ArtifactLocation | None  # where the files are in the artifact index
    version: ModelVersion | None  # or: the registered version they come from
    run_id: str | None
    model_id: str | None
    run: Run | None = None  # already loaded while resolving, when it was
    model: LoggedModel | None = None  # likewise


class TrackingSources:
    def __init__(self, tracking: Tracking) -> None:
        self.tracking = tracking
        self.registry = tracking.registry

    def resolve(self, source: str) -> ResolvedSource:
        """Where ``source`` points; InvalidInput for anything but the three tracked forms."""
        if not isinstance(source, str) or not source or len(source) > MAX_SOURCE_LENGTH:
            raise InvalidInput("model version source must be a non-empty string")
        if match := _LOGGED_MODEL_URI.match(source):
            model = self.tracking.get_logged_model(match.group(1))
            root = model_artifact_root(model.experiment_id, model.id)
            return ResolvedSource(
                ArtifactLocation(root, ""), None, model.source_run_id, model.id, model=model
            )
        if source.startswith("models:/"):
            version = self.registry.resolve_uri(source)
            return ResolvedSource(None, version, version.run_id, None)
        if source.startswith("runs:/"):
            run_id, _, path = source[len("runs:/") :].partition("/")
            run = self.tracking.get_run(check_run_id(run_id))
            path = check_artifact_key(path, allow_root=True)
            location = ArtifactLocation(run_artifact_root(run.experiment_id, run.id), path)
            if not self.tracking.artifacts.entries(location.root, path):
                # MLflow 3 keeps a run's model as a logged model named after the path.
                output = self._run_output(run, path)
                if output is not None:
                    return replace(self.resolve(f"models:/{output}"), run=run)
            return ResolvedSource(location, None, run.id, None, run)
        if source.startswith(ARTIFACT_SCHEME):
            parts = urlsplit(source)
            if parts.query or parts.fragment or "#" in source or "?" in source:
                raise InvalidInput(f"invalid artifact URI {source!r}")
            location = parse_artifact_location(parts.path.lstrip("/"))
            root = location.root
            if root.kind == "model":
                model = self.tracking.get_logged_model(root.id)
                model_id = None if location.path else model.id
                return ResolvedSource(location, None, model.source_run_id, model_id)
            return ResolvedSource(location, None, self.tracking.get_run(root.id).id, None)
        raise InvalidInput(
            f"unsupported model version source {source!r}: use runs:/<run_id>/<path>, "
            "models:/<model_id>, models:/<name>/<version> or mlflow-artifacts:/... "
            "(Registre never reads paths on the server)"
        )

    def _run_output(self, run: Run, name: str) -> str | None:
        """The logged model ``run`` produced under ``name`` (the newest output step wins)."""
        steps = dict(run.outputs)
        with self.tracking.store.read() as conn:
            candidates = run_logged_model_ids(conn, run.id, name)
        if not candidates:
            return None
        return max(candidates, key=lambda c: (steps.get(c[0], -1), c[1]))[0]

    def files(self, resolved: ResolvedSource) -> list[FileEntry]:
        if resolved.version is not None:
            return list(self.registry.get_version(resolved.version.name,
                                                  resolved.version.version).files)  # fmt: skip
        assert resolved.location is not None
        location = resolved.location
        prefix = f"{location.path}/" if location.path else ""
        entries = self.tracking.artifacts.entries(location.root, location.path)
        return [
            FileEntry(e.path[len(prefix) :], e.digest, e.size)
            for e in entries
            if e.path.startswith(prefix)  # the source names a directory, not a single file
        ]

    def register(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
    ) -> ModelVersion:
        """Register the next version of ``name`` from the files ``source`` points at, with the
        metrics and params of its run (and of its logged model)."""
        self.registry.get_model(name)  # MLflow semantics: the model must exist already
        resolved = self.resolve(source)
        files = self.files(resolved)
        if not files:
            raise InvalidInput(f"model version source {source!r} holds no artifacts")
        run_id = run_id or resolved.run_id
        metrics: dict[str, float] = {}
        params: dict[str, str] = {}
        if run_id:
            run = resolved.run
            if run is None or run.id != run_id:
                try:
                    run = self.tracking.get_run(run_id)
                except NotFound:
                    raise InvalidInput(f"run {run_id!r} does not exist") from None
            metrics.update(run.latest_metrics())
            params.update(run.params)
        if resolved.model_id:
            # The run's latest values win: a logged model only holds those of its own step.
            model = resolved.model
            if model is None or model.id != resolved.model_id:
                model = self.tracking.get_logged_model(resolved.model_id)
            metrics = {**{m.key: m.value for m in model.metrics}, **metrics}
            params = {**model.params, **params}
        elif resolved.version is not None:
            metrics = {**resolved.version.metrics, **metrics}
            params = {**resolved.version.params, **params}
        return self.registry.register_version(
            name, files, source=source, run_id=run_id, metrics=metrics, params=params,
            tags=tags, description=description, create_model=False,
        )  # fmt: skip

    def download_uri(self, version: ModelVersion) -> str:
        """Where an MLflow client downloads ``version``'s files through the artifact proxy: the
        version's own manifest, so later changes to run artifacts never alter what it serves."""
        return version_artifact_uri(version.name, version.version)
