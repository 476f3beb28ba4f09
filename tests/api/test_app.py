"""The app around the routes: health, OpenAPI, docs, and the one JSON error shape."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from pathlib import Path

import httpx
import pytest

from registre.config import Settings
from registre.server.app import create_app
from registre.service.registry import Registry
from tests.api.support import assert_error, unique

ROUTES = {
    "/api/v1/models": {"get", "post"},
    "/api/v1/models/{name}": {"get", "patch", "delete"},
    "/api/v1/models/{name}/rename": {"post"},
    "/api/v1/models/{name}/tags/{key}": {"put", "delete"},
    "/api/v1/models/{name}/versions": {"get", "post"},
    "/api/v1/models/{name}/versions/{version}": {"get", "patch", "delete"},
    "/api/v1/models/{name}/versions/{version}/tags/{key}": {"put", "delete"},
    "/api/v1/models/{name}/versions/{version}/metrics": {"post"},
    "/api/v1/models/{name}/versions/{version}/stage": {"post"},
    "/api/v1/models/{name}/versions/{version}/files": {"get"},
    "/api/v1/models/{name}/versions/{version}/files/{path}": {"get"},
    "/api/v1/models/{name}/rollback": {"post"},
    "/api/v1/models/{name}/aliases/{alias}": {"put", "delete"},
    "/api/v1/models/{name}/resolve/{ref}": {"get"},
    "/api/v1/models/{name}/history": {"get"},
    "/api/v1/resolve": {"get"},
    "/api/v1/versions": {"get"},
    "/api/v1/blobs": {"post"},
    "/api/v1/blobs/{digest}": {"head"},
    "/health": {"get"},
}


def test_health_answers_ok(server_url: str) -> None:
    response = httpx.get(f"{server_url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_document_lists_every_route(server_url: str) -> None:
    document = httpx.get(f"{server_url}/openapi.json").json()
    assert document["info"]["title"] == "Registre"
    paths = {path: set(ops) for path, ops in document["paths"].items()}
    missing = {path: ops - paths.get(path, set()) for path, ops in ROUTES.items()}
    assert {path: ops for path, ops in missing.items() if ops} == {}
    register = document["paths"]["/api/v1/models/{name}/versions"]["post"]
    assert "201" in register["responses"]
    assert "ErrorOut" in str(register["responses"]["404"])


def test_docs_page_is_html(server_url: str) -> None:
    response = httpx.get(f"{server_url}/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "openapi.json" in response.text


def test_unknown_routes_and_methods_are_json(api: httpx.Client) -> None:
    assert_error(api.get("/nowhere"), 404, "ENDPOINT_NOT_FOUND", "/api/v1/nowhere")
    assert_error(api.get("/../../etc/passwd"), 404, "ENDPOINT_NOT_FOUND")
    wrong = api.put("/models")
    assert_error(wrong, 405, "METHOD_NOT_ALLOWED", "PUT")
    assert "GET" in wrong.headers["allow"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"name": ', "not valid JSON"),
        (b"[1, 2]", "body"),
        (b"{}", "body.name: Field required"),
        (b'{"name": 42}', "body.name"),
        (b'{"name": "x", "colour": "red"}', "body.colour"),
        (b'{"name": "x", "tags": {"k": 1}}', "body.tags.k"),
    ],
    ids=["truncated", "array", "missing", "wrong-type", "unknown-field", "tag-type"],
)
def test_malformed_bodies_are_422_naming_the_field(
    api: httpx.Client, body: bytes, fragment: str
) -> None:
    response = api.post("/models", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, "INVALID_REQUEST", fragment)


def test_malformed_bodies_on_other_routes(api: httpx.Client) -> None:
    name = unique()
    api.post("/models", json={"name": name})
    assert_error(api.post(f"/models/{name}/rename", json={}), 422, "INVALID_REQUEST", "new_name")
    stage = api.post(f"/models/{name}/versions/1/stage", json={"stage": ["Production"]})
    assert_error(stage, 422, "INVALID_REQUEST", "body.stage")
    files = api.post(f"/models/{name}/versions", json={"files": [{"path": "a"}]})
    assert_error(files, 422, "INVALID_REQUEST", "body.files.0.digest")


def test_unexpected_errors_are_logged_and_answered_generically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # No real server can be made to fail on demand, so this one runs in-process.
    def explode(self: Registry, name: str) -> None:
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(Registry, "get_model", explode)
    app = create_app(Settings(home=tmp_path))

    async def call() -> httpx.Response:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
                return await client.get("/api/v1/models/anything")

    with caplog.at_level(logging.ERROR, logger="registre.server"):
        response = asyncio.run(call())
    message = assert_error(response, 500, "INTERNAL_ERROR")
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert "server log" in message
    assert "hunter2" in caplog.text and "Traceback" in caplog.text


def test_a_worker_process_collects_garbage_less_often(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Server workers raise the collector's first threshold (searches allocate thousands of
    short-lived objects); the app itself, embedded elsewhere, leaves the process alone."""
    import gc

    from registre.server.run import worker_app

    before = gc.get_threshold()
    monkeypatch.setenv("REGISTRE_HOME", str(tmp_path))
    try:
        gc.set_threshold(700, *before[1:])
        create_app(Settings(home=tmp_path))
        assert gc.get_threshold()[0] == 700
        assert worker_app().title
        assert gc.get_threshold() == (10_000, *before[1:])
    finally:
        gc.set_threshold(*before)


def test_a_full_disk_is_a_507_storage_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A disk cannot be filled on demand under a real server: in-process, fsync says ENOSPC.
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    app = create_app(Settings(home=tmp_path))

    async def call() -> httpx.Response:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
                return await client.post("/api/v1/blobs", content=b"x" * 100_000)

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", full)
        response = asyncio.run(call())
    assert "out of space" in assert_error(response, 507, "STORAGE_FULL")
    assert list((tmp_path / "artifacts" / "tmp").iterdir()) == []
