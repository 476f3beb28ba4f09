"""MLflow's path-traversal CVE class, every shape, against a real server.

CVE-2023-1177 / -2780 / -6909 / -6831, CVE-2024-1483 / -1560 / -3848, CVE-2026-2614: a model
version ``source`` or an artifact path (``..``, ``%2e%2e``, double encoding, ``#``/``?``,
``file:``/absolute/schemeless paths, backslashes) made the server read or write outside its
artifact root. Here a sentinel file sits next to the server's home: it must never be served,
changed or deleted, and no file may appear outside the artifact root.
"""

from __future__ import annotations

import http.client
import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import mlflow
import pytest

from tests.mlflow_compat.conftest import Server

PROXY = "/api/2.0/mlflow-artifacts"
SECRET = b"SENTINEL-SECRET"


def _raw(server: Server, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    """Send ``path`` byte for byte (HTTP libraries would normalise the dot segments)."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _snapshot(server: Server) -> dict[str, tuple[int, int]]:
    """Files in the server's home (outside its artifact root, but for the database and logs)
    and next to it, with their size and modification time."""
    found = {}
    for path in [*server.home.rglob("*"), *server.outside.rglob("*")]:
        if not path.is_file() or path.is_relative_to(server.artifact_root):
            continue
        if path.name.startswith(("registre.db", "server-")):
            continue
        stat = path.stat()
        found[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.fixture
def run_root(server: Server, unique: str) -> Iterator[str]:
    """``<exp>/<run>/artifacts`` of a run holding one file, and a check that nothing leaked."""
    mlflow.set_experiment(f"attacks-{unique}")
    with mlflow.start_run() as run:
        mlflow.log_text("inside", "inside.txt")
    sentinel = server.outside / "sentinel.txt"
    before = _snapshot(server)
    yield mlflow.get_run(run.info.run_id).info.artifact_uri.removeprefix("mlflow-artifacts:/")
    assert sentinel.read_bytes() == SECRET
    assert _snapshot(server) == before


TRAVERSALS = [
    "../../../outside/sentinel.txt",  # CVE-2023-6909 style plain dot-dot
    "%2e%2e/%2e%2e/%2e%2e/outside/sentinel.txt",  # percent-encoded dots
    "%252e%252e/%252e%252e/%252e%252e/outside/sentinel.txt",  # double encoding
    "..%2f..%2f..%2foutside%2fsentinel.txt",  # encoded slashes
    "..%5c..%5c..%5coutside%5csentinel.txt",  # CVE-2023-2780: backslashes
    "..\\..\\..\\outside\\sentinel.txt",
    "/{outside}/sentinel.txt",  # absolute path (double slash after /artifacts/)
    "file:{outside}/sentinel.txt",
    "file:///{outside}/sentinel.txt",
    "C:/Windows/win.ini",
    "{root}/../../../../outside/sentinel.txt",  # inside a real run, then out
    "{root}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside/sentinel.txt",
    "{root}/x%00/../../sentinel.txt",  # NUL
    "{root}/inside.txt%23/../../../../outside/sentinel.txt",  # CVE-2024-3848: '#'
]


def _shape(template: str, server: Server, root: str) -> str:
    return template.replace("{outside}", str(server.outside).lstrip("/")).replace("{root}", root)


@pytest.mark.parametrize("template", TRAVERSALS)
def test_artifact_paths_cannot_leave_the_artifact_root(
    server: Server, run_root: str, template: str
) -> None:
    path = _shape(template, server, run_root)
    for method, body in (("GET", None), ("PUT", b"overwrite"), ("DELETE", None)):
        status, content = _raw(server, method, f"{PROXY}/artifacts/{path}", body)
        assert status in (400, 404), (method, path, status)
        assert SECRET not in content
    status, content = _raw(server, "GET", f"{PROXY}/artifacts?path={path}")
    assert status in (200, 400, 404) and SECRET not in content
    assert b"sentinel" not in content.lower() or status != 200
    for action in ("create", "abort", "complete"):
        status, content = _raw(
            server, "POST", f"{PROXY}/mpu/{action}/{path}",
            b'{"path": "x.bin", "num_parts": 1, "upload_id": "0", "parts": []}',
        )  # fmt: skip
        assert status in (400, 404), (action, path, status)


def test_multipart_file_name_cannot_escape(server: Server, run_root: str) -> None:
    for name in ("..", "../../outside/sentinel.txt", "..\\..\\sentinel.txt", "a/%2e%2e"):
        response = httpx.post(
            f"{server.url}{PROXY}/mpu/create/{run_root}", json={"path": name, "num_parts": 1}
        )
        if response.status_code == 200:  # only the basename is used: it stays in the run
            assert name.replace("\\", "/").rsplit("/", 1)[-1] == "sentinel.txt"
            upload = response.json()
            httpx.post(f"{server.url}{PROXY}/mpu/abort/{run_root}",
                       json={"path": name, "upload_id": upload["upload_id"]})  # fmt: skip
        else:
            assert response.status_code == 400


def test_model_version_sources_never_resolve_outside(
    server: Server, run_root: str, unique: str
) -> None:
    """CVE-2023-1177 / CVE-2024-1483: a version whose source names a server path."""
    client = mlflow.MlflowClient()
    name = f"Attack-{unique}"
    client.create_registered_model(name)
    outside = server.outside
    run_id = run_root.split("/")[1]
    sources = [
        str(outside), str(outside / "sentinel.txt"), f"file://{outside}", f"file:{outside}",
        "file:///etc/passwd", "/etc/passwd", "../../outside", "outside/sentinel.txt",
        f"mlflow-artifacts:/{run_root}/../../../../outside",
        f"mlflow-artifacts:/{run_root}/%2e%2e/%2e%2e/%2e%2e",
        f"mlflow-artifacts:/{run_root}#/../../../../outside",
        f"mlflow-artifacts:/{run_root}?/../../../../outside",
        f"mlflow-artifacts://evil/{run_root}/../../..",
        f"runs:/{run_id}/../../../outside", f"runs:/{run_id}/%2e%2e/%2e%2e",
        f"runs:/{run_id}/..\\..\\outside", f"runs:/../{run_id}",
        f"models:/m-{'0' * 32}/../../outside", "models:/../../outside/1",
        "s3://bucket/../../key", "s3://bucket/%252e%252e/key", "http://127.0.0.1/evil",
        "\\\\server\\share\\model",
        f"mlflow-artifacts:/{run_root}".replace("artifacts", "artifacts\\..\\.."),
    ]  # fmt: skip
    for source in sources:
        response = httpx.post(
            f"{server.url}/api/2.0/mlflow/model-versions/create",
            json={"name": name, "source": source},
        )
        assert response.status_code in (400, 404), (source, response.text)
        assert response.json()["error_code"] in (
            "INVALID_PARAMETER_VALUE",
            "RESOURCE_DOES_NOT_EXIST",
        )
    assert client.search_model_versions(f"name = '{name}'") == []
    inside = client.create_model_version(name, f"runs:/{run_id}/")  # the run's own files: fine
    assert inside.version == "1"
    target = mlflow.artifacts.download_artifacts(f"models:/{name}/1")
    assert sorted(os.listdir(target)) == ["inside.txt"]
    # An object-store URI is recorded as a reference (as MLflow does): the server never reads
    # it, and hands it to the client, which reads it with its own credentials.
    remote = client.create_model_version(name, "s3://bucket/models/iris")
    assert client.get_model_version_download_uri(name, remote.version) == "s3://bucket/models/iris"


def test_experiment_artifact_location_is_not_accepted(server: Server, unique: str) -> None:
    """CVE-2023-6909: an experiment whose artifact location is a server path."""
    response = httpx.post(
        f"{server.url}/api/2.0/mlflow/experiments/create",
        json={"name": f"located-{unique}", "artifact_location": f"file://{server.outside}"},
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_nothing_is_written_by_name_under_the_artifact_root(server: Server, run_root: str) -> None:
    """Artifacts are content-addressed: no uploaded path name ever becomes a file name."""
    httpx.put(f"{server.url}{PROXY}/artifacts/{run_root}/named-on-purpose.txt", content=b"x")
    names = {p.name for p in server.artifact_root.rglob("*")}
    assert "named-on-purpose.txt" not in names and "inside.txt" not in names
    assert all(len(n) in (2, 64) or n in ("sha256", "tmp") or n.startswith("upload-")
               for n in names), names  # fmt: skip
    assert os.listdir(server.artifact_root)
