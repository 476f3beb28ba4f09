"""Registre's own doors and MLflow's, on one server: a version is the same set of files."""

from __future__ import annotations

import warnings
from pathlib import Path

import mlflow
import numpy as np
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from registre.service.registry import Registry
from tests.mlflow_compat.conftest import Server


def test_version_registered_natively_loads_with_the_mlflow_client(
    server: Server, unique: str, tmp_path: Path
) -> None:
    features, target = load_iris(return_X_y=True, as_frame=True)
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(features, target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(model, tmp_path / "model", serialization_format="cloudpickle")
    name = f"Native {unique}"  # a space: the download URI must still be a clean path
    registry = Registry.open(server.database_url, str(server.artifact_root))
    try:
        registry.register_directory(name, tmp_path / "model", source="registre-sdk")
    finally:
        registry.close()
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/1")
    np.testing.assert_array_equal(loaded.predict(features.head(3)), model.predict(features.head(3)))


def test_overwriting_run_artifacts_does_not_change_a_registered_version(
    server: Server, unique: str, tmp_path: Path
) -> None:
    mlflow.set_experiment(f"immutable-{unique}")
    with mlflow.start_run() as run:
        mlflow.log_text("v1 weights", "model/weights.txt")
        mlflow.log_text("flavors: {}", "model/MLmodel")
    name = f"Immutable-{unique}"
    client = mlflow.MlflowClient()
    client.create_registered_model(name)
    client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
    with mlflow.start_run(run_id=run.info.run_id):
        mlflow.log_text("tampered", "model/weights.txt")
    served = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/1", dst_path=str(tmp_path)))
    assert (served / "weights.txt").read_text() == "v1 weights"
    latest = client.download_artifacts(run.info.run_id, "model/weights.txt", str(tmp_path / "run"))
    assert Path(latest).read_text() == "tampered"
