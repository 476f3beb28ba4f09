"""The newest MLflow 2.x client, which needs its own virtualenv (mlflow<3 with scikit-learn).

Runs only when ``REGISTRE_MLFLOW2_PYTHON`` names that environment's interpreter, e.g.::

    python -m venv /tmp/venv2 && /tmp/venv2/bin/pip install "mlflow<3" scikit-learn pandas
    REGISTRE_MLFLOW2_PYTHON=/tmp/venv2/bin/python pytest tests/mlflow_compat -k mlflow2
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.mlflow_compat.conftest import Server

SCRIPT = r"""
import os, sys, tempfile, warnings
warnings.simplefilter("ignore")
import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

assert mlflow.__version__.startswith("2."), mlflow.__version__
name = sys.argv[1]
X, y = load_iris(return_X_y=True, as_frame=True)
mlflow.set_experiment(name)
with mlflow.start_run() as run:
    mlflow.log_param("C", 1.0)
    model = LogisticRegression(max_iter=300).fit(X, y)
    mlflow.log_metric("acc", model.score(X, y))
    mlflow.sklearn.log_model(model, artifact_path="model", registered_model_name=name,
                             input_example=X.head(2))
    mlflow.sklearn.log_model(model, artifact_path="model", registered_model_name=name)
client = MlflowClient()
first = client.get_model_version(name, "1")
assert first.status == "READY" and first.run_id == run.info.run_id, first
assert first.source.startswith("mlflow-artifacts:/"), first.source
assert mlflow.register_model(f"runs:/{run.info.run_id}/model", name).version == "3"
client.transition_model_version_stage(name, "3", "Production", archive_existing_versions=True)
client.set_registered_model_alias(name, "champion", "2")
expected = model.predict(X.head(2)).tolist()
for uri in [f"models:/{name}/1", f"models:/{name}/Production", f"models:/{name}@champion",
            f"models:/{name}/latest", f"runs:/{run.info.run_id}/model"]:
    assert mlflow.pyfunc.load_model(uri).predict(X.head(2)).tolist() == expected, uri
files = os.listdir(mlflow.artifacts.download_artifacts(f"models:/{name}/1",
                                                       dst_path=tempfile.mkdtemp()))
assert "input_example.json" in files, files  # version 1 keeps its own files
print("OK")
"""


def test_mlflow_2x_client_logs_registers_and_loads(server: Server, unique: str) -> None:
    python = os.environ.get("REGISTRE_MLFLOW2_PYTHON")
    if not python:
        pytest.skip("set REGISTRE_MLFLOW2_PYTHON to a Python with mlflow<3 to run this")
    env = {**os.environ, "MLFLOW_TRACKING_URI": server.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    result = subprocess.run(
        [python, "-c", SCRIPT, f"Iris2x-{unique}"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-4000:]
