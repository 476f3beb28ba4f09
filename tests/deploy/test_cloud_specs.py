"""The ``azureml`` and ``vertexai`` targets: specification files and the commands to apply them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from registre import Client
from tests.deploy.conftest import Cli
from tests.serving.support import constant, rows


def test_azureml_writes_an_online_endpoint_and_deployment(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "azure"
    created = json.loads(cli(
        "deploy", "create", "iris-prod", "models:/Iris/Production", "--target", "azureml",
        "-C", f"output={out}", "-C", "image=myacr.azurecr.io/iris:v1",
        "-C", "resource_group=rg-ml", "-C", "workspace=ws-ml", "--json",
    ).stdout)  # fmt: skip
    endpoint = yaml.safe_load((out / "endpoint.yml").read_text())
    assert endpoint["name"] == "iris-prod"
    assert endpoint["$schema"].endswith("managedOnlineEndpoint.schema.json")
    assert endpoint["auth_mode"] == "key"
    deployment = yaml.safe_load((out / "deployment.yml").read_text())
    assert deployment["$schema"].endswith("managedOnlineDeployment.schema.json")
    assert deployment["endpoint_name"] == "iris-prod"
    environment = deployment["environment"]
    assert environment["image"] == "myacr.azurecr.io/iris:v1"
    routes = environment["inference_config"]
    assert routes["scoring_route"] == {"port": 5001, "path": "/score"}
    assert routes["readiness_route"]["path"] == "/ready"
    assert deployment["environment_variables"]["REGISTRE_PLATFORM"] == "azureml"
    assert deployment["tags"]["registre.version"] == "1"
    scope = "--resource-group rg-ml --workspace-name ws-ml"
    assert created["commands"] == [
        "registre build-docker models:/Iris/Production -t myacr.azurecr.io/iris:v1 "
        "&& docker push myacr.azurecr.io/iris:v1",
        f"az ml online-endpoint create --file {out / 'endpoint.yml'} {scope}",
        f"az ml online-deployment create --file {out / 'deployment.yml'} --all-traffic {scope}",
    ]


def test_vertexai_writes_upload_and_deploy_requests(cli: Cli, home: Path, tmp_path: Path) -> None:
    created = json.loads(cli(
        "deploy", "create", "iris", "models:/Iris/Production", "--target", "vertexai",
        "-C", "project=acme", "-C", "region=europe-west1",
        "-C", "image=europe-west1-docker.pkg.dev/acme/models/iris:v1", "--json",
    ).stdout)  # fmt: skip
    out = Path(created["details"]["output"])
    upload = json.loads((out / "model_upload.json").read_text())["model"]
    spec = upload["containerSpec"]
    assert spec["imageUri"] == "europe-west1-docker.pkg.dev/acme/models/iris:v1"
    assert spec["ports"] == [{"containerPort": 8080}]
    assert (spec["predictRoute"], spec["healthRoute"]) == ("/predict", "/health")
    assert upload["labels"] == {"registre-model": "iris", "registre-version": "1"}
    deploy = json.loads((out / "deploy_model.json").read_text())
    assert deploy["deployedModel"]["model"].startswith("projects/acme/locations/europe-west1/")
    assert deploy["trafficSplit"] == {"0": 100}
    assert created["commands"][0].startswith("registre build-docker models:/Iris/Production -t ")
    upload_command = created["commands"][1]
    assert upload_command.startswith("gcloud ai models upload --project=acme --region=europe-west1")
    assert "--container-predict-route=/predict" in upload_command
    assert created["commands"][3].startswith("gcloud ai endpoints deploy-model ENDPOINT_ID")

    # Promoting another version and updating rewrites the files for it.
    with Client(home) as client:
        v2 = client.log_model(constant(1), "Iris", input_example=rows().head(1)).version
        client.transition_stage("Iris", v2, "Production", archive_existing=True)
    updated = json.loads(cli("deploy", "update", "iris", "--target", "vertexai", "--json").stdout)
    assert updated["version"] == str(v2)
    upload = json.loads((out / "model_upload.json").read_text())["model"]
    assert upload["labels"]["registre-version"] == str(v2)
    assert upload["containerSpec"]["imageUri"].endswith("iris:v1")  # config kept
