"""The ``vertexai`` target: a Vertex AI model upload and an endpoint deployment.

Writes ``model_upload.json`` (the ``models.upload`` request body) and ``deploy_model.json``
(the ``endpoints.deployModel`` body) and prints the equivalent ``gcloud ai`` commands. Vertex
starts the container with ``AIP_HTTP_PORT``, ``AIP_HEALTH_ROUTE`` and ``AIP_PREDICT_ROUTE``,
which Registre's image honours (``{"instances": [...]}`` → ``{"predictions": [...]}``).

Config: ``image`` (an Artifact Registry image; default ``registre/<model>:v<version>``),
``project`` and ``region`` (placeholders when absent), ``machine_type`` (n1-standard-2),
``min_replicas`` (1), ``max_replicas`` (2), ``output``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from registre.deploy.base import default_image, int_option, option
from registre.deploy.image import CONTAINER_PORT
from registre.deploy.written import Rendered, WrittenTarget
from registre.domain.entities import ModelVersion

PREDICT_ROUTE = "/predict"
HEALTH_ROUTE = "/health"


class VertexAITarget(WrittenTarget):
    name = "vertexai"

    def render(
        self, name: str, version: ModelVersion, uri: str, config: Mapping[str, str], out: Path
    ) -> Rendered:
        upload, deploy = specs(name, version, uri, config)
        region = option(config, "region", "<region>")
        project = option(config, "project", "<project>")
        spec = upload["model"]["containerSpec"]
        image = spec["imageUri"]
        env = ",".join(f"{e['name']}={e['value']}" for e in spec["env"])
        resources = deploy["deployedModel"]["dedicatedResources"]
        return Rendered(
            files={"model_upload.json": upload, "deploy_model.json": deploy},
            commands=[
                f"registre build-docker {uri} -t {image} && docker push {image}",
                f"gcloud ai models upload --project={project} --region={region} "
                f"--display-name={name} --container-image-uri={spec['imageUri']} "
                f"--container-predict-route={PREDICT_ROUTE} "
                f"--container-health-route={HEALTH_ROUTE} "
                f"--container-ports={CONTAINER_PORT} --container-env-vars={env}",
                f"gcloud ai endpoints create --project={project} --region={region} "
                f"--display-name={name}",
                f"gcloud ai endpoints deploy-model ENDPOINT_ID --project={project} "
                f"--region={region} --model=MODEL_ID --display-name={name} "
                f"--machine-type={resources['machineSpec']['machineType']} "
                f"--min-replica-count={resources['minReplicaCount']} "
                f"--max-replica-count={resources['maxReplicaCount']} --traffic-split=0=100",
            ],
            delete_commands=[
                f"gcloud ai endpoints undeploy-model ENDPOINT_ID --project={project} "
                f"--region={region} --deployed-model-id=DEPLOYED_MODEL_ID",
                f"gcloud ai endpoints delete ENDPOINT_ID --project={project} --region={region}",
                f"gcloud ai models delete MODEL_ID --project={project} --region={region}",
            ],
        )


def specs(
    name: str, version: ModelVersion, uri: str, config: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(models.upload body, endpoints.deployModel body)."""
    labels = {"registre-model": _label(version.name), "registre-version": str(version.version)}
    upload = {
        "model": {
            "displayName": name,
            "description": f"{version.name} v{version.version} ({uri}), served by Registre",
            "labels": labels,
            "containerSpec": {
                "imageUri": option(config, "image", default_image(version)),
                "predictRoute": PREDICT_ROUTE,
                "healthRoute": HEALTH_ROUTE,
                "ports": [{"containerPort": CONTAINER_PORT}],
                "env": [{"name": "REGISTRE_LOG_LEVEL", "value": "info"}],
            },
        }
    }
    project, region = option(config, "project", "PROJECT"), option(config, "region", "REGION")
    deploy = {
        "deployedModel": {
            "model": f"projects/{project}/locations/{region}/models/MODEL_ID",
            "displayName": name,
            "dedicatedResources": {
                "machineSpec": {"machineType": option(config, "machine_type", "n1-standard-2")},
                "minReplicaCount": int_option(config, "min_replicas", 1),
                "maxReplicaCount": int_option(config, "max_replicas", 2),
            },
        },
        "trafficSplit": {"0": 100},
    }
    return upload, deploy


def _label(text: str) -> str:
    # Label values: lowercase letters, digits, '-' and '_', at most 63 characters.
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text.lower())[:63]
