"""Registre's native REST API under load (issue targets: reads, registrations, search, MB/s).

    .venv/bin/python -m bench.native [--versions 100000] [--workers 2] [--duration 10]

Seeds a fresh embedded registry (SQLite + local files) with ``--versions`` versions spread over
1,000 models, starts ``registre server`` on it, and drives it with wrk at 16 connections.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.common import LoadResult, lua_get, lua_post, median, registre_server, scratch, wrk
from registre.config import load_settings
from registre.domain.entities import FileEntry, Stage, now_ms
from registre.service.registry import Registry
from registre.store.sql.store import NewEvent, NewVersion, VersionRows

MODELS = 1000


def seed(home: Path, total: int) -> str:
    """Bulk-load ``total`` versions through the store (seeding only; bypasses the service)."""
    settings = load_settings(home=home, database_url="", artifact_root="")
    registry = Registry.open(settings.database_url, settings.artifact_root)
    blob = registry.upload_blob(io.BytesIO(b"bench model bytes"))
    files = (FileEntry("model/model.bin", blob.digest, blob.size),)
    rng = random.Random(7)
    per_model = max(1, total // MODELS)
    now = now_ms()
    started = time.perf_counter()
    with registry.store.write() as tx:
        for m in range(MODELS):
            model_id = tx.insert_model(f"bench-{m:04d}", "", now)
            last = 0
            for _ in range(per_model):
                number = tx.allocate_version(model_id, now)
                new = NewVersion(
                    "READY", "", "bench", None, "bench", now, files,
                    metrics={"accuracy": rng.random(), "f1": rng.random()},
                    params={"C": str(rng.choice([0.1, 1.0, 10.0]))},
                    tags={"team": rng.choice(["a", "b", "c"])},
                )  # fmt: skip
                event = NewEvent(now, "bench", "register_version", f"bench-{m:04d}")
                (last,) = tx.insert_versions([VersionRows(new, event).numbered(model_id, number)])
            tx.update_version(last, stage=Stage.PRODUCTION.value)
            tx.set_alias(model_id, "champion", last)
    registry.close()
    print(f"seeded {MODELS * per_model} versions in {time.perf_counter() - started:.1f}s")
    return blob.digest


def transfer(base: str, size_mb: int, rounds: int) -> tuple[float, float]:
    """Median upload and download MB/s of one ``size_mb`` file through the API."""
    chunk = os.urandom(1024 * 1024)
    up, down = [], []
    with httpx.Client(base_url=base, timeout=600) as client:
        for r in range(rounds):
            salt = f"round {r} {time.time()}".encode()

            def body(salt: bytes = salt):  # type: ignore[no-untyped-def]
                yield salt
                for _ in range(size_mb):
                    yield chunk

            started = time.perf_counter()
            res = client.post("/api/v1/blobs", content=body())
            res.raise_for_status()
            up.append(size_mb / (time.perf_counter() - started))
            blob = res.json()
            name = f"transfer-{r}-{int(time.time())}"
            client.post(
                f"/api/v1/models/{name}/versions",
                json={
                    "files": [{"path": "big.bin", "digest": blob["digest"], "size": blob["size"]}]
                },
            ).raise_for_status()
            hasher = hashlib.sha256()
            started = time.perf_counter()
            with client.stream("GET", f"/api/v1/models/{name}/versions/1/files/big.bin") as stream:
                stream.raise_for_status()
                for part in stream.iter_bytes(1024 * 1024):
                    hasher.update(part)
            down.append(size_mb / (time.perf_counter() - started))
            assert hasher.hexdigest() == blob["digest"]
    return median(up), median(down)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--transfer-mb", type=int, default=256)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with scratch("registre-bench-") as home:
        digest = seed(home, args.versions)
        results: list[LoadResult] = []
        with registre_server(args.workers, home) as base:
            models = [f"/api/v1/models/bench-{m:04d}" for m in range(0, MODELS, 7)]
            load = dict(base_url=base, connections=args.connections, duration=args.duration)
            wrk("warm-up", lua=lua_get(models), **{**load, "duration": 2})  # type: ignore[arg-type]
            results.append(wrk("get model", lua=lua_get(models), **load))  # type: ignore[arg-type]
            per_model = max(1, args.versions // MODELS)
            versions = [f"{m}/versions/{1 + i % per_model}" for i, m in enumerate(models)]
            results.append(wrk("get version", lua=lua_get(versions), **load))  # type: ignore[arg-type]
            aliases = [f"{m}/resolve/@champion" for m in models]
            results.append(wrk("resolve alias", lua=lua_get(aliases), **load))  # type: ignore[arg-type]
            searches = [
                "/api/v1/versions?max_results=100&filter="
                + quote(f"name = 'bench-{m:04d}' and metrics.accuracy > 0.5")
                for m in range(0, MODELS, 13)
            ]
            results.append(wrk("search (name + metric)", lua=lua_get(searches), **load))  # type: ignore[arg-type]
            heavy = "/api/v1/versions?max_results=100&filter=" + quote(
                "metrics.accuracy > 0.9 and stage = 'Production'"
            )
            results.append(wrk("search (metric + stage, 100k)", lua=lua_get([heavy]), **load))  # type: ignore[arg-type]
            single = wrk(
                "search 100k, 1 connection", base, lua_get([heavy]), connections=1,
                duration=args.duration, threads=1,
            )  # fmt: skip
            results.append(single)
            body = json.dumps({"files": [{"path": "model.bin", "digest": digest, "size": 17}]})
            httpx.post(f"{base}/api/v1/models", json={"name": "registrations"}).raise_for_status()
            results.append(
                wrk(
                    "register version",
                    lua=lua_post("/api/v1/models/registrations/versions", body),
                    **load,
                )  # type: ignore[arg-type]
            )
            made = httpx.get(f"{base}/api/v1/models/registrations").json()["latest_version"]
            up, down = transfer(base, args.transfer_mb, 3)

    print(f"\nRegistre native API, {args.workers} workers, {args.connections} connections, "
          f"{args.versions} versions, {os.cpu_count()} cores")  # fmt: skip
    for r in results:
        print(r.row())
    print(f"{'registrations recorded':<34} {made} (1..N, checked by number)")
    print(f"{'upload ' + str(args.transfer_mb) + ' MiB':<34} {up:9.0f} MB/s (median of 3)")
    print(f"{'download ' + str(args.transfer_mb) + ' MiB':<34} {down:9.0f} MB/s (median of 3)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"load": [r.__dict__ for r in results], "upload_mbps": up, "download_mbps": down},
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
