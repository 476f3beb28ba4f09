"""The ``sagemaker`` target: a SageMaker model, endpoint configuration and endpoint (boto3).

The model's container is the image ``registre build-docker`` makes (pushed to ECR): SageMaker
starts it with ``serve`` and talks to ``/ping`` and ``/invocations`` on port 8080. ``update``
creates a new model and endpoint configuration and moves the endpoint to them with a blue/green
deployment: SageMaker keeps the old fleet serving until the new one is healthy.

Config: ``image`` (required: the ECR image URI), ``execution_role_arn`` (required),
``instance_type`` (ml.m5.large), ``instance_count`` (1), ``region`` (from the AWS environment),
``endpoint_url`` (default from ``AWS_ENDPOINT_URL``, for tests against a local server).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from registre.deploy.base import Deployment, TargetContext, check_name, int_option, option
from registre.domain.entities import ModelVersion
from registre.domain.errors import AlreadyExists, Conflict, InvalidInput, NotFound

T = TypeVar("T")

MANAGED_TAG = "registre.deployment"
NAME = "sagemaker"


def _aws_errors(method: Callable[..., T]) -> Callable[..., T]:
    """AWS's refusals as Registre errors: one line and an exit code, not a traceback."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(*args, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise Conflict(f"SageMaker: {error.get('Code')}: {error.get('Message')}") from exc
        except BotoCoreError as exc:
            raise InvalidInput(f"SageMaker: {exc}") from exc

    return wrapper


