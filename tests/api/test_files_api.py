"""Blob upload and file download over HTTP: streaming, integrity, limits, interrupted transfers."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.support import assert_error, random_bytes, register, sha256, unique, upload
from tests.fixtures.server import RunningServer

MiB = 1024 * 1024


def _corrupt(path: Path, offset: int) -> None:
    """Flip one byte of a stored blob (blobs are written read-only)."""
    os.chmod(path, 0o644)
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


def _wait_for_empty(directory: Path, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leftovers = os.listdir(directory) if directory.exists() else []
        if not leftovers:
            return []
        time.sleep(0.05)
    return leftovers


def test_upload_head_and_download_round_trip(api: httpx.Client) -> None:
    name = unique()
    data = random_bytes(3 * MiB + 17)
    version = register(api, name, {"weights/model.bin": data})
    digest = sha256(data)

    head = api.head(f"/blobs/{digest}")
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(data))

    response = api.get(f"/models/{name}/versions/{version['version']}/files/weights/model.bin")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["etag"] == f'"{digest}"'
    assert response.headers["x-registre-sha256"] == digest
    assert response.headers["content-type"] == "application/octet-stream"


def test_uploads_are_content_addressed_and_may_be_chunked(api: httpx.Client) -> None:
    data = random_bytes(2 * MiB + 5)

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(data), 100_000):
            yield data[start : start + 100_000]

    chunked = api.post("/blobs", content=pieces())  # no Content-Length: chunked encoding
    assert chunked.status_code == 201
    assert chunked.json() == {"digest": sha256(data), "size": len(data)}
    assert upload(api, data) == chunked.json()  # the same bytes again: the same blob
    empty = api.post("/blobs", content=b"")
    assert empty.json() == {"digest": sha256(b""), "size": 0}


def test_head_of_unknown_or_malformed_digest(api: httpx.Client) -> None:
    assert api.head(f"/blobs/{sha256(unique().encode())}").status_code == 404
    assert api.head("/blobs/not-a-digest").status_code == 400


def test_announced_digest_must_match_the_bytes(api: httpx.Client) -> None:
    data = random_bytes(1000)
    lie = sha256(b"something else")
    response = api.post("/blobs", content=data, headers={"X-Registre-Sha256": lie})
    assert_error(response, 400, "INTEGRITY_ERROR", lie)
    assert api.head(f"/blobs/{sha256(data)}").status_code == 404
    honest = api.post("/blobs", content=data, headers={"X-Registre-Sha256": sha256(data)})
    assert honest.status_code == 201
    malformed = api.post("/blobs", content=data, headers={"X-Registre-Sha256": "xyz"})
    assert_error(malformed, 400, "INVALID_INPUT", "digest")


def test_unknown_files_and_unsafe_download_paths(api: httpx.Client) -> None:
    name = unique()
    register(api, name, {"a.txt": b"a"})
    assert_error(api.get(f"/models/{name}/versions/1/files/b.txt"), 404, "NOT_FOUND", "b.txt")
    assert_error(api.get(f"/models/{name}/versions/2/files/a.txt"), 404, "NOT_FOUND")
    # Encoded so the client does not normalise it away; the server decodes it to "../a.txt".
    traversal = api.get(f"/models/{name}/versions/1/files/%2E%2E/a.txt")
    assert_error(traversal, 400, "INVALID_INPUT", "..")
    assert_error(api.get(f"/models/{name}/versions/1/files/a%00.txt"), 400, "INVALID_INPUT")


def test_cut_off_upload_stores_nothing(api: httpx.Client, registre_server: RunningServer) -> None:
    data = random_bytes(MiB)
    url = urlsplit(registre_server.url)
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(
            b"POST /api/v1/blobs HTTP/1.1\r\n"
            + f"Host: {url.netloc}\r\n".encode()
            + b"Content-Type: application/octet-stream\r\n"
            + f"Content-Length: {len(data)}\r\n\r\n".encode()
        )
        sock.sendall(data[: len(data) // 2])
        time.sleep(0.2)  # let the server start writing the upload before it is cut
    assert _wait_for_empty(registre_server.artifact_root / "tmp") == []
    for digest in (sha256(data), sha256(data[: len(data) // 2])):
        assert api.head(f"/blobs/{digest}").status_code == 404
        files = [{"path": "half.bin", "digest": digest, "size": len(data) // 2}]
        response = api.post(f"/models/{unique()}/versions", json={"files": files})
        assert_error(response, 400, "INVALID_INPUT", "has not been uploaded")


def test_corrupted_small_blob_fails_with_json_integrity_error(
    api: httpx.Client, registre_server: RunningServer
) -> None:
    name = unique()
    data = random_bytes(100_000)
    register(api, name, {"model.bin": data})
    _corrupt(registre_server.blob_path(sha256(data)), offset=50_000)
    response = api.get(f"/models/{name}/versions/1/files/model.bin")
    assert_error(response, 500, "INTEGRITY_ERROR", sha256(data))


def test_corrupted_large_blob_download_is_cut_off(
    api: httpx.Client, registre_server: RunningServer
) -> None:
    name = unique()
    data = random_bytes(64 * MiB + 1)  # above the verify-before-sending threshold
    register(api, name, {"big.bin": data})
    _corrupt(registre_server.blob_path(sha256(data)), offset=len(data) - 1)
    received = 0
    with (
        pytest.raises(httpx.RemoteProtocolError),
        api.stream("GET", f"/models/{name}/versions/1/files/big.bin") as response,
    ):
        assert response.status_code == 200
        for chunk in response.iter_raw():
            received += len(chunk)
    assert received < len(data)


@pytest.fixture
def small_limit_server(start_registre_server: Callable[..., RunningServer]) -> RunningServer:
    return start_registre_server(env={"REGISTRE_MAX_UPLOAD_BYTES": str(64 * 1024)})


def test_oversized_uploads_are_413_and_store_nothing(small_limit_server: RunningServer) -> None:
    limit = 64 * 1024
    data = random_bytes(limit + 1)
    with httpx.Client(base_url=f"{small_limit_server.url}/api/v1", timeout=30) as api:
        declared = api.post("/blobs", content=data)  # Content-Length says too much: early 413
        assert_error(declared, 413, "PAYLOAD_TOO_LARGE", str(limit))

        def pieces() -> Iterator[bytes]:
            for start in range(0, len(data), 8192):
                yield data[start : start + 8192]

        streamed = api.post("/blobs", content=pieces())  # no length: caught while streaming
        assert_error(streamed, 413, "PAYLOAD_TOO_LARGE", str(limit))
        assert api.head(f"/blobs/{sha256(data)}").status_code == 404
        assert _wait_for_empty(small_limit_server.artifact_root / "tmp") == []
        assert upload(api, data[:limit])["size"] == limit  # exactly the limit is fine
