"""Helpers shared by the REST API tests."""

from __future__ import annotations

import hashlib
import os
import uuid

import httpx


def unique(prefix: str = "model") -> str:
    """A model name no other test uses (servers are shared across tests)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def random_bytes(size: int) -> bytes:
    return os.urandom(size)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(api: httpx.Client, data: bytes) -> dict[str, object]:
    response = api.post("/blobs", content=data)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    assert body == {"digest": sha256(data), "size": len(data)}
    return body


def register(
    api: httpx.Client, name: str, files: dict[str, bytes] | None = None, **fields: object
) -> dict[str, object]:
    """Upload ``files`` ({path: bytes}) and register them as the next version of ``name``."""
    specs = []
    for path, data in (files or {}).items():
        blob = upload(api, data)
        specs.append({"path": path, "digest": blob["digest"], "size": blob["size"]})
    response = api.post(f"/models/{name}/versions", json={"files": specs, **fields})
    assert response.status_code == 201, response.text
    version: dict[str, object] = response.json()
    return version


def assert_error(response: httpx.Response, status: int, code: str, *fragments: str) -> str:
    """The response is ``{"error": {"code", "message"}}`` with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    message: str = body["error"]["message"]
    for fragment in fragments:
        assert fragment in message, message
    return message
