"""`mlflow models serve -m models:/Name/Production` with MLFLOW_TRACKING_URI at Registre."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import httpx
import mlflow
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from tests.fixtures import free_port, tail
from tests.mlflow_compat.conftest import Server


@pytest.mark.timeout(300)
def test_mlflow_models_serve_loads_a_stage_from_registre(
    server: Server, unique: str, tmp_path: Path
) -> None:
    features, target = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=300).fit(features, target)
    name = f"Served-{unique}"
    mlflow.set_experiment(f"serve-{unique}")
    with mlflow.start_run(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.log_model(
            model, name="model", registered_model_name=name, input_example=features.head(2)
        )
    mlflow.MlflowClient().transition_model_version_stage(name, "1", "Production")

    port = free_port()
    bindir = Path(sys.executable).parent
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": server.url,
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(bindir / "mlflow"),
                "models",
                "serve",
                "-m",
                f"models:/{name}/Production",
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, tail(log.read_text(errors="replace"))
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise AssertionError("mlflow models serve did not start:\n" + tail(log.read_text()))
        rows = features.head(4)
        res = httpx.post(
            f"http://127.0.0.1:{port}/invocations",
            json={"dataframe_split": rows.to_dict(orient="split")},
            timeout=30,
        )
        assert res.status_code == 200, res.text
        assert res.json()["predictions"] == model.predict(rows).tolist()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
