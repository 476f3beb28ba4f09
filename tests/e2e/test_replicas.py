"""Several stateless server replicas sharing one PostgreSQL database and one S3 bucket."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

import registre

pytestmark = [pytest.mark.postgres, pytest.mark.s3]


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
