"""The same MLflow-REST workload against `mlflow server` and against Registre, one after the other.

    .venv/bin/python -m bench.mlflow_compare [--workers 2] [--duration 10] [--warmup 2]
        [--repeat 3] [--transfer-mb 256] [--transfers 5]

Both servers run with SQLite and proxied artifacts on local disk, the same number of workers,
on this machine; wrk drives the REST calls at 16 connections; the official mlflow client times
the log-and-register flow. Prints every figure and the Registre / MLflow ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.common import (
    LoadResult,
    free_port,
    lua_get,
    lua_post,
    lua_put_files,
    median,
    process,
    registre_server,
    scratch,
    wrk,
)

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
API = "/api/2.0/mlflow"
MODEL = "Bench"
SMALL = 64 * 1024  # bytes: a small artifact (MLmodel, environment files, a small model)


@contextmanager
def mlflow_server(workers: int) -> Iterator[str]:
    with scratch("mlflow-bench-") as home:
        yield from _mlflow_server(workers, home)


def _mlflow_server(workers: int, home: Path) -> Iterator[str]:
    port = free_port()
    mlflow = Path(sys.executable).with_name("mlflow")
    cmd = [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--backend-store-uri", f"sqlite:///{home}/mlflow.db",
           "--artifacts-destination", str(home / "artifacts")]  # fmt: skip
    env = {"PATH": f"{mlflow.parent}:{os.environ['PATH']}"}
    with process(cmd, env, f"http://127.0.0.1:{port}/health", home / "server.log"):
        yield f"http://127.0.0.1:{port}"


def log_and_register(url: str, rounds: int) -> tuple[float, str]:
    """Median wall time of: start_run, log params + metrics, sklearn.log_model with
    registered_model_name, end_run. Returns it and the last run id."""
    import mlflow
    import mlflow.sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    warnings.filterwarnings("ignore")
    mlflow.set_tracking_uri(url)
    mlflow.set_experiment("bench")
    x, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=300).fit(x, y)
    times, run_id = [], ""
    for _ in range(rounds):
        started = time.perf_counter()
        with mlflow.start_run() as run:
            mlflow.log_params({"C": 1.0, "max_iter": 300})
            mlflow.log_metrics({"accuracy": 0.97, "f1": 0.96})
            mlflow.sklearn.log_model(
                model, name="model", registered_model_name="BenchFlow", input_example=x.head(2)
            )
            run_id = run.info.run_id
        times.append(time.perf_counter() - started)
    return statistics.median(times), run_id


def seed(url: str, run_id: str, versions: int) -> None:
    with httpx.Client(base_url=url + API, timeout=60) as c:
        c.post("/registered-models/create", json={"name": MODEL}).raise_for_status()
        for _ in range(versions):
            c.post(
                "/model-versions/create",
                json={"name": MODEL, "source": f"runs:/{run_id}/model", "run_id": run_id},
            ).raise_for_status()
        c.post(
            "/registered-models/alias", json={"name": MODEL, "alias": "champion", "version": "7"}
        ).raise_for_status()


def seed_files(url: str, prefix: str, count: int) -> list[str]:
    """Upload ``count`` small files under ``prefix``; return their paths."""
    paths = [f"{prefix}/seed-{i}.bin" for i in range(count)]
    with httpx.Client(base_url=url, timeout=60) as c:
        for path in paths:
            c.put(path, content=os.urandom(SMALL)).raise_for_status()
    return paths


def transfer(url: str, run_path: str, size_mb: int, rounds: int) -> tuple[float, float]:
    """Median upload and download MB/s of one ``size_mb`` file through the artifact proxy.

    The host's dirty pages are flushed before each timed transfer, so neither server pays for
    writes made before its measurement (a server that does not fsync leaves them behind).
    """
    chunk = os.urandom(1024 * 1024)
    up, down = [], []
    with httpx.Client(base_url=url, timeout=600) as c:
        for r in range(rounds):
            path = f"/api/2.0/mlflow-artifacts/artifacts/{run_path}/big-{r}.bin"
            os.sync()
            started = time.perf_counter()
            put_big(c, path, size_mb, chunk)
            up.append(size_mb / (time.perf_counter() - started))
            os.sync()
            started = time.perf_counter()
            get_big(c, path, size_mb)
            down.append(size_mb / (time.perf_counter() - started))
    return median(up), median(down)


def put_big(client: httpx.Client, path: str, size_mb: int, chunk: bytes) -> None:
    """PUT ``size_mb`` copies of a 1 MiB ``chunk``, streamed with its Content-Length (as the
    official client sends a file)."""

    def body() -> Iterator[bytes]:
        for _ in range(size_mb):
            yield chunk

    length = {"Content-Length": str(size_mb * len(chunk))}
    client.put(path, content=body(), headers=length).raise_for_status()


def get_big(client: httpx.Client, path: str, size_mb: int) -> None:
    """GET ``path``, reading the body as it arrives (no re-chunking copies here)."""
    got = 0
    with client.stream("GET", path) as res:
        res.raise_for_status()
        for part in res.iter_raw():
            got += len(part)
    assert got == size_mb * 1024 * 1024, got


# (server, workload) -> (lowest, highest) req/s over the repeated runs
spread: dict[tuple[str, str], tuple[float, float]] = {}


def measure(name: str, server: object, args: argparse.Namespace) -> dict[str, object]:
    with server as url:  # type: ignore[attr-defined]
        flow, run_id = log_and_register(url, args.rounds)
        seed(url, run_id, 50)
        search = quote(f"name='{MODEL}'")
        create = {"name": MODEL, "source": f"runs:/{run_id}/model", "run_id": run_id}
        run = httpx.get(f"{url}{API}/runs/get", params={"run_id": run_id}).json()["run"]["info"]
        run_path = run["artifact_uri"].removeprefix("mlflow-artifacts:/")
        files = f"/api/2.0/mlflow-artifacts/artifacts/{run_path}/small"
        small = seed_files(url, files, 50)
        workloads = {
            "get model": lua_get([f"{API}/registered-models/get?name={MODEL}"]),
            "get version": lua_get(
                [f"{API}/model-versions/get?name={MODEL}&version={v}" for v in range(1, 51)]
            ),
            "resolve alias": lua_get(
                [f"{API}/registered-models/alias?name={MODEL}&alias=champion"]
            ),
            "search versions": lua_get(
                [f"{API}/model-versions/search?max_results=100&filter={search}"]
            ),
            "register version": lua_post(f"{API}/model-versions/create", json.dumps(create)),
            "upload 64 KiB files": lua_put_files(f"{files}/put", SMALL),
            "download 64 KiB files": lua_get(small),
        }
        results: list[LoadResult] = []
        for label, lua in workloads.items():
            # A short discarded run first (first-touch costs: page caches, statement caches),
            # then --repeat runs; the one with the median throughput is reported.
            wrk(label, url, lua, connections=args.connections, duration=args.warmup)
            runs = sorted(
                (wrk(label, url, lua, connections=args.connections, duration=args.duration)
                 for _ in range(args.repeat)),
                key=lambda r: r.rps,
            )  # fmt: skip
            results.append(runs[len(runs) // 2])
            spread[(name, label)] = (runs[0].rps, runs[-1].rps)
        up, down = transfer(url, run_path, args.transfer_mb, args.transfers)
    print(f"\n{name}")
    for r in results:
        print("  " + r.row())
    print(f"  upload {up:.0f} MB/s, download {down:.0f} MB/s; log-and-register flow {flow:.3f} s")
    return {"load": {r.name: r for r in results}, "up": up, "down": down, "flow": flow}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each")
    parser.add_argument("--repeat", type=int, default=3, help="runs per workload (median)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--transfer-mb", type=int, default=256)
    parser.add_argument("--transfers", type=int, default=5, help="timed transfers (median)")
    parser.add_argument("--rounds", type=int, default=5, help="log-and-register repetitions")
    args = parser.parse_args()
    subprocess.run(["wrk", "--version"], capture_output=True, check=False)

    theirs = measure("mlflow server", mlflow_server(args.workers), args)
    ours = measure("registre server", registre_server(args.workers), args)

    print(f"\n{'MLflow REST workload':<22} {'MLflow':>12} {'Registre':>12} {'ratio':>8}")
    for key, r in ours["load"].items():  # type: ignore[union-attr]
        t = theirs["load"][key]  # type: ignore[index]
        print(f"{key + ' req/s':<22} {t.rps:>12.0f} {r.rps:>12.0f} {r.rps / t.rps:>7.1f}x")
        lo_t, hi_t = spread[("mlflow server", key)]
        lo_r, hi_r = spread[("registre server", key)]
        ranges = f"{lo_t:.0f}-{hi_t:.0f}", f"{lo_r:.0f}-{hi_r:.0f}"
        print(f"{'  (range of runs)':<22} {ranges[0]:>12} {ranges[1]:>12}")
        print(f"{key + ' p99 ms':<22} {t.p99_ms:>12.1f} {r.p99_ms:>12.1f} "
              f"{t.p99_ms / r.p99_ms:>7.1f}x lower")  # fmt: skip
        if r.errors or t.errors:
            print(f"{key + ' errors':<22} {t.errors:>12} {r.errors:>12}")
    for key, label in (("up", "upload MB/s"), ("down", "download MB/s")):
        t, r = theirs[key], ours[key]
        print(f"{label:<22} {t:>12.0f} {r:>12.0f} {r / t:>7.1f}x")  # type: ignore[operator]
    t, r = theirs["flow"], ours["flow"]
    print(f"{'log+register flow s':<22} {t:>12.3f} {r:>12.3f} {t / r:>7.1f}x faster")  # type: ignore[operator]


if __name__ == "__main__":
    main()
