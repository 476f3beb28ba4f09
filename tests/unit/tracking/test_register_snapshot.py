"""What a version registered from a tracked source carries: files, run and logged-model values."""

from __future__ import annotations

import math

import pytest

from registre.domain.errors import InvalidInput, NotFound
from registre.domain.tracking import Metric
from registre.service.registry import Registry
from registre.service.tracking import Tracking


def test_non_finite_metrics_stay_in_the_run_and_out_of_the_version(
    tracking: Tracking, registry: Registry
) -> None:
    run = tracking.create_run("0")
    tracking.log_batch(
        run.id,
        metrics=[Metric("acc", 0.9, 1), Metric("loss", math.nan, 1), Metric("gap", math.inf, 1)],
        params={"C": "1"},
    )
    root = run.artifact_uri.removeprefix("mlflow-artifacts:/")
    tracking.artifacts.put(f"{root}/model/MLmodel", [b"m"])
    registry.create_model("Iris")
    version = tracking.sources.register("Iris", f"runs:/{run.id}/model")
    assert (version.metrics, version.params) == ({"acc": 0.9}, {"C": "1"})
    assert math.isnan(tracking.get_run(run.id).latest_metrics()["loss"])
    assert registry.get_version("Iris", 1) == version  # the returned entity is what a read sees


def test_a_run_path_without_files_resolves_to_the_logged_model_it_produced_last(
    tracking: Tracking, registry: Registry
) -> None:
    run = tracking.create_run("0")
    tracking.log_batch(run.id, metrics=[Metric("acc", 0.5, 1)])
    older = tracking.create_logged_model("0", "model", source_run_id=run.id, params={"k": "1"})
    newer = tracking.create_logged_model("0", "model", source_run_id=run.id, params={"k": "2"})
    tracking.link_models(run.id, outputs=[(older.id, 3), (newer.id, 1)])  # step decides
    for model, body in ((older, b"older"), (newer, b"newer")):
        root = model.artifact_uri.removeprefix("mlflow-artifacts:/")
        tracking.artifacts.put(f"{root}/MLmodel", [body])
    registry.create_model("Iris")
    version = tracking.sources.register("Iris", f"runs:/{run.id}/model")
    assert version.source == f"runs:/{run.id}/model"
    assert (version.params, version.metrics) == ({"k": "1"}, {"acc": 0.5})
    assert [f.path for f in version.files] == ["MLmodel"]


def test_a_missing_model_is_reported_before_a_bad_source(
    tracking: Tracking, registry: Registry
) -> None:
    with pytest.raises(NotFound, match="Ghost"):
        tracking.sources.register("Ghost", "runs:/0123456789abcdef0123456789abcdef/model")
    with pytest.raises(NotFound, match="Ghost"):
        tracking.sources.register("Ghost", "/srv/models/iris")
    registry.create_model("Iris")
    with pytest.raises(InvalidInput, match="Invalid model version source"):
        tracking.sources.register("Iris", "/srv/models/iris")
    with pytest.raises(InvalidInput, match="run id"):
        tracking.sources.register("Iris", "s3://bucket/model", run_id="../etc")
    assert registry.list_versions("Iris") == []


def test_a_version_registered_by_reference_says_so_when_loaded(
    tracking: Tracking, registry: Registry
) -> None:
    from registre.client.client import Client

    registry.create_model("Iris")
    tracking.sources.register("Iris", "s3://bucket/models/iris")
    client = Client.from_backend(registry)  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="by reference to 's3://bucket/models/iris'"):
        client.load_model("models:/Iris/1")
    with pytest.raises(NotFound, match="by reference"):
        client.download("Iris", 1, "unused-target")


def test_a_version_registered_with_a_model_id_is_noted_on_the_logged_model(
    tracking: Tracking, registry: Registry
) -> None:
    model = tracking.create_logged_model("0", "model")
    root = model.artifact_uri.removeprefix("mlflow-artifacts:/")
    tracking.artifacts.put(f"{root}/MLmodel", [b"m"])
    registry.create_model("Iris")
    for _ in range(2):
        tracking.sources.register("Iris", model.artifact_uri, model_id=model.id)
    tag = tracking.get_logged_model(model.id).tags["mlflow.modelVersions"]
    assert tag == '[{"name": "Iris", "version": 1}, {"name": "Iris", "version": 2}]'
    with pytest.raises(NotFound):
        tracking.sources.register("Iris", model.artifact_uri, model_id="m-" + "0" * 32)
    assert len(registry.list_versions("Iris")) == 2


def test_a_source_in_the_proxy_namespace_registers_its_files(
    tracking: Tracking, registry: Registry
) -> None:
    entry = tracking.artifacts.put("shared/iris/model/MLmodel", [b"flavors: {}\n"])
    registry.create_model("Iris")
    version = tracking.sources.register("Iris", "mlflow-artifacts:/shared/iris/model")
    assert [(f.path, f.digest) for f in version.files] == [("MLmodel", entry.digest)]
    assert version.run_id is None
    for bad in ("mlflow-artifacts:", "mlflow-artifacts:/", "mlflow-artifacts://host/shared/iris"):
        with pytest.raises(InvalidInput):
            tracking.sources.register("Iris", bad)
    assert len(registry.list_versions("Iris")) == 1
