"""The mlflow-artifacts proxy with the official client: big files, multipart, listings."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import mlflow
import pytest

from registre.domain.entities import Event
from registre.service.registry import Registry
from tests.mlflow_compat.conftest import Server

MiB = 1024 * 1024


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def _random_file(path: Path, size: int) -> Path:
    with path.open("wb") as out:
        for _ in range(size // MiB):
            out.write(os.urandom(MiB))
        out.write(os.urandom(size % MiB))
    return path


def _run_events(server: Server, run_id: str) -> list[Event]:
    registry = Registry.open(server.database_url, str(server.artifact_root))
    try:
        with registry.store.read() as conn:
            return registry.store.events(conn, f"runs/{run_id}", None, 1000, 0)
    finally:
        registry.close()


def test_64_mib_artifact_round_trip_is_streamed(
    server: Server, unique: str, tmp_path: Path
) -> None:
    source = _random_file(tmp_path / "big.bin", 64 * MiB + 123)
    mlflow.set_experiment(f"big-{unique}")
    before = server.peak_rss()
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(source), "blobs")
    target = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="blobs/big.bin", dst_path=str(tmp_path / "dl")
    )
    assert _sha256(Path(target)) == _sha256(source)
    # Neither direction holds the file in memory: growth well under its 64 MiB.
    assert server.peak_rss() - before < 40 * MiB
    listed = mlflow.MlflowClient().list_artifacts(run.info.run_id, "blobs")
    assert [(f.path, f.file_size) for f in listed] == [("blobs/big.bin", 64 * MiB + 123)]


@pytest.mark.parametrize("forced", [True, False], ids=["env-forced", "server-info"])
def test_multipart_upload_through_the_proxy(
    server: Server, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forced: bool
) -> None:
    if forced:
        monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    else:  # the client asks /api/3.0/mlflow/server-info, which says multipart is enabled
        monkeypatch.delenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", raising=False)
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(MiB))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(2 * MiB))
    source = _random_file(tmp_path / f"parts-{unique}.bin", 7 * MiB + 5)
    mlflow.set_experiment(f"mpu-{unique}-{forced}")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(source), "multi")
    actions = {e.action: e.after for e in _run_events(server, run.info.run_id)}
    assert actions["create_multipart_upload"] == {"path": f"multi/{source.name}", "parts": 4}
    assert actions["complete_multipart_upload"]["size"] == source.stat().st_size
    target = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path=f"multi/{source.name}", dst_path=str(tmp_path / "d")
    )
    assert _sha256(Path(target)) == _sha256(source)


def test_listing_distinguishes_files_directories_and_missing_paths(
    server: Server, unique: str
) -> None:
    mlflow.set_experiment(f"list-{unique}")
    with mlflow.start_run() as run:
        mlflow.log_text("a", "d/a.txt")
        mlflow.log_text("b", "d/e/b.txt")
    root = mlflow.get_run(run.info.run_id).info.artifact_uri.removeprefix("mlflow-artifacts:/")
    url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts"
    listing = httpx.get(url, params={"path": f"{root}/d"}).json()
    assert listing == {
        "files": [{"path": "a.txt", "is_dir": False, "file_size": 1}, {"path": "e", "is_dir": True}]
    }
    assert httpx.get(url, params={"path": f"{root}/d/a.txt"}).json() == {}
    assert httpx.get(url, params={"path": f"{root}/missing"}).json() == {}
    missing = httpx.get(f"{url}/{root}/missing.txt")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    got = httpx.get(f"{url}/{root}/d/e/b.txt")
    assert got.content == b"b" and got.headers["etag"] == f'"{hashlib.sha256(b"b").hexdigest()}"'
    assert httpx.delete(f"{url}/{root}/d/e").status_code == 200
    assert httpx.get(f"{url}/{root}/d/e/b.txt").status_code == 404


def test_upload_to_unknown_run_is_refused(server: Server) -> None:
    url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/0/{'0' * 32}/artifacts/x.txt"
    response = httpx.put(url, content=b"data")
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_files_anywhere_below_the_proxy_root(server: Server, unique: str, tmp_path: Path) -> None:
    """Outside any run or logged model, as MLflow's own artifact-proxy tests upload."""
    url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts"
    assert httpx.put(f"{url}/free-{unique}/a.txt", content=b"0").status_code == 200
    assert httpx.put(f"{url}/free-{unique}/dir/b.txt", content=b"1").status_code == 200
    got = httpx.get(f"{url}/free-{unique}/dir/b.txt")
    assert got.content == b"1"
    assert got.headers["content-disposition"] == "attachment; filename=b.txt"
    assert httpx.get(url, params={"path": f"free-{unique}"}).json() == {
        "files": [{"path": "a.txt", "is_dir": False, "file_size": 1},
                  {"path": "dir", "is_dir": True}]
    }  # fmt: skip
    root = httpx.get(url).json()["files"]
    assert {"path": f"free-{unique}", "is_dir": True} in root
    # The client's own repository for an mlflow-artifacts URI outside any run.
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repository = get_artifact_repository(f"mlflow-artifacts:/free-{unique}/repo")
    (tmp_path / "c.txt").write_text("2")
    repository.log_artifact(str(tmp_path / "c.txt"), "sub")
    assert [f.path for f in repository.list_artifacts("sub")] == ["sub/c.txt"]
    target = mlflow.artifacts.download_artifacts(
        artifact_uri=f"mlflow-artifacts:/free-{unique}/repo", dst_path=str(tmp_path / "dl")
    )
    assert (Path(target) / "sub" / "c.txt").read_text() == "2"
    assert httpx.delete(f"{url}/free-{unique}/dir").status_code == 200
    assert httpx.get(f"{url}/free-{unique}/dir/b.txt").status_code == 404
    assert httpx.delete(f"{url}/").status_code == 400  # never the whole namespace
