"""Deploying registered models: a local process, Docker images, Kubernetes, and cloud platforms.

>>> target = get_target("local", TargetContext(Path("registre-data"), Client))
>>> target.create("iris", "models:/Iris/Production", {"port": "5005"}).endpoint
'http://127.0.0.1:5005'
"""

from registre.deploy.base import Deployment, DeploymentTarget, TargetContext
from registre.deploy.targets import ENTRY_POINT_GROUP, get_target, target_names

__all__ = [
    "ENTRY_POINT_GROUP",
    "Deployment",
    "DeploymentTarget",
    "TargetContext",
    "get_target",
    "target_names",
]
