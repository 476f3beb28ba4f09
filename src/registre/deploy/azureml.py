"""The ``azureml`` target: a managed online endpoint and deployment for the model's image.

Writes ``endpoint.yml`` and ``deployment.yml`` (Azure ML CLI v2 schemas) and prints the
``az ml`` commands that apply them. The container is Registre's image in its Azure ML mode
(``REGISTRE_PLATFORM=azureml``): port 5001, ``/score``, liveness ``/``, readiness ``/ready``.

Config: ``image`` (an ACR image; default ``registre/<model>:v<version>``), ``resource_group``
and ``workspace`` (placeholders in the commands when absent), ``instance_type``
(Standard_DS3_v2), ``instance_count`` (1), ``deployment`` (blue), ``output``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from registre.deploy.base import default_image, int_option, option, slug
from registre.deploy.written import Rendered, WrittenTarget
from registre.domain.entities import ModelVersion

PORT = 5001
SCORING_ROUTE = "/score"
LIVENESS_ROUTE = "/"
READINESS_ROUTE = "/ready"
ENDPOINT_SCHEMA = "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json"
DEPLOYMENT_SCHEMA = (
    "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json"
)


class AzureMLTarget(WrittenTarget):
    name = "azureml"

    def render(
        self, name: str, version: ModelVersion, uri: str, config: Mapping[str, str], out: Path
    ) -> Rendered:
        endpoint, deployment = specs(name, version, uri, config)
        image = deployment["environment"]["image"]
        scope = (
            f"--resource-group {option(config, 'resource_group', '<resource-group>')} "
            f"--workspace-name {option(config, 'workspace', '<workspace>')}"
        )
        return Rendered(
            files={"endpoint.yml": endpoint, "deployment.yml": deployment},
            commands=[
                f"registre build-docker {uri} -t {image} && docker push {image}",
                f"az ml online-endpoint create --file {out / 'endpoint.yml'} {scope}",
                f"az ml online-deployment create --file {out / 'deployment.yml'} "
                f"--all-traffic {scope}",
            ],
            delete_commands=[f"az ml online-endpoint delete --name {name} --yes {scope}"],
            details={"scoring_route": SCORING_ROUTE, "deployment": deployment["name"]},
        )


def specs(
    name: str, version: ModelVersion, uri: str, config: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(endpoint, deployment) documents."""
    tags = {"registre.model": version.name, "registre.version": str(version.version),
            "registre.uri": uri}  # fmt: skip
    endpoint = {"$schema": ENDPOINT_SCHEMA, "name": name, "auth_mode": "key", "tags": tags}
    deployment = {
        "$schema": DEPLOYMENT_SCHEMA,
        "name": option(config, "deployment", "blue"),
        "endpoint_name": name,
        "environment": {
            "name": f"registre-{slug(version.name)}",
            "version": str(version.version),
            "image": option(config, "image", default_image(version)),
            "inference_config": {
                "liveness_route": {"port": PORT, "path": LIVENESS_ROUTE},
                "readiness_route": {"port": PORT, "path": READINESS_ROUTE},
                "scoring_route": {"port": PORT, "path": SCORING_ROUTE},
            },
        },
        "environment_variables": {
            "REGISTRE_PLATFORM": "azureml",
            "REGISTRE_PORT": str(PORT),
            "REGISTRE_SCORING_ROUTE": SCORING_ROUTE,
            "REGISTRE_LIVENESS_ROUTE": LIVENESS_ROUTE,
            "REGISTRE_READINESS_ROUTE": READINESS_ROUTE,
        },
        "instance_type": option(config, "instance_type", "Standard_DS3_v2"),
        "instance_count": int_option(config, "instance_count", 1),
        "tags": tags,
    }
    return endpoint, deployment
