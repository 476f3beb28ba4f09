"""``MlflowClient`` registry calls and ``models:/`` loading against a Registre server."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import mlflow
import numpy as np
import pytest
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from tests.mlflow_compat.conftest import Server


@dataclass(frozen=True)
class Logged:
    run_id: str
    model_uri: str  # models:/m-<id>
    features: Any
    model: Any


@pytest.fixture(scope="module")
def logged(mlflow_server: Server) -> Iterator[Logged]:
    """One logged sklearn model per server; versions are registered from it cheaply."""
    mlflow.set_tracking_uri(mlflow_server.url)
    mlflow.set_registry_uri(mlflow_server.url)
    features, target = load_iris(return_X_y=True, as_frame=True)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(features, target)
    mlflow.set_experiment(f"registry-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run() as run, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.log_metric("accuracy", model.score(features, target))
        info = mlflow.sklearn.log_model(
            model, name="model", serialization_format="cloudpickle", input_example=features.head(2)
        )
    yield Logged(run.info.run_id, info.model_uri, features, model)


def _versions(client: mlflow.MlflowClient, logged: Logged, name: str, count: int) -> None:
    client.create_registered_model(name, tags={"owner": "ml"}, description="iris")
    for _ in range(count):
        created = client.create_model_version(name, logged.model_uri, run_id=logged.run_id)
        assert created.status == "READY"


def _error(action: Any) -> MlflowException:
    with pytest.raises(MlflowException) as failure:
        action()
    return failure.value


def test_registered_model_crud_and_tags(
    client: mlflow.MlflowClient, logged: Logged, unique: str
) -> None:
    name = f"Crud-{unique}"
    _versions(client, logged, name, 1)
    model = client.get_registered_model(name)
    assert (model.description, model.tags) == ("iris", {"owner": "ml"})
    assert [v.version for v in model.latest_versions] == ["1"]
    client.update_registered_model(name, description="better")
    client.set_registered_model_tag(name, "stage", "beta")
    client.delete_registered_model_tag(name, "owner")
    client.delete_registered_model_tag(name, "never-set")  # idempotent, as in MLflow
    model = client.get_registered_model(name)
    assert (model.description, model.tags) == ("better", {"stage": "beta"})

    client.rename_registered_model(name, f"{name}-renamed")
    assert client.get_model_version(f"{name}-renamed", "1").name == f"{name}-renamed"
    assert _error(lambda: client.get_registered_model(name)).error_code == "RESOURCE_DOES_NOT_EXIST"
    client.delete_registered_model(f"{name}-renamed")
    assert (
        _error(lambda: client.get_registered_model(f"{name}-renamed")).get_http_status_code() == 404
    )


def test_model_versions_update_tags_delete(
    client: mlflow.MlflowClient, logged: Logged, unique: str
) -> None:
    name = f"Versions-{unique}"
    _versions(client, logged, name, 2)
    client.update_model_version(name, "1", description="first")
    client.set_model_version_tag(name, "1", "validated", "yes")
    version = client.get_model_version(name, "1")
    assert (version.description, version.tags) == ("first", {"validated": "yes"})
    assert version.run_id == logged.run_id and version.source == logged.model_uri
    client.delete_model_version_tag(name, "1", "validated")
    assert client.get_model_version(name, "1").tags == {}
    client.delete_model_version(name, "2")
    assert (
        _error(lambda: client.get_model_version(name, "2")).error_code == "RESOURCE_DOES_NOT_EXIST"
    )
    assert (
        _error(lambda: client.get_model_version(name, "abc")).error_code
        == "INVALID_PARAMETER_VALUE"
    )


def test_search_with_mlflow_filters_order_and_pages(
    client: mlflow.MlflowClient, logged: Logged, unique: str
) -> None:
    name = f"Search-{unique}"
    _versions(client, logged, name, 5)
    client.set_model_version_tag(name, "3", "quality", "gold")
    found = client.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"])
    assert [v.version for v in found] == ["1", "2", "3", "4", "5"]
    tagged = client.search_model_versions(f"name = '{name}' and tags.quality = 'gold'")
    assert [v.version for v in tagged] == ["3"]
    by_run = client.search_model_versions(f"run_id IN ('{logged.run_id}') AND name='{name}'")
    assert len(by_run) == 5
    # No order_by: MLflow's default, the most recently updated first.
    client.update_model_version(name, "3", description="the best so far")
    default = client.search_model_versions(f"name = '{name}'")
    assert [v.version for v in default][:1] == ["3"]

    pages, token = [], None
    while True:
        page = client.search_model_versions(
            f"name = '{name}'", max_results=2, order_by=["version_number DESC"], page_token=token
        )
        pages.append([v.version for v in page])
        token = page.token
        if not token:
            break
    assert pages == [["5", "4"], ["3", "2"], ["1"]]

    models = client.search_registered_models(f"name LIKE 'Search-{unique}%'")
    assert [m.name for m in models] == [name]
    assert mlflow.search_registered_models(filter_string=f"name = '{name}'")[0].name == name


def test_stages_latest_versions_and_archive_existing(
    client: mlflow.MlflowClient, logged: Logged, unique: str
) -> None:
    name = f"Stages-{unique}"
    _versions(client, logged, name, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.transition_model_version_stage(name, "1", "production")
        client.transition_model_version_stage(name, "2", "Staging")
        promoted = client.transition_model_version_stage(
            name, "3", "Production", archive_existing_versions=True
        )
        assert promoted.current_stage == "Production"
        stages = {
            v.version: v.current_stage for v in client.search_model_versions(f"name='{name}'")
        }
        assert stages == {"1": "Archived", "2": "Staging", "3": "Production"}
        latest = client.get_latest_versions(name, stages=["Production"])
        assert [v.version for v in latest] == ["3"]
        everything = {v.current_stage: v.version for v in client.get_latest_versions(name)}
        assert everything == {"Archived": "1", "Staging": "2", "Production": "3"}
        bad = _error(lambda: client.transition_model_version_stage(name, "1", "Prod"))
        assert bad.error_code == "INVALID_PARAMETER_VALUE"


def test_aliases_set_get_delete(client: mlflow.MlflowClient, logged: Logged, unique: str) -> None:
    name = f"Aliases-{unique}"
    _versions(client, logged, name, 2)
    client.set_registered_model_alias(name, "champion", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert client.get_registered_model(name).aliases == {"champion": "2"}
    assert client.get_model_version(name, "2").aliases == ["champion"]
    client.delete_registered_model_alias(name, "champion")
    missing = _error(lambda: client.get_model_version_by_alias(name, "champion"))
    assert (missing.error_code, missing.get_http_status_code()) == ("INVALID_PARAMETER_VALUE", 400)


def test_load_by_every_uri_form_and_predict(
    client: mlflow.MlflowClient, logged: Logged, unique: str
) -> None:
    name = f"Load-{unique}"
    _versions(client, logged, name, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.transition_model_version_stage(name, "2", "Production")
    client.set_registered_model_alias(name, "champion", "1")
    expected = logged.model.predict(logged.features.head(4))
    uris = [
        f"models:/{name}/Production", f"models:/{name}/3", f"models:/{name}@champion",
        f"models:/{name}/latest", logged.model_uri, f"runs:/{logged.run_id}/model",
    ]  # fmt: skip
    for uri in uris:
        predictions = mlflow.pyfunc.load_model(uri).predict(logged.features.head(4))
        np.testing.assert_array_equal(predictions, expected, err_msg=uri)
    native = mlflow.sklearn.load_model(f"models:/{name}@champion")
    np.testing.assert_array_equal(native.predict(logged.features.head(4)), expected)
    download = client.get_model_version_download_uri(name, "3")
    assert download.startswith("mlflow-artifacts:/_registry/") and download.endswith("/3")


def test_error_codes_the_client_branches_on(
    server: Server, client: mlflow.MlflowClient, logged: Logged, unique: str
) -> None:
    name = f"Errors-{unique}"
    client.create_registered_model(name)
    duplicate = _error(lambda: client.create_registered_model(name))
    assert (duplicate.error_code, duplicate.get_http_status_code()) == (
        "RESOURCE_ALREADY_EXISTS",
        400,
    )
    missing = _error(lambda: client.get_registered_model(f"nope-{unique}"))
    assert (missing.error_code, missing.get_http_status_code()) == ("RESOURCE_DOES_NOT_EXIST", 404)
    assert mlflow.get_experiment_by_name(f"nope-{unique}") is None
    no_model = _error(lambda: client.create_model_version(f"nope-{unique}", logged.model_uri))
    assert no_model.error_code == "RESOURCE_DOES_NOT_EXIST"
    unknown = httpx.post(f"{server.url}/api/2.0/mlflow/no-such-endpoint", json={})
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    bad_json = httpx.post(
        f"{server.url}/api/2.0/mlflow/registered-models/create", content=b"{not json"
    )
    assert bad_json.status_code == 400 and bad_json.json()["error_code"] == "BAD_REQUEST"
    wrong_type = httpx.post(
        f"{server.url}/api/2.0/mlflow/registered-models/create", json={"name": 3}
    )
    assert wrong_type.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert httpx.get(f"{server.url}/ajax-api/2.0/mlflow/registered-models/get",
                     params={"name": name}).json()["registered_model"]["name"] == name  # fmt: skip
