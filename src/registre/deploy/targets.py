"""Finding deployment targets: the built-ins, then the ``registre.deploy_targets`` entry points."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points

from registre.deploy.base import DeploymentTarget, TargetContext, TargetFactory
from registre.domain.errors import InvalidInput

ENTRY_POINT_GROUP = "registre.deploy_targets"

# Registered in code so they work without reinstalling the package (entry points need that).
BUILTIN = {
    "local": "registre.deploy.local:LocalTarget",
    "docker": "registre.deploy.docker:DockerTarget",
    "kubernetes": "registre.deploy.kubernetes:KubernetesTarget",
    "sagemaker": "registre.deploy.sagemaker:SageMakerTarget",
    "azureml": "registre.deploy.azureml:AzureMLTarget",
    "vertexai": "registre.deploy.vertexai:VertexAITarget",
}


def target_names() -> list[str]:
    plugins = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(set(BUILTIN) | plugins)


def get_target(name: str, context: TargetContext) -> DeploymentTarget:
    """The target called ``name``; a plugin of the same name as a built-in wins."""
    factory: TargetFactory | None = None
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            factory = ep.load()
            break
    if factory is None and name in BUILTIN:
        module, _, attribute = BUILTIN[name].partition(":")
        factory = getattr(import_module(module), attribute)
    if factory is None:
        raise InvalidInput(f"unknown deployment target {name!r}: use one of {target_names()}")
    return factory(context)
