"""Scoring servers under load: ``mlflow models serve`` vs ``registre serve`` on the same models.

    .venv/bin/python -m bench.serving [--duration 10] [--connections 16 64] [--json out.json]

Logs an Iris LogisticRegression and an Iris RandomForest (100 trees) into a fresh embedded
registry, then serves each model with MLflow (from the downloaded MLmodel directory, local env
manager) and with Registre, one server at a time, and drives them with wrk: POST /invocations
with a one-row ``dataframe_split`` body. Reports req/s, p50, p99 and the time from starting the
process to its first successful prediction. Needs wrk and mlflow (``pip install mlflow==3.17.2``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench.common import free_port, lua_post, scratch, wrk

BIN = Path(sys.executable).parent
COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
BODY = json.dumps({"dataframe_split": {"columns": COLUMNS, "data": [[5.1, 3.5, 1.4, 0.2]]}})


@dataclass
class Row:
    model: str
    server: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    startup_s: float


def make_models(home: Path) -> dict[str, Path]:
    """Log both models; return their downloaded MLmodel directories (for MLflow)."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    from registre import Client

    features, target = load_iris(return_X_y=True, as_frame=True)
    models = {
        "IrisLogReg": LogisticRegression(max_iter=500).fit(features, target),
        "IrisForest": RandomForestClassifier(n_estimators=100, random_state=0).fit(
            features, target
        ),
    }
    directories = {}
    with Client(home) as client:
        for name, model in models.items():
            version = client.log_model(model, name, input_example=features.head(3))
            client.transition_stage(name, version.version, "Production")
            client.download(name, version.version, home / "mlflow-dirs" / name, "model")
            directories[name] = home / "mlflow-dirs" / name / "model"
    return directories


@contextmanager
def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[tuple[str, float]]:
    """Start a server; yield its URL and the seconds from start to a first good prediction."""
    port = free_port()
    command = [*command, "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    began = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=out)
    try:
        headers = {"Content-Type": "application/json"}
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited; see {log}")
            if time.monotonic() - began > 180:
                raise RuntimeError(f"{command[0]} did not answer within 180 s; see {log}")
            try:
                response = httpx.post(f"{url}/invocations", content=BODY, headers=headers)
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        yield url, time.monotonic() - began
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(
    model: str, server: str, url: str, startup: float, connections: list[int], duration: int
) -> list[Row]:
    script = lua_post("/invocations", BODY)
    wrk(f"{server} warm-up", url, script, connections=16, duration=2)
    rows = []
    for count in connections:
        result = wrk(f"{server} {model}", url, script, connections=count, duration=duration)
        rows.append(Row(model, server, count, result.rps, result.p50_ms, result.p99_ms,
                        result.errors, startup))  # fmt: skip
        print(f"  {server:<9} {model:<11} c={count:<3} {result.rps:8.0f} req/s  "
              f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  "
              f"errors {result.errors}  startup {startup:5.2f} s", flush=True)  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()

    with scratch("registre-bench-serving-") as work:
        home = work / "registry"
        directories = make_models(home)
        env = {
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # mlflow runs `uvicorn`
            "REGISTRE_HOME": str(home),
        }
        rows: list[Row] = []
        for model, directory in directories.items():
            mlflow = [str(BIN / "mlflow"), "models", "serve", "-m", str(directory),
                      "--env-manager", "local", "--host", "127.0.0.1"]  # fmt: skip
            registre = [str(BIN / "registre"), "serve", f"models:/{model}/Production"]
            for server, command in (("mlflow", mlflow), ("registre", registre)):
                with started(command, env, work / f"{server}-{model}.log") as (url, startup):
                    rows += measure(model, server, url, startup, args.connections, args.duration)

    print("\n| model | server | conns | req/s | p50 ms | p99 ms | errors | start→1st prediction |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r.model} | {r.server} | {r.connections} | {r.rps:.0f} | {r.p50_ms:.2f} | "
              f"{r.p99_ms:.2f} | {r.errors} | {r.startup_s:.2f} s |")  # fmt: skip
    print()
    for model in directories:
        for count in args.connections:
            pair = {r.server: r for r in rows if r.model == model and r.connections == count}
            ratio = pair["registre"].rps / max(pair["mlflow"].rps, 1e-9)
            print(f"{model} c={count}: registre/mlflow = {ratio:.1f}x req/s, p99 "
                  f"{pair['registre'].p99_ms:.1f} vs {pair['mlflow'].p99_ms:.1f} ms")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    main()