class SageMakerTarget:
    name = NAME

    def __init__(self, context: TargetContext) -> None:
        self.context = context

    @_aws_errors
    def create(self, name: str, uri: str, config: Mapping[str, str]) -> Deployment:
        check_name(name)
        sm = _client(config)
        if _endpoint(sm, name) is not None:
            raise AlreadyExists(f"SageMaker endpoint {name!r} exists: update or delete it")
        version = self.context.client.resolve_uri(uri)
        endpoint_config = self._model_and_config(sm, name, version, uri, config)
        sm.create_endpoint(
            EndpointName=name, EndpointConfigName=endpoint_config, Tags=_tags(name, version, uri)
        )
        return self.get(name, config)

    @_aws_errors
    def update(self, name: str, uri: str | None, config: Mapping[str, str]) -> Deployment:
        sm = _client(config)
        current = self.get(name, config)
        uri = uri or current.uri
        merged = {**current.details.get("config", {}), **config}
        version = self.context.client.resolve_uri(uri)
        endpoint_config = self._model_and_config(sm, name, version, uri, merged)
        sm.update_endpoint(
            EndpointName=name,
            EndpointConfigName=endpoint_config,
            DeploymentConfig={
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "ALL_AT_ONCE",
                        "WaitIntervalInSeconds": 0,
                    },
                    "TerminationWaitInSeconds": 300,
                    "MaximumExecutionTimeoutInSeconds": 3600,
                },
            },
        )
        arn = sm.describe_endpoint(EndpointName=name)["EndpointArn"]
        sm.add_tags(ResourceArn=arn, Tags=_tags(name, version, uri))
        return self.get(name, config)

    @_aws_errors
    def delete(self, name: str, config: Mapping[str, str]) -> None:
        sm = _client(config)
        if _endpoint(sm, name) is None:
            raise NotFound(f"no SageMaker endpoint {name!r}")
        sm.delete_endpoint(EndpointName=name)
        # Every configuration and model this deployment ever used (updates keep the old ones
        # until the endpoint has moved on).
        for item in _paged(sm, "list_endpoint_configs", "EndpointConfigs", NameContains=name):
            if _managed_by(sm, item["EndpointConfigArn"], name):
                sm.delete_endpoint_config(EndpointConfigName=item["EndpointConfigName"])
        for item in _paged(sm, "list_models", "Models", NameContains=name):
            if _managed_by(sm, item["ModelArn"], name):
                sm.delete_model(ModelName=item["ModelName"])

    @_aws_errors
    def list(self, config: Mapping[str, str]) -> list[Deployment]:
        sm = _client(config)
        names = [
            e["EndpointName"]
            for e in _paged(sm, "list_endpoints", "Endpoints")
            if _managed_by(sm, e["EndpointArn"], e["EndpointName"])
        ]
        return [self.get(n, config) for n in sorted(names)]

    @_aws_errors
    def get(self, name: str, config: Mapping[str, str]) -> Deployment:
        sm = _client(config)
        endpoint = _endpoint(sm, name)
        if endpoint is None:
            raise NotFound(f"no SageMaker endpoint {name!r}")
        tags = {
            t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]
        }
        endpoint_config = sm.describe_endpoint_config(
            EndpointConfigName=endpoint["EndpointConfigName"]
        )
        variant = endpoint_config["ProductionVariants"][0]
        model = sm.describe_model(ModelName=variant["ModelName"])
        details = {
            "endpoint_config": endpoint["EndpointConfigName"],
            "model_name": variant["ModelName"],
            "image": model["PrimaryContainer"]["Image"],
            "instance_type": variant.get("InstanceType"),
            "instance_count": variant.get("InitialInstanceCount"),
            "arn": endpoint["EndpointArn"],
            "config": {
                "image": model["PrimaryContainer"]["Image"],
                "execution_role_arn": model["ExecutionRoleArn"],
                "instance_type": str(variant.get("InstanceType")),
                "instance_count": str(variant.get("InitialInstanceCount")),
            },
        }
        return Deployment(
            name, NAME, tags.get("registre.uri", ""), endpoint["EndpointStatus"],
            tags.get("registre.version"), f"sagemaker:/{name}/invocations", details,
        )  # fmt: skip

    def _model_and_config(
        self, sm: Any, name: str, version: ModelVersion, uri: str, config: Mapping[str, str]
    ) -> str:
        image = config.get("image")
        role = config.get("execution_role_arn")
        if not image or not role:
            raise InvalidInput(
                "sagemaker needs -C image=<ECR image URI from `registre build-docker`> and "
                "-C execution_role_arn=<IAM role SageMaker assumes>"
            )
        stamp = time.strftime("%Y%m%d%H%M%S") + f"{int(time.time() * 1000) % 1000:03d}"
        # SageMaker names: at most 63 characters.
        model_name = f"{name}-v{version.version}-{stamp}"[-63:].lstrip("-")
        tags = _tags(name, version, uri)
        sm.create_model(
            ModelName=model_name,
            PrimaryContainer={"Image": image, "Environment": {"REGISTRE_LOG_LEVEL": "info"}},
            ExecutionRoleArn=role,
            Tags=tags,
        )
        config_name = f"{name}-{stamp}"[-63:].lstrip("-")
        sm.create_endpoint_config(
            EndpointConfigName=config_name,
            ProductionVariants=[{
                "VariantName": "primary", "ModelName": model_name,
                "InitialInstanceCount": int_option(config, "instance_count", 1),
                "InstanceType": option(config, "instance_type", "ml.m5.large"),
                "InitialVariantWeight": 1.0,
            }],
            Tags=tags,
        )  # fmt: skip
        return config_name


def _client(config: Mapping[str, str]) -> Any:
    import boto3

    kwargs = {}
    if config.get("region"):
        kwargs["region_name"] = config["region"]
    if config.get("endpoint_url"):
        kwargs["endpoint_url"] = config["endpoint_url"]
    return boto3.client("sagemaker", **kwargs)


def _tags(name: str, version: ModelVersion, uri: str) -> list[dict[str, str]]:
    return [
        {"Key": MANAGED_TAG, "Value": name},
        {"Key": "registre.model", "Value": version.name},
        {"Key": "registre.version", "Value": str(version.version)},
        {"Key": "registre.uri", "Value": uri},
    ]


def _endpoint(sm: Any, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = sm.describe_endpoint(EndpointName=name)
        return found
    except sm.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("ValidationException", "ResourceNotFound"):
            return None
        raise


def _managed_by(sm: Any, arn: str, name: str) -> bool:
    tags = sm.list_tags(ResourceArn=arn).get("Tags", [])
    return any(t["Key"] == MANAGED_TAG and t["Value"] == name for t in tags)


def _paged(sm: Any, method: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = getattr(sm, method)(**kwargs, **({"NextToken": token} if token else {}))
        items.extend(page.get(key, []))
        token = page.get("NextToken")
        if not token:
            return items
