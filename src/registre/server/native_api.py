"""The native REST API (``/api/v1``): each route parses, calls one Registry method, serialises.

Most handlers are plain functions: FastAPI runs them in its thread pool, where blocking
database calls belong (a write may wait for a lock). The point reads (get a model or a version,
resolve a reference) are ``async`` and call the service inline: each is one or two indexed
single-row queries, far cheaper than the two thread hops, and it keeps p99 low under load.
Searches run inline too when the database is SQLite, in the thread pool otherwise
(``deps.search``). Model names and versions arrive as path segments and are validated by the
service, so a bad name is the same 400 here as in the SDK and the CLI.
"""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from registre.domain.entities import FileEntry, Stage
from registre.server import schemas as s
from registre.server.deps import RegistryDep, search
from registre.server.responses import ERROR_RESPONSES, json_response, no_content

router = APIRouter(responses=ERROR_RESPONSES)

OrderBy = Annotated[
    list[str] | None, Query(description="Repeatable, e.g. order_by=name&order_by=version DESC")
]
Filter = Annotated[
    str | None, Query(description="e.g. metrics.accuracy > 0.9 and stage = 'Production'")
]


# ---- registered models ------------------------------------------------------------------
@router.post("/models", status_code=201, response_model=s.RegisteredModelOut)
def create_model(body: s.CreateModelRequest, registry: RegistryDep) -> Response:
    model = registry.create_model(body.name, body.description, body.tags)
    return json_response(model.to_dict(), 201)


@router.get("/models", response_model=s.ModelPage)
async def search_models(
    registry: RegistryDep,
    filter: Filter = None,
    order_by: OrderBy = None,
    max_results: int | None = None,
    page_token: str | None = None,
) -> Response:
    page = await search(registry, registry.search_models, filter, order_by, max_results, page_token)
    return json_response(page.to_dict("models"))


@router.get("/models/{name}", response_model=s.RegisteredModelOut)
async def get_model(name: str, registry: RegistryDep) -> Response:
    return json_response(registry.get_model(name).to_dict())


@router.patch("/models/{name}", response_model=s.RegisteredModelOut)
def update_model(name: str, body: s.UpdateDescriptionRequest, registry: RegistryDep) -> Response:
    return json_response(registry.update_model(name, body.description).to_dict())


@router.delete("/models/{name}", status_code=204)
def delete_model(name: str, registry: RegistryDep) -> Response:
    registry.delete_model(name)
    return no_content()


@router.post("/models/{name}/rename", response_model=s.RegisteredModelOut)
def rename_model(name: str, body: s.RenameModelRequest, registry: RegistryDep) -> Response:
    return json_response(registry.rename_model(name, body.new_name).to_dict())


@router.put("/models/{name}/tags/{key:path}", status_code=204)
def set_model_tag(name: str, key: str, body: s.TagValueRequest, registry: RegistryDep) -> Response:
    registry.set_model_tag(name, key, body.value)
    return no_content()


@router.delete("/models/{name}/tags/{key:path}", status_code=204)
def delete_model_tag(name: str, key: str, registry: RegistryDep) -> Response:
    registry.delete_model_tag(name, key)
    return no_content()


# ---- versions ---------------------------------------------------------------------------
@router.post("/models/{name}/versions", status_code=201, response_model=s.ModelVersionOut)
async def register_version(
    name: str, body: s.RegisterVersionRequest, registry: RegistryDep
) -> Response:
    # Checking the files may ask the blob store (a thread); the write then joins the group
    # commit without holding one.
    draft = await run_in_threadpool(
        functools.partial(
            registry.draft_version,
            name,
            [FileEntry(f.path, f.digest, f.size) for f in body.files],
            source=body.source,
            run_id=body.run_id,
            metrics=body.metrics,
            params=body.params,
            tags=body.tags,
            description=body.description,
            create_model=body.create_model,
            number=body.number,
        )
    )
    version = await registry.commit_version_async(draft)
    return json_response(version.to_dict(), 201)


@router.get("/models/{name}/versions", response_model=s.VersionList)
def list_versions(name: str, registry: RegistryDep) -> Response:
    return json_response({"versions": [v.to_dict() for v in registry.list_versions(name)]})


