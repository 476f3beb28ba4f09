"""The newest MLflow 2.x client, which needs its own virtualenv (mlflow 2 and 3 cannot share one).

``scripts/bootstrap test`` (so ``make test``) installs ``mlflow2-requirements.txt`` into
``./.venv-mlflow2``; ``REGISTRE_MLFLOW2_PYTHON`` names another interpreter to use instead. Without
one the test is skipped, or fails when ``REGISTRE_REQUIRE_SERVICES=1`` (as in CI).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fixtures import service_unavailable
from tests.mlflow_compat.conftest import Server

DEFAULT_PYTHON = Path(__file__).parents[2] / ".venv-mlflow2" / "bin" / "python"

# Plain 2.x-style training code: `artifact_path=`, stages, runs:/ sources.
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
experiment = mlflow.set_experiment(name)
with mlflow.start_run() as run:
    mlflow.log_param("C", 1.0)
    mlflow.log_params({"solver": "lbfgs", "max_iter": 300})
    model = LogisticRegression(max_iter=300).fit(X, y)
    accuracy = model.score(X, y)
    for step, value in enumerate([0.5, 0.8, accuracy]):
        mlflow.log_metric("acc", value, step=step)
    mlflow.log_metrics({"loss": 0.25})
    mlflow.sklearn.log_model(model, artifact_path="model", registered_model_name=name,
                             input_example=X.head(2))
    # Explicit requirements skip the client's inference (seconds of local work, no request).
    mlflow.sklearn.log_model(model, artifact_path="model", registered_model_name=name,
                             pip_requirements=["scikit-learn"])
run_id = run.info.run_id
client = MlflowClient()

assert run.info.experiment_id == experiment.experiment_id
data = client.get_run(run_id).data
assert data.params == {"C": "1.0", "solver": "lbfgs", "max_iter": "300"}, data.params
assert data.metrics == {"acc": accuracy, "loss": 0.25}, data.metrics
history = client.get_metric_history(run_id, "acc")
assert [(m.step, m.value) for m in history] == [(0, 0.5), (1, 0.8), (2, accuracy)], history
assert [a.path for a in client.list_artifacts(run_id)] == ["model"]

first = client.get_model_version(name, "1")
assert first.status == "READY" and first.run_id == run_id, first
assert first.source.startswith("mlflow-artifacts:/"), first.source
assert client.get_model_version(name, "2").run_id == run_id
assert mlflow.register_model(f"runs:/{run_id}/model", name).version == "3"

client.transition_model_version_stage(name, "1", "Production")
client.transition_model_version_stage(name, "3", "Production", archive_existing_versions=True)
client.set_registered_model_alias(name, "champion", "2")
assert client.get_model_version_by_alias(name, "champion").version == "2"
assert [v.version for v in client.get_latest_versions(name, stages=["Production"])] == ["3"]

found = client.search_model_versions(f"name = '{name}'")
stages = {v.version: v.current_stage for v in found}
assert stages == {"1": "Archived", "2": "None", "3": "Production"}, stages
assert {v.version for v in client.search_model_versions(f"run_id = '{run_id}'")} == {"1", "2", "3"}
newest = client.search_model_versions(f"name = '{name}'", order_by=["version_number DESC"],
                                      max_results=1)
assert [v.version for v in newest] == ["3"], newest

expected = model.predict(X.head(2)).tolist()
for uri in [f"models:/{name}/1", f"models:/{name}/Production", f"models:/{name}@champion",
            f"models:/{name}/latest", f"runs:/{run_id}/model"]:
    assert mlflow.pyfunc.load_model(uri).predict(X.head(2)).tolist() == expected, uri
files = os.listdir(mlflow.artifacts.download_artifacts(f"models:/{name}/1",
                                                       dst_path=tempfile.mkdtemp()))
assert "input_example.json" in files, files  # version 1 keeps its own files
print("OK")
"""


def mlflow2_python() -> str:
    python = os.environ.get("REGISTRE_MLFLOW2_PYTHON") or str(DEFAULT_PYTHON)
    if not os.access(python, os.X_OK):
        service_unavailable(
            f"no MLflow 2.x interpreter at {python} (run `scripts/bootstrap test`,"
            " or set REGISTRE_MLFLOW2_PYTHON)"
        )
    return python


# Once, on SQLite: what is particular to 2.x is the client's calls, and the door under them runs on
# both databases in the 3.x tests; a second pass would only add ~20 s to CI.
@pytest.mark.parametrize("registre_server", ["sqlite"], indirect=True)
def test_mlflow_2x_client_logs_registers_and_loads(server: Server, unique: str) -> None:
    python = mlflow2_python()
    env = {**os.environ, "MLFLOW_TRACKING_URI": server.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    result = subprocess.run(
        [python, "-c", SCRIPT, f"Iris2x-{unique}"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-4000:]
