"""Unchanged MLflow code (train, log, register) against a Registre server, seen from both doors."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import httpx
import mlflow
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from tests.mlflow_compat.conftest import Server


@pytest.fixture(scope="module")
def iris() -> tuple[Any, Any, LogisticRegression]:
    features, target = load_iris(return_X_y=True, as_frame=True)
    return features, target, LogisticRegression(max_iter=300).fit(features, target)


def _train_and_log(
    iris: tuple[Any, Any, LogisticRegression], model_name: str, tmp_path: Path, **log_kwargs: Any
) -> tuple[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    features, target, model = iris
    with mlflow.start_run() as run:
        mlflow.log_param("max_iter", 300)
        mlflow.log_params({"solver": "lbfgs", "C": 1.0})
        mlflow.log_metric("accuracy", model.score(features, target))
        mlflow.log_metrics({"f1": 0.95, "loss": 0.3})
        for step, loss in enumerate([0.9, 0.5, 0.2]):
            mlflow.log_metric("train_loss", loss, step=step)
        mlflow.set_tag("team", "vision")
        mlflow.log_dict({"classes": 3}, "config/classes.json")
        figure, axes = plt.subplots()
        axes.plot([1, 2, 3])
        mlflow.log_figure(figure, "plots/curve.png")
        plt.close(figure)
        notes = tmp_path / "notes.txt"
        notes.write_text("trained on iris")
        mlflow.log_artifact(str(notes))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = mlflow.sklearn.log_model(
                model, registered_model_name=model_name, input_example=features.head(3),
                **log_kwargs,
            )  # fmt: skip
    return run.info.run_id, info


def test_log_model_with_registered_name_creates_versions_1_and_2(
    server: Server, iris: Any, unique: str, tmp_path: Path
) -> None:
    mlflow.set_experiment(f"iris-{unique}")
    name = f"IrisClassifierModel-{unique}"
    run_id, first = _train_and_log(iris, name, tmp_path, name="model")
    _, second = _train_and_log(iris, name, tmp_path, name="model")
    assert (str(first.registered_model_version), str(second.registered_model_version)) == ("1", "2")

    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"max_iter": "300", "solver": "lbfgs", "C": "1.0"}
    assert run.data.metrics["train_loss"] == 0.2  # the latest step's value
    assert [m.value for m in client.get_metric_history(run_id, "train_loss")] == [0.9, 0.5, 0.2]
    assert run.data.tags["team"] == "vision"
    listed = {f.path for f in client.list_artifacts(run_id)}
    assert {"config", "plots", "notes.txt"} <= listed
    assert [f.path for f in client.list_artifacts(run_id, "plots")] == ["plots/curve.png"]

    version = client.get_model_version(name, "1")
    assert version.status == "READY" and version.run_id == run_id
    assert version.source == first.model_uri  # models:/m-<id>
    features = iris[0].head(5)
    predictions = mlflow.pyfunc.load_model(f"models:/{name}/1").predict(features)
    np.testing.assert_array_equal(predictions, iris[2].predict(features))


def test_version_registered_by_mlflow_shows_in_registre_with_metrics_params_and_digests(
    server: Server, iris: Any, unique: str, tmp_path: Path
) -> None:
    mlflow.set_experiment(f"cross-door-{unique}")
    name = f"CrossDoor-{unique}"
    run_id, info = _train_and_log(iris, name, tmp_path, name="model")

    native = httpx.get(f"{server.url}/api/v1/models/{name}/versions/1").json()
    assert native["run_id"] == run_id
    assert native["metrics"]["accuracy"] == pytest.approx(iris[2].score(iris[0], iris[1]))
    assert native["metrics"]["train_loss"] == 0.2
    assert native["params"] == {"max_iter": "300", "solver": "lbfgs", "C": "1.0"}

    downloaded = Path(
        mlflow.artifacts.download_artifacts(f"models:/{name}/1", dst_path=tmp_path / "dl")
    )
    files = {p.relative_to(downloaded).as_posix(): p for p in downloaded.rglob("*") if p.is_file()}
    files.pop("registered_model_meta", None)  # written locally by the client after download
    assert {"MLmodel", "model.skops", "input_example.json"} <= set(files)
    digests = {f["path"]: f["digest"] for f in native["files"]}
    assert set(digests) == set(files)
    for path, local in files.items():
        assert digests[path] == hashlib.sha256(local.read_bytes()).hexdigest(), path

    from registre.service.registry import Registry

    registry = Registry.open(server.database_url, str(server.artifact_root))
    try:
        version = registry.get_version(name, 1)
        assert version.source == info.model_uri
        assert version.params["solver"] == "lbfgs"
        assert {f.path for f in version.files} == set(files)
    finally:
        registry.close()


def test_register_model_from_runs_uri_and_logged_model_uri(
    server: Server, iris: Any, unique: str, tmp_path: Path
) -> None:
    mlflow.set_experiment(f"register-{unique}")
    run_id, info = _train_and_log(iris, f"Base-{unique}", tmp_path, name="model")
    name = f"Registered-{unique}"
    from_run = mlflow.register_model(f"runs:/{run_id}/model", name)
    from_model = mlflow.register_model(info.model_uri, name)
    assert (from_run.version, from_model.version) == ("1", "2")
    assert from_run.run_id == run_id and from_model.run_id == run_id
    for version in ("1", "2"):
        loaded = mlflow.sklearn.load_model(f"models:/{name}/{version}")
        assert loaded.predict(iris[0].head(2)).tolist() == iris[2].predict(iris[0].head(2)).tolist()


def test_2x_style_artifact_path_still_logs_and_registers(
    server: Server, iris: Any, unique: str, tmp_path: Path
) -> None:
    mlflow.set_experiment(f"legacy-{unique}")
    name = f"Legacy-{unique}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_id, info = _train_and_log(iris, name, tmp_path, artifact_path="model")
    assert str(info.registered_model_version) == "1"
    version = mlflow.MlflowClient().get_model_version(name, "1")
    assert version.status == "READY" and version.run_id == run_id
    loaded = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    assert len(loaded.predict(iris[0].head(3))) == 3


def test_run_lifecycle_params_are_immutable_and_metrics_keep_history(
    server: Server, unique: str
) -> None:
    client = mlflow.MlflowClient()
    experiment_id = client.create_experiment(f"lifecycle-{unique}")
    assert client.get_experiment_by_name(f"lifecycle-{unique}").experiment_id == experiment_id
    run = client.create_run(experiment_id, run_name="first")
    client.log_param(run.info.run_id, "alpha", "0.1")
    client.log_param(run.info.run_id, "alpha", "0.1")  # the same value again is fine
    with pytest.raises(mlflow.exceptions.MlflowException) as failure:
        client.log_param(run.info.run_id, "alpha", "0.2")
    assert failure.value.error_code == "INVALID_PARAMETER_VALUE"
    client.log_batch(
        run.info.run_id,
        metrics=[
            mlflow.entities.Metric("m", v, 1000 + i, i) for i, v in enumerate([3.0, 1.0, 2.0])
        ],
    )
    assert client.get_run(run.info.run_id).data.metrics["m"] == 2.0
    client.set_terminated(run.info.run_id, "KILLED")
    assert client.get_run(run.info.run_id).info.status == "KILLED"
    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run.info.run_id)
    found = client.search_runs([experiment_id], "params.alpha = '0.1' and metrics.m > 1")
    assert [r.info.run_id for r in found] == [run.info.run_id]
    assert client.get_experiment("0").name == "Default"


def test_artifact_json_and_text_round_trip(server: Server, unique: str, tmp_path: Path) -> None:
    mlflow.set_experiment(f"artifacts-{unique}")
    with mlflow.start_run() as run:
        mlflow.log_text("hello", "texts/a.txt")
        mlflow.log_dict({"k": [1, 2]}, "data.json")
    target = Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=tmp_path))
    assert (target / "texts" / "a.txt").read_text() == "hello"
    assert json.loads((target / "data.json").read_text()) == {"k": [1, 2]}
    single = mlflow.MlflowClient().download_artifacts(
        run.info.run_id, "texts/a.txt", str(tmp_path / "one")
    )
    assert Path(single).read_text() == "hello"


def test_dataset_inputs_are_recorded(server: Server, unique: str) -> None:
    import pandas as pd

    mlflow.set_experiment(f"datasets-{unique}")
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
    dataset = mlflow.data.from_pandas(frame, name="toy", targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.digest) for i in inputs] == [("toy", dataset.digest)]
    assert {t.key: t.value for t in inputs[0].tags}["mlflow.data.context"] == "training"