@router.get("/models/{name}/versions/{version}", response_model=s.ModelVersionOut)
async def get_version(name: str, version: str, registry: RegistryDep) -> Response:
    return json_response(registry.get_version(name, version).to_dict())


@router.patch("/models/{name}/versions/{version}", response_model=s.ModelVersionOut)
def update_version(
    name: str, version: str, body: s.UpdateDescriptionRequest, registry: RegistryDep
) -> Response:
    return json_response(registry.update_version(name, version, body.description).to_dict())


@router.delete("/models/{name}/versions/{version}", status_code=204)
def delete_version(name: str, version: str, registry: RegistryDep) -> Response:
    registry.delete_version(name, version)
    return no_content()


@router.put("/models/{name}/versions/{version}/tags/{key:path}", status_code=204)
def set_version_tag(
    name: str, version: str, key: str, body: s.TagValueRequest, registry: RegistryDep
) -> Response:
    registry.set_version_tag(name, version, key, body.value)
    return no_content()


@router.delete("/models/{name}/versions/{version}/tags/{key:path}", status_code=204)
def delete_version_tag(name: str, version: str, key: str, registry: RegistryDep) -> Response:
    registry.delete_version_tag(name, version, key)
    return no_content()


@router.post("/models/{name}/versions/{version}/metrics", status_code=204)
def log_metrics(
    name: str, version: str, body: s.LogMetricsRequest, registry: RegistryDep
) -> Response:
    registry.log_metrics(name, version, body.metrics)
    return no_content()


@router.get("/versions", response_model=s.VersionPage)
async def search_versions(
    registry: RegistryDep,
    filter: Filter = None,
    order_by: OrderBy = None,
    max_results: int | None = None,
    page_token: str | None = None,
) -> Response:
    page = await search(
        registry, registry.search_versions, filter, order_by, max_results, page_token
    )
    return json_response(page.to_dict("versions"))


# ---- lifecycle --------------------------------------------------------------------------
@router.post("/models/{name}/versions/{version}/stage", response_model=s.ModelVersionOut)
def transition_stage(
    name: str, version: str, body: s.TransitionStageRequest, registry: RegistryDep
) -> Response:
    moved = registry.transition_stage(name, version, body.stage, body.archive_existing)
    return json_response(moved.to_dict())


@router.post("/models/{name}/rollback", response_model=s.ModelVersionOut)
def rollback(name: str, registry: RegistryDep, body: s.RollbackRequest | None = None) -> Response:
    stage = body.stage if body is not None else Stage.PRODUCTION.value
    return json_response(registry.rollback(name, stage).to_dict())


@router.put("/models/{name}/aliases/{alias}", response_model=s.ModelVersionOut)
def set_alias(name: str, alias: str, body: s.SetAliasRequest, registry: RegistryDep) -> Response:
    return json_response(registry.set_alias(name, alias, body.version).to_dict())


@router.delete("/models/{name}/aliases/{alias}", status_code=204)
def delete_alias(name: str, alias: str, registry: RegistryDep) -> Response:
    registry.delete_alias(name, alias)
    return no_content()


@router.get(
    "/models/{name}/resolve/{ref}",
    response_model=s.ModelVersionOut,
    summary="Resolve a version number, a stage, 'latest' or '@alias' to a version",
)
async def resolve(name: str, ref: str, registry: RegistryDep) -> Response:
    return json_response(registry.resolve(name, ref).to_dict())


@router.get(
    "/resolve",
    response_model=s.ModelVersionOut,
    summary="Resolve models:/Name/<version|stage|latest> or models:/Name@alias",
)
async def resolve_uri(uri: str, registry: RegistryDep) -> Response:
    return json_response(registry.resolve_uri(uri).to_dict())


@router.post("/models/{name}/events", status_code=201, response_model=s.EventOut)
def record_event(name: str, body: s.RecordEventRequest, registry: RegistryDep) -> Response:
    """Write what another system observed into the model's history (changes nothing else)."""
    event = registry.record_event(name, body.version, body.action, body.details)
    return json_response(event.to_dict(), 201)


@router.get("/models/{name}/history", response_model=s.EventPage)
def history(
    name: str,
    registry: RegistryDep,
    version: str | None = None,
    max_results: int | None = None,
    page_token: str | None = None,
) -> Response:
    page = registry.history(name, version, max_results, page_token)
    return json_response(page.to_dict("events"))
