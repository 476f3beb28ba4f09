"""The ``kubernetes`` target's manifests, loaded into the official client's models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import Cli

kubernetes = pytest.importorskip("kubernetes")


class _Response:
    """What ``ApiClient.deserialize`` reads: an HTTP response with a JSON body."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.data = json.dumps(document)


def _load(path: Path, kind: str) -> Any:
    document = yaml.safe_load(path.read_text())
    model = kubernetes.client.ApiClient().deserialize(_Response(document), kind)
    # Nothing was dropped on the way: every key we wrote is a field the model knows.
    assert kubernetes.client.ApiClient().sanitize_for_serialization(model) == document
    return model


def test_manifests_are_valid_kubernetes_objects(cli: Cli, home: Path) -> None:
    created = json.loads(cli(
        "deploy", "create", "iris", "models:/Iris/Production", "--target", "kubernetes",
        "-C", "image=registry.example/iris:v1", "-C", "namespace=ml", "-C", "max_replicas=6",
        "--json",
    ).stdout)  # fmt: skip
    out = Path(created["details"]["output"])
    assert any(c.startswith(f"kubectl apply -n ml -f {out}") for c in created["commands"])

    deployment = _load(out / "deployment.yaml", "V1Deployment")
    assert deployment.metadata.namespace == "ml"
    assert deployment.metadata.annotations["registre.io/version"] == "1"
    pod = deployment.spec.template.spec
    assert pod.security_context.run_as_non_root is True
    container = pod.containers[0]
    assert container.image == "registry.example/iris:v1"
    assert container.ports[0].container_port == 8080
    assert container.readiness_probe.http_get.path == "/v2/health/ready"
    assert container.liveness_probe.http_get.path == "/v2/health/live"
    assert deployment.spec.selector.match_labels == deployment.spec.template.metadata.labels

    service = _load(out / "service.yaml", "V1Service")
    assert service.spec.ports[0].target_port == 8080
    assert service.spec.selector == deployment.spec.selector.match_labels

    hpa = _load(out / "hpa.yaml", "V2HorizontalPodAutoscaler")
    assert hpa.spec.scale_target_ref.name == deployment.metadata.name
    assert hpa.spec.max_replicas == 6
    assert hpa.spec.metrics[0].resource.target.average_utilization == 70

    isvc = yaml.safe_load((out / "inferenceservice.yaml").read_text())
    assert (isvc["apiVersion"], isvc["kind"]) == ("serving.kserve.io/v1beta1", "InferenceService")
    kserve = _load_container(isvc["spec"]["predictor"]["containers"][0])
    assert kserve.name == "kserve-container"
    assert kserve.image == "registry.example/iris:v1"

    listed = json.loads(cli("deploy", "list", "--target", "kubernetes", "--json").stdout)
    assert [(d["name"], d["version"]) for d in listed] == [("iris", "1")]
    deleted = cli("deploy", "delete", "iris", "--target", "kubernetes").stdout
    assert "kubectl delete -n ml" in deleted
    assert not out.exists()


def _load_container(document: dict[str, Any]) -> Any:
    return kubernetes.client.ApiClient().deserialize(_Response(document), "V1Container")
