"""The MLflow door in-process: routing table, message parsing, error mapping, the proxy."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from registre.domain.errors import IntegrityError
from registre.server.mlflow import mount_mlflow
from registre.service.registry import Registry
from registre.service.tracking import Tracking
from registre.store.blobs.local import LocalBlobStore

API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts"


@pytest.fixture
def http(registry: Registry, tracking: Tracking) -> Iterator[TestClient]:
    app = FastAPI()

    @app.get("/api/v1/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    mount_mlflow(app, registry, tracking)
    with TestClient(app) as client:
        yield client


def _logged_model(http: TestClient) -> tuple[str, str]:
    run = http.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]
    model = http.post(
        f"{API}/logged-models",
        json={"experiment_id": "0", "name": "model", "source_run_id": run["info"]["run_id"]},
    ).json()["model"]
    root = model["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    assert http.put(f"{PROXY}/artifacts/{root}/MLmodel", content=b"flavors: {}").status_code == 200
    return run["info"]["run_id"], model["info"]["model_id"]


def test_routes_stay_out_of_the_openapi_document(http: TestClient) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert list(paths) == ["/api/v1/ping"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"{API}/nope"), ("POST", f"{API}/registered-models/get"),
     ("GET", "/ajax-api/2.0/mlflow/x/y"), ("PUT", f"{PROXY}/nope"), ("GET", "/api/3.0/mlflow/x")],
)  # fmt: skip
def test_unknown_endpoints_answer_json_endpoint_not_found(
    http: TestClient, method: str, path: str
) -> None:
    response = http.request(method, path)
    assert response.status_code == 404
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_registry_messages_and_error_mapping(http: TestClient) -> None:
    _, model_id = _logged_model(http)
    created = http.post(f"{API}/registered-models/create", json={"name": "Iris", "tags": [
        {"key": "k", "value": "v"}]})  # fmt: skip
    assert created.json()["registered_model"]["tags"] == [{"key": "k", "value": "v"}]
    again = http.post(f"{API}/registered-models/create", json={"name": "Iris"})
    assert (again.status_code, again.json()["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    version = http.post(
        f"{API}/model-versions/create", json={"name": "Iris", "source": f"models:/{model_id}"}
    ).json()["model_version"]
    assert (version["version"], version["status"], version["model_id"]) == ("1", "READY", model_id)
    assert version["current_stage"] == "None"
    got = http.get(f"{API}/model-versions/get", params={"name": "Iris", "version": "1"}).json()
    assert got["model_version"]["source"] == f"models:/{model_id}"
    missing = http.get(f"{API}/registered-models/get", params={"name": "Nope"})
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    bad = http.get(f"{API}/model-versions/get", params={"name": "Iris", "version": "abc"})
    assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    no_name = http.post(f"{API}/registered-models/create", json={})
    assert "name" in no_name.json()["message"] and no_name.status_code == 400


def test_get_lists_are_repeated_query_keys(http: TestClient) -> None:
    _, model_id = _logged_model(http)
    http.post(f"{API}/registered-models/create", json={"name": "Iris"})
    for _ in range(3):
        http.post(
            f"{API}/model-versions/create", json={"name": "Iris", "source": f"models:/{model_id}"}
        )
    http.post(f"{API}/model-versions/transition-stage",
              json={"name": "Iris", "version": "2", "stage": "staging"})  # fmt: skip
    latest = http.get(
        f"{API}/registered-models/get-latest-versions",
        params=[("name", "Iris"), ("stages", "Staging"), ("stages", "None")],
    ).json()["model_versions"]
    assert sorted((v["current_stage"], v["version"]) for v in latest) == [
        ("None", "3"),
        ("Staging", "2"),
    ]
    page = http.get(
        f"{API}/model-versions/search",
        params=[
            ("filter", "name='Iris'"),
            ("max_results", "2"),
            ("order_by", "version_number ASC"),
        ],
    ).json()
    assert [v["version"] for v in page["model_versions"]] == ["1", "2"] and page["next_page_token"]


def test_mlflow_idempotent_deletes_and_alias_errors(http: TestClient) -> None:
    _, model_id = _logged_model(http)
    http.post(f"{API}/registered-models/create", json={"name": "Iris"})
    http.post(
        f"{API}/model-versions/create", json={"name": "Iris", "source": f"models:/{model_id}"}
    )
    for path, body in [
        ("registered-models/delete-tag", {"name": "Iris", "key": "absent"}),
        ("model-versions/delete-tag", {"name": "Iris", "version": "1", "key": "absent"}),
        ("registered-models/alias", {"name": "Iris", "alias": "absent"}),
    ]:
        assert http.request("DELETE", f"{API}/{path}", json=body).status_code == 200
    gone = http.request(
        "DELETE", f"{API}/registered-models/delete-tag", json={"name": "No", "key": "k"}
    )
    assert gone.status_code == 404
    alias = http.get(f"{API}/registered-models/alias", params={"name": "Iris", "alias": "absent"})
    assert (alias.status_code, alias.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_tracking_messages(http: TestClient) -> None:
    created = http.post(f"{API}/experiments/create", json={"name": "exp"}).json()
    assert created == {"experiment_id": "1"}
    run = http.post(f"{API}/runs/create", json={"experiment_id": "1", "run_name": "r",
                                                "start_time": 5})  # fmt: skip
    run_id = run.json()["run"]["info"]["run_id"]
    nan = {"run_id": run_id, "key": "m", "value": "NaN", "timestamp": 1, "step": 0}
    assert http.post(f"{API}/runs/log-metric", json=nan).json() == {}
    batch = {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": 2.5, "timestamp": 2, "step": 1}],
        "params": [{"key": "p", "value": "1"}],
    }
    http.post(f"{API}/runs/log-batch", json=batch)
    conflict = http.post(
        f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "2"}
    )
    assert conflict.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    data = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert data["metrics"][0]["value"] == 2.5 and data["params"] == [{"key": "p", "value": "1"}]
    history = http.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"})
    assert "NaN" in history.text  # MLflow's client parses NaN
    finished = http.post(
        f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED", "end_time": 9}
    )
    assert finished.json()["run_info"]["end_time"] == 9
    info = http.get("/api/3.0/mlflow/server-info").json()
    assert (
        info["multipart_uploads_enabled"] is True and info["multipart_downloads_enabled"] is False
    )


@pytest.mark.parametrize(
    "size", [0, 1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 + 5], ids=lambda n: f"{n}B"
)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_uploads_small_and_streamed_store_the_same_bytes(
    http: TestClient, size: int, framing: str
) -> None:
    """Small bodies with a Content-Length are received whole, the rest streamed: both store
    exactly what was sent."""
    run_id = http.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    data = hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1)
    data = data[:size]
    url = f"{PROXY}/artifacts/0/{run_id}/artifacts/f.bin"
    content = data if framing == "content-length" else iter([data[: size // 2], data[size // 2 :]])
    put = http.put(url, content=content)
    assert put.status_code == 200 and put.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert http.get(url).content == data


def test_proxy_streams_verified_bytes_and_multipart_parts_come_back(http: TestClient) -> None:
    run_id, _ = _logged_model(http)
    root = f"0/{run_id}/artifacts"
    data = bytes(range(256)) * 1000
    assert http.put(f"{PROXY}/artifacts/{root}/d/blob.bin", content=data).status_code == 200
    got = http.get(f"{PROXY}/artifacts/{root}/d/blob.bin")
    assert got.content == data and got.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    created = http.post(
        f"{PROXY}/mpu/create/{root}/d", json={"path": "/local/big.bin", "num_parts": 2}
    )
    body = created.json()
    assert [c["part_number"] for c in body["credentials"]] == [1, 2]
    etags = []
    for credential, part in zip(body["credentials"], (b"a" * 10, b"b" * 3), strict=True):
        response = http.put(credential["url"], content=part)
        etags.append(response.headers["etag"])
    parts = [{"part_number": n, "etag": e} for n, e in ((1, etags[0]), (2, etags[1]))]
    complete = {"path": "/local/big.bin", "upload_id": body["upload_id"], "parts": parts}
    done = http.post(f"{PROXY}/mpu/complete/{root}/d", json=complete)
    assert done.status_code == 200
    assert http.get(f"{PROXY}/artifacts/{root}/d/big.bin").content == b"a" * 10 + b"b" * 3
    listing = http.get(f"{PROXY}/artifacts", params={"path": f"{root}/d"}).json()
    assert [f["path"] for f in listing["files"]] == ["big.bin", "blob.bin"]
    assert http.get(f"{PROXY}/presigned/{root}/d/big.bin").status_code == 501


@pytest.mark.parametrize("size", [100_000, 1024 * 1024 + 1], ids=["whole", "streamed"])
def test_a_damaged_artifact_is_never_served_whole(
    http: TestClient, registry: Registry, size: int
) -> None:
    """Up to 1 MiB a file is verified before its first byte is sent (a JSON error instead);
    above, the stream stops before its last chunk."""
    run_id = http.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    data = (hashlib.sha256(b"x").digest() * (size // 32 + 1))[:size]
    url = f"{PROXY}/artifacts/0/{run_id}/artifacts/f.bin"
    assert http.put(url, content=data).status_code == 200
    digest = hashlib.sha256(data).hexdigest()
    assert isinstance(registry.blobs, LocalBlobStore)
    path = registry.blobs.root / "sha256" / digest[:2] / digest
    path.chmod(0o644)
    with path.open("r+b") as handle:  # one byte flipped near the end
        handle.seek(size - 10)
        byte = handle.read(1)
        handle.seek(size - 10)
        handle.write(bytes([byte[0] ^ 1]))
    if size <= 1024 * 1024:
        response = http.get(url)
        assert response.status_code == 500
        assert response.json()["error_code"] == "DATA_LOSS"
        assert "corrupted" in response.json()["message"]
        return
    received = 0
    with pytest.raises(IntegrityError), http.stream("GET", url) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            received += len(chunk)
    assert received < size


@pytest.mark.parametrize("size", [1000, 1024 * 1024 + 1], ids=["whole", "streamed"])
def test_a_full_disk_answers_resource_exhausted_and_stores_nothing(
    http: TestClient, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    run_id = http.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"][
        "run_id"
    ]
    url = f"{PROXY}/artifacts/0/{run_id}/artifacts/f.bin"

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", full)
        response = http.put(url, content=b"x" * size)
    # 507, not the official server's 429 for this code: the client must not retry a full disk
    assert response.status_code == 507
    assert response.json()["error_code"] == "RESOURCE_EXHAUSTED"
    assert "out of space" in response.json()["message"]
    listing = http.get(f"{PROXY}/artifacts", params={"path": f"0/{run_id}/artifacts"}).json()
    assert listing.get("files", []) == []
    assert http.put(url, content=b"fits now").status_code == 200  # space again: it works
