"""MLflow's model registry messages mapped onto Registry (and, for sources, Tracking)."""

from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Any

from starlette.concurrency import run_in_threadpool

from registre.domain.entities import Stage
from registre.domain.errors import AlreadyExists, InvalidInput, NotFound
from registre.server.mlflow import serializers as s
from registre.server.mlflow.errors import MlflowError
from registre.server.mlflow.routing import Call, Endpoint

Message = dict[str, Any]


# ---- registered models ----------------------------------------------------------------------
def create_model(call: Call) -> Message:
    p = call.params
    model = call.registry.create_model(
        p.string("name", required=True), p.string("description"), p.key_values("tags")
    )
    return {"registered_model": s.registered_model(model)}


def get_model(call: Call) -> Message:
    return {"registered_model": s.registered_model(call.registry.get_model(_name(call)))}


def update_model(call: Call) -> Message:
    model = call.registry.update_model(_name(call), call.params.string("description"))
    return {"registered_model": s.registered_model(model)}


def rename_model(call: Call) -> Message:
    model = call.registry.rename_model(_name(call), call.params.string("new_name", required=True))
    return {"registered_model": s.registered_model(model)}


def delete_model(call: Call) -> Message:
    call.registry.delete_model(_name(call))
    return {}


def search_models(call: Call) -> Message:
    p = call.params
    page = call.registry.search_models(
        p.string("filter") or None, p.strings("order_by") or None, p.integer("max_results", 100),
        p.string("page_token") or None,
    )  # fmt: skip
    return _paged("registered_models", [s.registered_model(m) for m in page.items], page)


def set_model_tag(call: Call) -> Message:
    p = call.params
    call.registry.set_model_tag(_name(call), p.string("key", required=True), p.string("value"))
    return {}


def delete_model_tag(call: Call) -> Message:
    name, key = _name(call), call.params.string("key", required=True)
    call.registry.get_model(name)
    # MLflow deletes idempotently: a missing tag is not an error.
    _ignore_missing(lambda: call.registry.delete_model_tag(name, key))
    return {}


def latest_versions(call: Call) -> Message:
    model = call.registry.get_model(_name(call))
    wanted = {Stage.parse(x) for x in call.params.strings("stages")}
    found = [v for v in model.latest_versions if not wanted or v.stage in wanted]
    return {"model_versions": [s.model_version(v) for v in found]}


def set_alias(call: Call) -> Message:
    p = call.params
    call.registry.set_alias(
        _name(call), p.string("alias", required=True), p.string("version", required=True)
    )
    return {}


def get_alias(call: Call) -> Message:
    name, alias = _name(call), call.params.string("alias", required=True)
    try:
        version = call.registry.resolve(name, f"@{alias}")
    except NotFound as exc:
        call.registry.get_model(name)  # an unknown model stays RESOURCE_DOES_NOT_EXIST
        raise MlflowError("INVALID_PARAMETER_VALUE", exc.message) from None
    return {"model_version": s.model_version(version)}


def delete_alias(call: Call) -> Message:
    name, alias = _name(call), call.params.string("alias", required=True)
    call.registry.get_model(name)
    _ignore_missing(lambda: call.registry.delete_alias(name, alias))
    return {}


# ---- model versions -------------------------------------------------------------------------
async def create_version(call: Call) -> Message:
    p = call.params
    version = await call.tracking.sources.register_async(
        _name(call), p.string("source", required=True), run_id=p.string("run_id") or None,
        tags=p.key_values("tags"), description=p.string("description"),
        model_id=p.string("model_id") or None,
    )  # fmt: skip
    return {"model_version": s.model_version(version)}


def get_version(call: Call) -> Message:
    return {"model_version": s.model_version(call.registry.get_version(*_version(call)))}


def update_version(call: Call) -> Message:
    version = call.registry.update_version(*_version(call), call.params.string("description"))
    return {"model_version": s.model_version(version)}


def delete_version(call: Call) -> Message:
    call.registry.delete_version(*_version(call))
    return {}


def search_versions(call: Call) -> Message:
    p = call.params
    page = call.registry.search_versions(
        p.string("filter") or None, p.strings("order_by") or _VERSION_ORDER,
        p.integer("max_results", 10_000), p.string("page_token") or None,
    )  # fmt: skip
    return _paged("model_versions", [s.model_version(v) for v in page.items], page)


# MLflow's default order for version searches (Registre's own is name, then newest version).
_VERSION_ORDER = ["last_updated_timestamp DESC", "name ASC", "version_number DESC"]


def transition(call: Call) -> Message:
    p = call.params
    version = call.registry.transition_stage(
        *_version(call), p.string("stage", required=True), p.boolean("archive_existing_versions")
    )
    return {"model_version": s.model_version(version)}


def set_version_tag(call: Call) -> Message:
    p = call.params
    call.registry.set_version_tag(
        *_version(call), p.string("key", required=True), p.string("value")
    )
    return {}


