"""Where an imported object came from: the tags that make re-running an import a no-op.

A version imported from MLflow carries ``registre.imported_from = <source>#<name>/<version>``
(its MLflow origin) plus the original author and creation time, which Registre's own history
cannot hold: there the actor is whoever ran the import, and the time is when it ran.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from registre.migrate.records import SourceLoggedModel, SourceModel, SourceRun, SourceVersion

IMPORTED_FROM = "registre.imported_from"
CREATED_BY = "registre.imported.created_by"
CREATION_TIMESTAMP = "registre.imported.creation_timestamp"
ORIGINAL_SOURCE = "registre.imported.source"
ORIGINAL_RUN_ID = "registre.imported.run_id"
ORIGINAL_MODEL_ID = "registre.imported.model_id"


def source_id(uri: str) -> str:
    """``uri`` without credentials, query or trailing slash: safe to store in a tag."""
    parts = urlsplit(uri)
    if not parts.scheme or not parts.netloc:
        return uri.rstrip("/") or uri
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def version_origin(source: str, name: str, version: int) -> str:
    return f"{source}#{name}/{version}"


def is_origin_of(tag_value: str | None, name: str, version: int) -> bool:
    """Whether a version's ``registre.imported_from`` names MLflow's ``name``/``version``.

    The source part is not compared: an MLflow server that moved (new host, or read through
    its database instead of its REST API) is still the same registry.
    """
    if not tag_value:
        return False
    return tag_value.rpartition("#")[2] == f"{name}/{version}"


def model_tags(source: str, model: SourceModel) -> dict[str, str]:
    tags = {IMPORTED_FROM: f"{source}#{model.name}"}
    if model.created_at:
        tags[CREATION_TIMESTAMP] = str(model.created_at)
    return tags


def version_tags(source: str, version: SourceVersion) -> dict[str, str]:
    tags = {IMPORTED_FROM: version_origin(source, version.name, version.version)}
    if version.user_id:
        tags[CREATED_BY] = version.user_id
    if version.created_at:
        tags[CREATION_TIMESTAMP] = str(version.created_at)
    if version.source:
        tags[ORIGINAL_SOURCE] = version.source
    if version.run_id:
        tags[ORIGINAL_RUN_ID] = version.run_id
    return tags


def run_tags(source: str, run: SourceRun) -> dict[str, str]:
    return {IMPORTED_FROM: f"{source}#runs/{run.id}", ORIGINAL_RUN_ID: run.id}


def logged_model_tags(source: str, model: SourceLoggedModel) -> dict[str, str]:
    return {IMPORTED_FROM: f"{source}#models/{model.id}", ORIGINAL_MODEL_ID: model.id}
