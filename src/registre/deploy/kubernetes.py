"""The ``kubernetes`` target: a Deployment, a Service and a HorizontalPodAutoscaler running the
model's image, and a KServe ``InferenceService`` as the alternative for KServe clusters.

Config: ``image`` (default ``registre/<model>:v<version>``, see ``registre build-docker``),
``namespace`` (default), ``replicas`` (2), ``min_replicas`` (2), ``max_replicas`` (10),
``target_cpu`` (70 %), ``cpu`` (500m), ``memory`` (1Gi), ``output``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from registre.deploy.base import default_image, int_option, option
from registre.deploy.image import CONTAINER_PORT, USER_ID
from registre.deploy.written import Rendered, WrittenTarget
from registre.domain.entities import ModelVersion

FILES = ("deployment.yaml", "service.yaml", "hpa.yaml")
KSERVE_FILE = "inferenceservice.yaml"


class KubernetesTarget(WrittenTarget):
    name = "kubernetes"

    def render(
        self, name: str, version: ModelVersion, uri: str, config: Mapping[str, str], out: Path
    ) -> Rendered:
        docs = manifests(name, version, uri, config)
        namespace = option(config, "namespace", "default")
        image = option(config, "image", default_image(version))
        apply = " ".join(f"-f {out / f}" for f in FILES)
        return Rendered(
            files=docs,
            commands=[
                f"registre build-docker {uri} -t {image} && docker push {image}",
                f"kubectl apply -n {namespace} {apply}",
                f"# or, on KServe: kubectl apply -n {namespace} -f {out / KSERVE_FILE}",
            ],
            delete_commands=[f"kubectl delete -n {namespace} {apply}"],
            details={"endpoint": f"http://{name}.{namespace}.svc.cluster.local/invocations"},
        )


def manifests(
    name: str, version: ModelVersion, uri: str, config: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The four manifests as dicts (file name → document)."""
    image = option(config, "image", default_image(version))
    namespace = option(config, "namespace", "default")
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "registre"}
    annotations = {"registre.io/model": version.name, "registre.io/version": str(version.version),
                   "registre.io/uri": uri}  # fmt: skip
    meta = {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations}
    container = _container(image, config)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": int_option(config, "replicas", 2),
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": annotations},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": USER_ID,
                        "runAsGroup": USER_ID,
                        "fsGroup": USER_ID,
                    },
                    "containers": [container],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "selector": labels,
            "ports": [
                {"name": "http", "port": 80, "targetPort": CONTAINER_PORT, "protocol": "TCP"}
            ],
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": int_option(config, "min_replicas", 2),
            "maxReplicas": int_option(config, "max_replicas", 10),
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization",
                "averageUtilization": int_option(config, "target_cpu", 70)}}}],
        },
    }  # fmt: skip
    inference_service = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": meta,
        "spec": {
            "predictor": {
                "minReplicas": int_option(config, "min_replicas", 2),
                "maxReplicas": int_option(config, "max_replicas", 10),
                "containers": [{**container, "name": "kserve-container"}],
            }
        },
    }
    return {"deployment.yaml": deployment, "service.yaml": service, "hpa.yaml": hpa,
            KSERVE_FILE: inference_service}  # fmt: skip


def _container(image: str, config: Mapping[str, str]) -> dict[str, Any]:
    cpu, memory = option(config, "cpu", "500m"), option(config, "memory", "1Gi")

    def probe(path: str, delay: int) -> dict[str, Any]:
        return {"httpGet": {"path": path, "port": CONTAINER_PORT},
                "initialDelaySeconds": delay, "periodSeconds": 10, "timeoutSeconds": 5}  # fmt: skip

    return {
        "name": "model",
        "image": image,
        "ports": [{"name": "http", "containerPort": CONTAINER_PORT, "protocol": "TCP"}],
        "env": [{"name": "REGISTRE_PORT", "value": str(CONTAINER_PORT)}],
        "readinessProbe": probe("/v2/health/ready", 5),
        "livenessProbe": probe("/v2/health/live", 15),
        "resources": {
            "requests": {"cpu": cpu, "memory": memory},
            "limits": {"memory": memory},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