def delete_version_tag(call: Call) -> Message:
    name, version = _version(call)
    key = call.params.string("key", required=True)
    call.registry.get_version(name, version)
    _ignore_missing(lambda: call.registry.delete_version_tag(name, version, key))
    return {}


def download_uri(call: Call) -> Message:
    version = call.registry.get_version(*_version(call))
    return {"artifact_uri": call.tracking.sources.download_uri(version)}


# ---- helpers --------------------------------------------------------------------------------
def _name(call: Call) -> str:
    return call.params.string("name", required=True)


def _version(call: Call) -> tuple[str, str]:
    version = call.params.raw("version")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if version in (None, ""):
        raise MlflowError(
            "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'version'."
        )
    version = str(version)
    if not (version.isascii() and version.lstrip("-").isdigit()):
        raise MlflowError(
            "INVALID_PARAMETER_VALUE", f"Parameter 'version' must be an integer, got '{version}'."
        )
    return _name(call), version


def _ignore_missing(action: Any) -> None:
    with contextlib.suppress(NotFound):
        action()


def _paged(key: str, items: list[Message], page: Any) -> Message:
    body: Message = {key: items}
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return body


def _worded(handler: Any, subject: str) -> Any:
    """``handler`` with the official server's wording for missing or duplicate models and
    versions (clients and tests match on it): "Registered Model with name=X not found",
    "Registered Model (name=X) already exists.", "Model Version (name=X, version=N) not found"."""
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def wrapped_async(call: Call) -> Message:
            try:
                result: Message = await handler(call)
                return result
            except (NotFound, AlreadyExists) as exc:
                raise await run_in_threadpool(_mlflow_wording, exc, call, subject) from None

        return wrapped_async

    @functools.wraps(handler)
    def wrapped(call: Call) -> Message:
        try:
            result: Message = handler(call)
            return result
        except (NotFound, AlreadyExists) as exc:
            raise _mlflow_wording(exc, call, subject) from None

    return wrapped


def _mlflow_wording(exc: NotFound | AlreadyExists, call: Call, subject: str) -> Exception:
    """The error to send for ``exc``: in the official server's words where it has some."""
    if isinstance(exc, AlreadyExists):
        name = call.params.raw("new_name") or call.params.raw("name")
        return MlflowError(
            "RESOURCE_ALREADY_EXISTS", f"Registered Model (name={name}) already exists."
        )
    name = call.params.raw("name")
    if not isinstance(name, str):
        return exc
    version = call.params.raw("version")
    if subject == "version" and version not in (None, ""):
        return MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"Model Version (name={name}, version={version}) not found"
        )
    if subject == "alias" or _model_exists(call, name):
        return exc
    return MlflowError("RESOURCE_DOES_NOT_EXIST", f"Registered Model with name={name} not found")


def _model_exists(call: Call, name: str) -> bool:
    try:
        call.registry.get_model(name)
    except (NotFound, InvalidInput):
        return False
    return True


ENDPOINTS = [
    Endpoint("POST", "/registered-models/create", create_model),
    Endpoint("GET", "/registered-models/get", get_model, inline=True),
    Endpoint("PATCH", "/registered-models/update", update_model),
    Endpoint("POST", "/registered-models/rename", rename_model),
    Endpoint("DELETE", "/registered-models/delete", delete_model),
    Endpoint("GET", "/registered-models/search", search_models, inline="local"),
    Endpoint("POST", "/registered-models/set-tag", set_model_tag),
    Endpoint("DELETE", "/registered-models/delete-tag", delete_model_tag),
    Endpoint("POST", "/registered-models/get-latest-versions", latest_versions, inline=True),
    Endpoint("GET", "/registered-models/get-latest-versions", latest_versions, inline=True),
    Endpoint("POST", "/registered-models/alias", set_alias),
    Endpoint("GET", "/registered-models/alias", get_alias, inline=True),
    Endpoint("DELETE", "/registered-models/alias", delete_alias),
    Endpoint("POST", "/model-versions/create", create_version),
    Endpoint("GET", "/model-versions/get", get_version, inline=True),
    Endpoint("PATCH", "/model-versions/update", update_version),
    Endpoint("DELETE", "/model-versions/delete", delete_version),
    Endpoint("GET", "/model-versions/search", search_versions, inline="local"),
    Endpoint("POST", "/model-versions/transition-stage", transition),
    Endpoint("POST", "/model-versions/set-tag", set_version_tag),
    Endpoint("DELETE", "/model-versions/delete-tag", delete_version_tag),
    Endpoint("GET", "/model-versions/get-download-uri", download_uri, inline=True),
]
ENDPOINTS = [
    Endpoint(e.method, e.path, _worded(e.handler, "alias" if "alias" in e.path else
             "version" if e.path.startswith("/model-versions") else "model"), e.body, e.inline)
    for e in ENDPOINTS
]  # fmt: skip
