"""A real ``mlflow server`` (SQLite + proxied artifacts) and the registry the tests import.

The server runs in its own process group: ``mlflow server`` starts uvicorn as a child,
which must go down with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.fixtures import free_port, tail

START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0


@dataclass
class MlflowServer:
    root: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def artifacts(self) -> Path:
        return self.root / "mlartifacts"

    @property
    def log_file(self) -> Path:
        return self.root / "mlflow-server.log"

    def start(self) -> None:
        """Start (again, on the same files) and wait for /health."""
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        self.port = free_port()
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(bin_dir / "mlflow"), "server",
                    "--backend-store-uri", self.database_uri,
                    "--artifacts-destination", str(self.artifacts),
                    "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        log_text = self.log_file.read_text(errors="replace")
        pytest.fail(f"mlflow server did not become healthy:\n{tail(log_text)}", pytrace=False)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the group we created: mlflow + uvicorn
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@dataclass(frozen=True)
class Populated:
    """What the tests know about the MLflow registry they built."""

    rows: np.ndarray[Any, Any]  # input rows for Iris
    production_predictions: list[int]  # Iris v3's predictions for ``rows``


def populate(url: str, workdir: Path) -> Populated:
    """Two models: Iris (sklearn logged models, v2 deleted: a gap; runs with artifacts of
    their own) and Plain (a version's files inside its run's artifacts, as MLflow 2 did)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # stages: deprecated, still served
        return _populate(url, workdir)


def _populate(url: str, workdir: Path) -> Populated:
    import mlflow
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    client = MlflowClient(url, url)
    rng = np.random.default_rng(7)
    rows = rng.normal(size=(40, 4))
    labels = (rows[:, 0] + rows[:, 1] > 0).astype(int)

    mlflow.set_experiment("import-iris")
    models = {}
    plot = workdir / "confusion.png"
    plot.write_bytes(rng.bytes(200_000))
    for number, c in ((1, 0.5), (2, 1.0), (3, 2.0)):
        with mlflow.start_run(run_name=f"iris-{number}"):
            mlflow.log_params({"C": c, "solver": "lbfgs"})
            for step, accuracy in enumerate((0.6, 0.7, 0.8 + number / 100)):
                mlflow.log_metric("accuracy", accuracy, step=step)
            mlflow.log_metric("loss", 1 / (number + 1))
            models[number] = LogisticRegression(C=c).fit(rows, labels)
            info = mlflow.sklearn.log_model(
                models[number], name="model", registered_model_name="Iris",
                input_example=rows[:2], params={"penalty": "l2"}, model_type="classifier",
                tags={"framework": "sklearn"},
            )  # fmt: skip
            # The run's own artifacts, beside the logged model.
            mlflow.log_dict({"C": c, "features": 4}, "config/train.json")
            mlflow.log_text(f"run {number}\n", "notes.txt")
            mlflow.log_artifact(str(plot), artifact_path="plots/eval")
    extra = workdir / "extra"
    (extra / "notes").mkdir(parents=True)
    (extra / "README.md").write_text("# Iris v3\nTrained with C=2.\n")
    (extra / "notes" / "eval.json").write_text('{"accuracy": 0.83}\n')
    client.log_model_artifacts(info.model_id, str(extra))  # v3's model: files beyond MLmodel's

    client.delete_model_version("Iris", "2")
    client.update_registered_model("Iris", description="Classifies irises.")
    client.set_registered_model_tag("Iris", "team", "vision")
    client.transition_model_version_stage("Iris", "1", "Archived")
    client.transition_model_version_stage("Iris", "3", "Production")
    client.set_registered_model_alias("Iris", "champion", "3")
    client.set_registered_model_alias("Iris", "first", "1")
    client.update_model_version("Iris", "3", description="C=2, with evaluation notes")
    client.set_model_version_tag("Iris", "3", "validated", "true")

    mlflow.set_experiment("import-plain")
    bundle = workdir / "bundle"
    (bundle / "config").mkdir(parents=True)
    (bundle / "weights.bin").write_bytes(rng.bytes(300_000))
    (bundle / "config" / "params.json").write_text('{"layers": 3}\n')
    with mlflow.start_run(run_name="plain") as run:
        mlflow.log_param("format", "raw")
        mlflow.log_metric("size_mb", 0.3)
        mlflow.log_artifacts(str(bundle), artifact_path="bundle")
    client.create_registered_model("Plain", tags={"kind": "files"}, description="Raw files.")
    source = f"runs:/{run.info.run_id}/bundle"
    client.create_model_version(
        "Plain", source, run_id=run.info.run_id, tags={"origin": "test"}, description="first"
    )
    client.create_model_version("Plain", source, run_id=run.info.run_id)
    client.transition_model_version_stage("Plain", "1", "Staging")
    predictions = [int(p) for p in models[3].predict(rows[:5])]
    return Populated(rows[:5], predictions)
