"""Several stateless server replicas sharing one PostgreSQL database and one S3 bucket."""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

import registre

pytestmark = [pytest.mark.postgres, pytest.mark.s3]
API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts"


def test_replicas_share_state_and_allocate_versions_without_gaps(
    start_registre_server: Callable[..., object], s3_url: object, postgres_db_url: str
) -> None:
    location = s3_url
    env = {
        "REGISTRE_ARTIFACT_ROOT": location.url,  # type: ignore[attr-defined]
        "REGISTRE_DATABASE_URL": postgres_db_url,
        **location.env,  # type: ignore[attr-defined]
    }
    replicas = [start_registre_server(env=env, workers=1) for _ in range(3)]
    urls = [r.url for r in replicas]  # type: ignore[attr-defined]

    payload = os.urandom(256 * 1024)
    with registre.Client(urls[0]) as first:
        blob = first.upload_blob([payload])

    def register(i: int) -> int:
        url = urls[i % len(urls)]
        res = httpx.post(
            f"{url}/api/v1/models/Shared/versions",
            json={"files": [{"path": "model.bin", "digest": blob.digest}]},
            headers={"X-Registre-User": f"replica-client-{i}"},
            timeout=60,
        )
        assert res.status_code == 201, res.text
        return int(res.json()["version"])

    with ThreadPoolExecutor(12) as pool:
        numbers = sorted(pool.map(register, range(60)))
    assert numbers == list(range(1, 61))

    # A change made through one replica is visible through every other one at once.
    httpx.post(
        f"{urls[1]}/api/v1/models/Shared/versions/60/stage", json={"stage": "Production"}
    ).raise_for_status()
    for url in urls:
        assert httpx.get(f"{url}/api/v1/models/Shared/resolve/Production").json()["version"] == 60

    # Bytes uploaded through replica 0 download, verified, through replica 2.
    with registre.Client(urls[2]) as last:
        _, stream = last.open_file("Shared", 17, "model.bin")
        data = b"".join(stream)
    assert hashlib.sha256(data).hexdigest() == blob.digest and data == payload


def test_mlflow_clients_may_reach_any_replica(
    start_registre_server: Callable[..., object],
    s3_url: object,
    postgres_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a load balancer in front of several replicas does to MLflow traffic: each call of a
    run, a multipart upload and the registrations lands on another replica."""
    import mlflow.artifacts
    import mlflow.pyfunc
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    location = s3_url
    env = {
        "REGISTRE_ARTIFACT_ROOT": location.url,  # type: ignore[attr-defined]
        "REGISTRE_DATABASE_URL": postgres_db_url,
        **location.env,  # type: ignore[attr-defined]
    }
    urls = [start_registre_server(env=env, workers=1).url for _ in range(3)]  # type: ignore[attr-defined]
    turn = itertools.cycle(urls)

    def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = httpx.request(method, f"{next(turn)}{path}", timeout=60, **kwargs)
        assert response.status_code == 200, response.text
        return response

    experiment = call("POST", f"{API}/experiments/create", json={"name": "replicated"})
    run = call(
        "POST", f"{API}/runs/create", json={"experiment_id": experiment.json()["experiment_id"]}
    )
    run_id = run.json()["run"]["info"]["run_id"]
    root = run.json()["run"]["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    batch = {"run_id": run_id, "params": [{"key": "C", "value": "0.5"}],
             "metrics": [{"key": "accuracy", "value": 0.9, "timestamp": 1, "step": 0}]}  # fmt: skip
    call("POST", f"{API}/runs/log-batch", json=batch)

    # The model's files, each through the next replica.
    X = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.2], [0.1, 0.9]]
    model = LogisticRegression().fit(X, [0, 1, 1, 0])
    saved = tmp_path / "saved"
    mlflow.sklearn.save_model(model, str(saved), serialization_format="skops")
    for file in sorted(p for p in saved.rglob("*") if p.is_file()):
        relative = file.relative_to(saved).as_posix()
        call("PUT", f"{PROXY}/artifacts/{root}/model/{relative}", content=file.read_bytes())

    # A multipart upload whose parts land on every replica.
    parts = [os.urandom(1024 * 1024 + n) for n in range(3)]
    created = call(
        "POST", f"{PROXY}/mpu/create/{root}/data", json={"path": "big.bin", "num_parts": 3}
    )
    etags = []
    for credential, part in zip(created.json()["credentials"], parts, strict=True):
        path = credential["url"][credential["url"].index(PROXY) :]
        etags.append(call("PUT", path, content=part).headers["etag"])
    listed = [{"part_number": n, "etag": e} for n, e in enumerate(etags, 1)]
    complete = {"path": "big.bin", "upload_id": created.json()["upload_id"], "parts": listed}
    call("POST", f"{PROXY}/mpu/complete/{root}/data", json=complete)

    # Concurrent registrations spread over the replicas are numbered 1..N.
    call("POST", f"{API}/registered-models/create", json={"name": "Replicated"})
    create = {"name": "Replicated", "source": f"runs:/{run_id}/model", "run_id": run_id}

    def register(_: int) -> int:
        created = call("POST", f"{API}/model-versions/create", json=create)
        return int(created.json()["model_version"]["version"])

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(register, range(12))) == list(range(1, 13))
    call("POST", f"{API}/model-versions/transition-stage",
         json={"name": "Replicated", "version": "12", "stage": "Production",
               "archive_existing_versions": True})  # fmt: skip

    # The official client, on one replica, loads what was stored through all of them.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", urls[2])
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(urls[2])
    mlflow.set_registry_uri(urls[2])
    try:
        loaded = mlflow.pyfunc.load_model("models:/Replicated/Production")
        version = mlflow.MlflowClient().get_model_version("Replicated", "12")
        big = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="data/big.bin", dst_path=str(tmp_path / "down")
        )
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
    rows = [[1.0, 0.0], [0.0, 1.0]]
    assert list(loaded.predict(rows)) == list(model.predict(rows))
    assert version.current_stage == "Production" and version.run_id == run_id
    assert Path(big).read_bytes() == b"".join(parts)
    with registre.Client(urls[0]) as native:
        found = native.get_version("Replicated", 12)
    assert found.metrics == {"accuracy": 0.9} and found.params == {"C": "0.5"}
