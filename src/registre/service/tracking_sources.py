"""Model-version sources from tracking: ``runs:/``, ``models:/m-…``, ``mlflow-artifacts:/…``.

A source resolves to entries of the artifact index (never to a filesystem path); registering
from it hands their digests to ``Registry.register_version``, so no byte is copied and the
version holds exactly the files the source held at registration time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from anyio import to_thread

from registre.domain.entities import FileEntry, ModelVersion
from registre.domain.errors import InvalidInput, NotFound
from registre.domain.tracking import (
    ARTIFACT_SCHEME,
    ArtifactRoot,
    check_artifact_key,
    check_run_id,
    parse_proxy_location,
    version_artifact_uri,
)
from registre.store.sql import source_reads as q
from registre.store.sql import tracking_store as tq

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from registre.service.registry import VersionDraft
    from registre.service.tracking import Tracking

_LOGGED_MODEL_URI = re.compile(r"^models:/(m-[0-9a-f]{32})/?$")
MAX_SOURCE_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class ResolvedSource:
    """What a source holds: its files, and whose metrics and params come with them."""

    files: list[FileEntry]
    run_id: str | None
    version: ModelVersion | None = None  # a registered version copied: its values come along
    run_exists: bool = True
    run_values: q.SourceRows | None = None  # run_id's metrics and params, read while resolving
    model_values: q.SourceRows | None = None  # a whole logged model's: they come along


class TrackingSources:
    def __init__(self, tracking: Tracking) -> None:
        self.tracking = tracking
        self.registry = tracking.registry
        self.store = tracking.store

    def resolve(self, conn: Connection, source: str) -> ResolvedSource:
        """The files ``source`` points at; InvalidInput for anything but the tracked forms,
        NotFound for a run or logged model that does not exist."""
        if not isinstance(source, str) or not source or len(source) > MAX_SOURCE_LENGTH:
            raise InvalidInput("model version source must be a non-empty string")
        if match := _LOGGED_MODEL_URI.match(source):
            return self._logged_model(conn, match.group(1), "")
        if source.startswith("models:/"):
            version = self.registry.resolve_uri(source)
            return ResolvedSource(list(version.files), version.run_id, version=version)
        if source.startswith("runs:/"):
            run_id, _, path = source[len("runs:/") :].partition("/")
            run_id = check_run_id(run_id)
            path = check_artifact_key(path, allow_root=True)
            found = q.run_source(conn, run_id, path)
            if found.experiment_id is None:  # a run this server does not hold (yet)
                return ResolvedSource([], run_id, run_exists=False)
            files = _entries(found.entries, path)
            if not files and found.outputs:
                # MLflow 3 keeps a run's model as a logged model named after the path: the
                # one reported at the highest step, then the newest.
                model_id, _experiment, _at, _step = max(found.outputs, key=lambda o: (o[3], o[2]))
                model = q.model_source(conn, model_id, "")
                return ResolvedSource(
                    _entries(model.entries, ""), run_id, run_values=found, model_values=model
                )
            return ResolvedSource(files, run_id, run_values=found)
        if source.startswith(ARTIFACT_SCHEME):
            parts = urlsplit(source)
            if parts.query or parts.fragment or "#" in source or "?" in source or parts.netloc:
                raise InvalidInput(f"invalid artifact URI {source!r}")
            location = parse_proxy_location(parts.path.lstrip("/"))
            root = location.root
            if root.kind == "proxy":  # the proxy's own namespace, outside any run or model
                if not location.path:
                    raise InvalidInput(f"{source!r} names the whole artifact store, not a model")
                files = _files(conn, root, location.path)
                return ResolvedSource(files, None)
            if root.kind == "model":
                return self._logged_model(conn, root.id, location.path)
            run = tq.run_row(conn, root.id)
            if run is None:
                raise NotFound(f"run {root.id!r} does not exist")
            return ResolvedSource(_files(conn, root, location.path), run.id)
        if _object_store_uri(source):
            return ResolvedSource([], None)  # recorded, never read by the server
        raise InvalidInput(
            f"Invalid model version source: {source!r}. Use runs:/<run_id>/<path>, "
            "models:/<model_id>, models:/<name>/<version>, mlflow-artifacts:/... or an "
            "object-store URI (s3://, gs://, ...); local paths are refused (Registre never "
            "reads paths on the server)"
        )

    def _logged_model(self, conn: Connection, model_id: str, path: str) -> ResolvedSource:
        row = tq.logged_model_row(conn, model_id)
        if row is None:
            raise NotFound(f"logged model {model_id!r} does not exist")
        # A file or folder inside a logged model is just files; the whole model brings its
        # metrics and params.
        model = q.model_source(conn, row.id, path)
        files = _entries(model.entries, path)
        if path:
            return ResolvedSource(files, row.source_run_id)
        return ResolvedSource(files, row.source_run_id, model_values=model)

    def register(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        model_id: str | None = None,
    ) -> ModelVersion:
        """Register the next version of ``name`` from the files ``source`` points at, with the
        metrics and params of its run (and of its logged model). A ``model_id`` (the logged
        model the client says the version comes from) gets the version noted on it, in its
        ``mlflow.modelVersions`` tag, as MLflow does."""
        draft = self.draft(name, source, run_id=run_id, tags=tags, description=description,
                           model_id=model_id)  # fmt: skip
        version = self.registry.commit_version(draft)
        if model_id:
            self.tracking.record_model_version(model_id, name, version.version)
        return version

    async def register_async(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        model_id: str | None = None,
    ) -> ModelVersion:
        """``register`` for an event loop. The reads run in place when they are CPU work in
        this process (SQLite), in a worker thread when they wait on a database server; the
        write joins the group commit without holding a thread."""
        draft_it = functools.partial(self.draft, name, source, run_id=run_id, tags=tags,
                                     description=description, model_id=model_id)  # fmt: skip
        if self.store.local_reads:
            draft = draft_it()
        else:
            draft = await to_thread.run_sync(draft_it)
        version = await self.registry.commit_version_async(draft)
        if model_id:
            await to_thread.run_sync(
                self.tracking.record_model_version, model_id, name, version.version
            )
        return version

    def draft(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        model_id: str | None = None,
    ) -> VersionDraft:
        """The checked registration of ``source`` as the next version of ``name``."""
        try:
            with self.store.read() as conn:
                resolved = self.resolve(conn, source)
                run_id = run_id or resolved.run_id
                metrics: dict[str, float] = {}
                params: dict[str, str] = {}
                if run_id:
                    run_id = check_run_id(run_id)
                    read = resolved.run_values
                    if read is not None and run_id == resolved.run_id:
                        metrics, params = read.metrics, read.params
                    elif resolved.run_exists and tq.run_row(conn, run_id) is not None:
                        metrics, params = q.run_values(conn, run_id)
                if (model := resolved.model_values) is not None:
                    # The run's latest values win: a logged model only holds those of its step.
                    metrics = {**model.metrics, **metrics}
                    params = {**model.params, **params}
                elif resolved.version is not None:
                    metrics = {**resolved.version.metrics, **metrics}
                    params = {**resolved.version.params, **params}
        except (InvalidInput, NotFound):
            self.registry.get_model(name)  # MLflow semantics: a missing model is reported first
            raise
        if model_id:
            self.tracking.get_logged_model(model_id)  # it must exist before anything is written
        # A source that holds no files here (a run without them yet, an object-store URI) is
        # registered by reference, as MLflow does: the version has no files of its own and
        # downloads follow the source. Files from the artifact index (or from a registered
        # version) are known to be stored.
        return self.registry.draft_version(
            name, resolved.files, source=source, run_id=run_id, metrics=metrics, params=params,
            tags=tags, description=description, create_model=False, files_stored=True,
        )  # fmt: skip

    def download_uri(self, version: ModelVersion) -> str:
        """Where an MLflow client downloads ``version``'s files through the artifact proxy: the
        version's own manifest, so later changes to run artifacts never alter what it serves.
        A version registered by reference (no files of its own) points at its source."""
        if not version.files and is_reference_source(version.source):
            return version.source
        return version_artifact_uri(version.name, version.version)


def _entries(entries: list[tuple[str, str, int]], path: str) -> list[FileEntry]:
    """Index entries (path, digest, size) at or under ``path`` as a version's files, relative
    to ``path``: a source names a directory (or the whole root), not a single file."""
    prefix = f"{path}/" if path else ""
    cut = len(prefix)
    return [FileEntry(p[cut:], digest, size) for p, digest, size in entries if p.startswith(prefix)]


def _files(conn: Connection, root: ArtifactRoot, path: str) -> list[FileEntry]:
    """The index entries at or under ``path`` of ``root`` as a version's files."""
    entries = tq.artifacts_under(conn, root, path)
    return _entries([(e.path, e.digest, e.size) for e in entries], path)


# Object stores a client reads with its own credentials; the server only records the URI.
REFERENCE_SCHEMES = frozenset(
    {"s3", "s3a", "gs", "wasb", "wasbs", "abfs", "abfss", "hdfs", "viewfs", "dbfs", "oci"}
)


def _object_store_uri(source: str) -> bool:
    """An object-store URI with a clean absolute path (no dot segments in any decoding, no
    NUL, query or fragment)."""
    scheme, _, rest = source.partition("://")
    if scheme.lower() not in REFERENCE_SCHEMES or not rest or "#" in source or "?" in source:
        return False
    decoded = source
    while (once := unquote(decoded)) != decoded:
        decoded = once
    segments = decoded.replace("\\", "/").split("/")
    return "\x00" not in decoded and not any(part in (".", "..") for part in segments)


def is_reference_source(source: str) -> bool:
    """Whether a version with this source and no files was registered by reference."""
    return source.startswith(("runs:/", ARTIFACT_SCHEME)) or _object_store_uri(source)
