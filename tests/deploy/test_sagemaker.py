"""The ``sagemaker`` target against moto's standalone server (a real process speaking the API)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from registre import Client
from tests.deploy.conftest import Cli
from tests.fixtures.s3 import CREDENTIALS, REGION
from tests.serving.support import constant, rows

ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/registre-iris:v1"


@pytest.fixture
def update_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """moto does not implement UpdateEndpoint: its requests are recorded and answered here
    (everything else reaches the moto server)."""
    from registre.deploy import sagemaker

    calls: list[dict[str, Any]] = []
    real_client = sagemaker._client

    def answer(params: dict[str, Any], **_: Any) -> tuple[object, dict[str, Any]]:
        calls.append(json.loads(params["body"]))  # the request as it would go on the wire
        return _Http(), {"EndpointArn": f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/x"}

    def client(config: Any) -> Any:
        sm = real_client(config)
        sm.meta.events.register("before-call.sagemaker.UpdateEndpoint", answer)
        return sm

    monkeypatch.setattr(sagemaker, "_client", client)
    return calls


class _Http:
    status_code = 200
    headers: dict[str, str] = {}


@pytest.fixture
def aws(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> object:
    """boto3 pointed at the moto server (which serves every AWS API, SageMaker included)."""
    for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": s3_server, "AWS_REGION": REGION,
                        "AWS_DEFAULT_REGION": REGION}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    import boto3

    return boto3.client("sagemaker")


def test_sagemaker_create_update_blue_green_and_delete(
    cli: Cli, home: Path, aws: object, update_calls: list[dict[str, Any]]
) -> None:
    sm = aws
    config = ["-C", f"image={IMAGE}", "-C", f"execution_role_arn={ROLE}"]
    missing = cli("deploy", "create", "iris", "models:/Iris/Production", "-t", "sagemaker", code=2)
    assert "execution_role_arn" in missing.stderr

    created = json.loads(cli("deploy", "create", "iris", "models:/Iris/Production",
                             "-t", "sagemaker", *config, "--json").stdout)  # fmt: skip
    assert created["version"] == "1"
    assert created["uri"] == "models:/Iris/Production"
    first_config = created["details"]["endpoint_config"]
    endpoint = sm.describe_endpoint(EndpointName="iris")  # type: ignore[attr-defined]
    assert endpoint["EndpointConfigName"] == first_config
    model = sm.describe_model(ModelName=created["details"]["model_name"])  # type: ignore[attr-defined]
    assert model["PrimaryContainer"]["Image"] == IMAGE
    assert model["ExecutionRoleArn"] == ROLE
    again = cli("deploy", "create", "iris", "models:/Iris/1", "-t", "sagemaker", *config, code=5)
    assert "SageMaker endpoint 'iris' exists" in again.stderr

    with Client(home) as client:
        v2 = client.log_model(constant(1), "Iris", input_example=rows().head(1)).version
        client.transition_stage("Iris", v2, "Production", archive_existing=True)
    update = ["deploy", "update", "iris", "-t", "sagemaker", "-C", "instance_count=2", "--json"]
    updated = json.loads(cli(*update).stdout)
    assert updated["version"] == str(v2)  # the endpoint's tags follow at once
    # A new model and endpoint configuration, and the endpoint moved to them blue/green.
    (call,) = update_calls
    assert call["EndpointName"] == "iris"
    assert call["EndpointConfigName"] != first_config
    policy = call["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"
    new_config = sm.describe_endpoint_config(EndpointConfigName=call["EndpointConfigName"])  # type: ignore[attr-defined]
    variant = new_config["ProductionVariants"][0]
    assert variant["InitialInstanceCount"] == 2
    new_model = sm.describe_model(ModelName=variant["ModelName"])  # type: ignore[attr-defined]
    assert new_model["PrimaryContainer"]["Image"] == IMAGE  # kept from the first deployment
    tags = sm.list_tags(ResourceArn=new_model["ModelArn"])["Tags"]  # type: ignore[attr-defined]
    assert {"Key": "registre.version", "Value": str(v2)} in tags

    listed = json.loads(cli("deploy", "list", "-t", "sagemaker", "--json").stdout)
    assert [(d["name"], d["version"]) for d in listed] == [("iris", str(v2))]

    cli("deploy", "delete", "iris", "-t", "sagemaker")
    assert sm.list_endpoints()["Endpoints"] == []  # type: ignore[attr-defined]
    assert sm.list_endpoint_configs(NameContains="iris")["EndpointConfigs"] == []  # type: ignore[attr-defined]
    assert sm.list_models(NameContains="iris")["Models"] == []  # type: ignore[attr-defined]
    assert "no SageMaker endpoint" in cli("deploy", "get", "iris", "-t", "sagemaker", code=4).stderr
